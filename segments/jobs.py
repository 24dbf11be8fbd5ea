"""The builder's live size preview as a background job: what identifies a count, how it is shown.

The key of a count is the normalised definition, the segment being edited (a
definition may not refer to itself) and the hour: windows such as "in the last
7 days" move with the clock, so a count kept from an hour ago is not reused
even when no data arrived since. Events, memberships and action definitions
move the project's data version instead.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from jobs.kinds import JobKind, register
from jobs.services import Answer, job_request
from segments.describe import describe
from segments.models import Segment
from segments.selectors.sizes import Preview, definition_preview
from segments.selectors.versions import change_preview
from tracking.models import Project, User

KIND = "segment_preview"
PREVIEW_WAIT_SECONDS = 1.0  # the builder waits this long for a count before it shows the job's progress


class PreviewTooSlow(Exception):
    """The count ran past the job's time limit (or was stopped): nothing worth keeping."""


def preview_request(
    *,
    project: Project,
    definition: dict,
    segment_id: int | None,
    user: User | None = None,
    wait: float = 0.0,
    watch: bool = False,
    subject: str = "person",
) -> Answer:
    """How many persons (or companies) a valid, normalised definition selects: kept, or from the job counting them."""
    params = {"definition": definition, "segment_id": segment_id}
    if subject != "person":
        params["subject"] = subject
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    return job_request(
        project=project,
        kind=KIND,
        params=params,
        key_material={**params, "hour": hour.isoformat()},
        user=user,
        wait=wait,
        watch=watch,
    )


def _run(project: Project, params: dict) -> Preview:
    # validated again: a segment or action it refers to may have been deleted since
    subject = params.get("subject", "person")
    preview = definition_preview(
        project=project, definition=params["definition"], segment_id=params.get("segment_id"), subject=subject
    )
    if preview.timed_out:
        raise PreviewTooSlow(
            "Counting took too long. Save the segment to compute it in the background, "
            "or narrow it with a time window."
        )
    segment = Segment.objects.filter(pk=params.get("segment_id"), project=project).first()
    if preview.count is not None and segment is not None and segment.is_dynamic and segment.computed_at:
        if params["definition"] != segment.definition:  # an edit: who it would take in and let go
            preview.change = change_preview(segment=segment, definition=params["definition"])
    return preview


def _render(request: HttpRequest, project: Project, params: dict, result: Preview, view: str) -> str:
    context = {
        "project": project,
        "preview": result,
        "described": describe(params["definition"], project) if result.count is not None else None,
    }
    return render_to_string("segments/_preview_result.html", context, request=request)


def _to_json(preview: Preview) -> dict:
    body = {"count": preview.count, "total": preview.total, "error": preview.error}
    if preview.change is not None and not (preview.change.error or preview.change.timed_out):
        body["change"] = preview.change.as_json()
    return body


def register_kinds() -> None:
    register(
        JobKind(
            name=KIND,
            label="Live size",
            run=_run,
            to_json=_to_json,
            reported=(PreviewTooSlow,),
            render=_render,
        )
    )
