"""Did it work? Results of nudges and flags, and the lazily measured lift of list rows.

A results page compares exposed with held-out people (a flag: each variant with
the first) on the goal, overall and within each targeted segment. Another goal
can be tried from the page without saving it (`goal_*` in the query string; with
htmx only the measurement is swapped).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from interventions import forms, selectors
from interventions.jobs import lift_request, measurement_request
from interventions.views.common import MODELS, form_context, get_object, lift_view, present, results_url
from segments.models import Segment
from tracking.decorators import project_view
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter, excluded_counts
from web.rendering import htmx_target, render_page, wants_fragment

LIFT_WAIT_SECONDS = 1.0


def measurement_context(request: HttpRequest, project: Project, kind: str, obj: Any) -> dict:
    """The measurement on the saved goal, or on the goal being tried; and the form to try one."""
    trying = "goal_source" in request.GET
    goal_form = forms.GoalTryForm(
        request.GET if trying else None,
        project=project,
        initial={**forms.goal_initial(obj.goal), "goal_source": "none"},
    )
    goal = None
    if trying and goal_form.is_valid():
        goal = goal_form.cleaned_data.get("goal")
    traffic = TrafficFilter.from_request(request.GET)
    return {
        "goal_form": goal_form,
        **_measurement(request, project, kind, obj, goal=goal, traffic=traffic),
        "trying_goal": goal is not None,
        "traffic": traffic,
        "excluded": excluded_counts(project=project),
        **form_context(project),
    }


def _measurement(
    request: HttpRequest, project: Project, kind: str, obj: Any, *, goal: dict | None, traffic: TrafficFilter
) -> dict:
    """The measurement to show at once (cached while the data has not moved, or computed within a
    moment), or the job computing it, whose panel the page polls until it swaps the measurement in."""
    answer = measurement_request(
        project=project,
        kind=kind,
        obj=obj,
        goal=goal,
        traffic=traffic,
        user=request.user,
        wait=settings.ANALYSIS_PAGE_WAIT_SECONDS,
        watch=True,
    )
    if answer.waiting:
        return answer.panel()
    return {"measurement": present(project, kind, answer.result())}


def _results(request: HttpRequest, project: Project, kind: str, object_id: int) -> HttpResponse:
    obj = get_object(MODELS[kind], project, object_id)
    context = {
        "kind": kind,
        "obj": obj,
        "reach": selectors.reach(project=project, kind=kind, object_ids=[obj.pk])[obj.pk],
        **measurement_context(request, project, kind, obj),
    }
    fragment = "measurement" if htmx_target(request) == "measurement" else None
    return render_page(request, "interventions/results.html", context, project=project, fragment=fragment)


@project_view
@require_GET
def nudge_results(request: HttpRequest, project: Project, object_id: int) -> HttpResponse:
    return _results(request, project, "nudge", object_id)


@project_view
@require_GET
def flag_results(request: HttpRequest, project: Project, object_id: int) -> HttpResponse:
    return _results(request, project, "flag", object_id)


def _lift(request: HttpRequest, project: Project, kind: str, object_id: int) -> HttpResponse:
    """One row's lift, measured when the row scrolls into view; a plain visit goes to the results page.

    `?segment=` names the strategy-map cell the lift is shown in (its element id);
    the lift itself is the intervention's one measurement wherever it is shown.
    """
    obj = get_object(MODELS[kind], project, object_id)
    segment = None
    raw = request.GET.get("segment", "")
    if raw:
        segment = Segment.objects.filter(project=project, pk=int(raw)).first() if raw.isdecimal() else None
        if segment is None:
            raise Http404("No such segment")
    if not wants_fragment(request):
        return redirect(results_url(kind, project, obj))
    context = {"kind": kind, "obj": obj, "segment": segment, **_lift_context(project, kind, obj)}
    return render_page(request, "interventions/list.html", context, project=project, fragment="lift")


def _lift_context(project: Project, kind: str, obj: Any) -> dict:
    """The row's lift when it is kept or measured within a second; else the row asks again shortly
    (joining the same job), so no request waits for a long measurement."""
    if not obj.goal:
        return {"measured": True, "lift": None}
    answer = lift_request(project=project, kind=kind, obj=obj, wait=LIFT_WAIT_SECONDS)
    if answer.waiting and answer.job.active:
        return {"measured": False, "pending": True}
    return {"measured": True, "lift": lift_view(answer.result())}  # a failed one: "cannot measure"


@project_view
@require_GET
def nudge_lift(request: HttpRequest, project: Project, object_id: int) -> HttpResponse:
    return _lift(request, project, "nudge", object_id)


@project_view
@require_GET
def survey_lift(request: HttpRequest, project: Project, object_id: int) -> HttpResponse:
    return _lift(request, project, "survey", object_id)


@project_view
@require_GET
def flag_lift(request: HttpRequest, project: Project, object_id: int) -> HttpResponse:
    return _lift(request, project, "flag", object_id)
