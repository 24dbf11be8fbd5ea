"""An intervention's measurement as a background job: what identifies it, how it is computed and shown.

The key of a measurement is the intervention (kind and id), the goal being
tried (None: the saved one), the traffic switches, and what the measurement
depends on that can change without new data: the saved goal, the targeted
segments (a flag's: its rules') and the intervention's dates. Exposures and
events move the project's data version instead (exposures are written by the
ingest drain, which moves it once per chunk).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from interventions.measure import Measurement, lift_measure, measure
from interventions.views.common import MODELS, present, targeted_segment_ids
from jobs.kinds import JobKind, register
from jobs.services import Answer, job_request
from tracking.models import Project, User
from tracking.traffic.filtering import TrafficFilter

KIND = "intervention_measurement"
LIFT = "intervention_lift"  # the headline lift alone, for list rows and strategy cells


class MeasuredGone(Exception):
    """The intervention was deleted between asking for its measurement and computing it."""


def measurement_params(kind: str, obj: Any, *, goal: dict | None, traffic: TrafficFilter) -> dict:
    return {"kind": kind, "id": obj.pk, "goal": goal, "traffic": traffic.to_json()}


def key_material(kind: str, obj: Any, params: dict) -> dict:
    dates = [getattr(obj, name, None) for name in ("starts_at", "ends_at", "live_since")]
    return {
        "params": params,
        "saved_goal": obj.goal,
        "segments": sorted(targeted_segment_ids(kind, obj)),
        "dates": [d.isoformat() if d else None for d in dates],
    }


def measurement_request(
    *,
    project: Project,
    kind: str,
    obj: Any,
    goal: dict | None,
    traffic: TrafficFilter,
    user: User | None = None,
    wait: float = 0.0,
    watch: bool = False,
) -> Answer:
    """The measurement of `obj` on `goal` (None: its saved goal): cached when the data has not moved
    since, else from the job computing it (see `jobs.services.job_request`)."""
    params = measurement_params(kind, obj, goal=goal, traffic=traffic)
    return job_request(
        project=project,
        kind=KIND,
        params=params,
        key_material=key_material(kind, obj, params),
        user=user,
        wait=wait,
        watch=watch,
    )


def _run(project: Project, params: dict) -> Measurement:
    kind = params["kind"]
    obj = MODELS[kind].objects.filter(project=project, pk=params["id"]).first()
    if obj is None:
        raise MeasuredGone(f"This {kind} was deleted.")
    result = measure(
        project=project,
        kind=kind,
        obj=obj,
        goal=params.get("goal"),
        segment_ids=targeted_segment_ids(kind, obj),
        traffic=TrafficFilter(**params["traffic"]),
    )
    result.conversion = ("false", [])  # the SQL it was counted with is of no use once counted
    return result


def _render(request: HttpRequest, project: Project, params: dict, result: Measurement, view: str) -> str:
    context = {
        "project": project,
        "kind": params["kind"],
        "measurement": present(project, params["kind"], result),
        "trying_goal": params.get("goal") is not None,
    }
    with timezone.override(project.zone):
        return render_to_string("interventions/_measurement_result.html", context, request=request)


def lift_request(*, project: Project, kind: str, obj: Any, wait: float = 0.0) -> Answer:
    """The intervention's lift on its saved goal (a list row's): kept, or from the job measuring it.

    Not watched: a row's job runs to its end even when the list is left, so the
    next visit finds the lift kept.
    """
    params = {"kind": kind, "id": obj.pk}
    return job_request(
        project=project, kind=LIFT, params=params, key_material=key_material(kind, obj, params), wait=wait
    )


def _run_lift(project: Project, params: dict) -> Measurement:
    kind = params["kind"]
    obj = MODELS[kind].objects.filter(project=project, pk=params["id"]).first()
    if obj is None:
        raise MeasuredGone(f"This {kind} was deleted.")
    result = lift_measure(project=project, kind=kind, obj=obj)
    result.conversion = ("false", [])
    return result


def register_kinds() -> None:
    register(
        JobKind(
            name=LIFT,
            label="Lift",
            run=_run_lift,
            to_json=lambda result: result.as_dict(),
            reported=(MeasuredGone,),
        )
    )
    register(
        JobKind(
            name=KIND,
            label="Measurement",
            run=_run,
            to_json=lambda result: result.as_dict(),
            reported=(MeasuredGone,),
            render=_render,
        )
    )
