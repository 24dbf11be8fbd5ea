"""Reconstructing a segment's membership history as a background job (segments.history).

Queued when a dynamic segment is first computed, and again after its
definition changes; its progress and a Cancel button show on the segment page.
One job per segment and definition: a newer definition cancels the job still
rebuilding the old one.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string

from jobs.kinds import JobKind, register
from jobs.models import ACTIVE, Job
from jobs.services import Answer, job_cancel, job_request
from segments.compiler import CompileError, effective_definition
from segments.history import HistoryStale, Reconstruction, reconstruct
from segments.models import Segment
from tracking.models import Project, User

KIND = "segment_history"


class NotRebuildable(Exception):
    """The segment is gone, or has no definition to rebuild from."""


def history_request(segment: Segment, *, user: User | None = None, wait: float = 0.0) -> Answer:
    """Queue the rebuild of a dynamic segment's history for its current definition."""
    definition = effective_definition(segment)
    params = {"segment_id": segment.pk}
    material = {**params, "definition": definition, "horizon": settings.SEGMENT_HISTORY_DAYS}
    answer = job_request(
        project=segment.project,
        kind=KIND,
        params=params,
        key_material=material,
        user=user,
        wait=wait,
        refresh=True,
    )
    if answer.job is not None:
        older = Job.objects.filter(
            project_id=segment.project_id, kind=KIND, params__segment_id=segment.pk, status__in=ACTIVE
        ).exclude(key=answer.key)
        for job in older:
            job_cancel(job, error="The definition changed; a newer rebuild replaces this one.")
    return answer


def history_job(segment: Segment) -> Job | None:
    """The latest rebuild of this segment's history (running or finished)."""
    return (
        Job.objects.filter(project_id=segment.project_id, kind=KIND, params__segment_id=segment.pk)
        .order_by("-pk")
        .first()
    )


def _run(project: Project, params: dict) -> Reconstruction:
    segment = (
        Segment.objects.select_related("project", "model")
        .filter(pk=params["segment_id"], project=project)
        .first()
    )
    if segment is None or not segment.is_dynamic:
        raise NotRebuildable("This segment no longer exists, or its members are a fixed list.")
    return reconstruct(segment)


def _to_json(result: Reconstruction) -> dict:
    return {
        "segment_id": result.segment_id,
        "first_day": result.first_day.isoformat() if result.first_day else None,
        "days": result.days,
        "periods": result.periods,
        "size": result.size,
        "evaluated": result.evaluated,
        "full_evaluations": result.full_evaluations,
        "method": result.method,
        "elapsed_ms": result.elapsed_ms,
    }


def _render(request: HttpRequest, project: Project, params: dict, result: Reconstruction, view: str) -> str:
    return render_to_string(
        "segments/_history_built.html", {"project": project, "result": result}, request=request
    )


def register_kinds() -> None:
    register(
        JobKind(
            name=KIND,
            label="Membership history",
            run=_run,
            to_json=_to_json,
            reported=(HistoryStale, NotRebuildable, CompileError),
            render=_render,
            timeout_seconds=lambda: settings.SEGMENT_HISTORY_TIMEOUT_SECONDS,
            timeout_hint="rebuild fewer days (SEGMENT_HISTORY_DAYS) or allow more time (SEGMENT_HISTORY_TIMEOUT_SECONDS)",
        )
    )
