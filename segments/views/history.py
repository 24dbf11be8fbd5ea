"""The segment page's history parts: members on a past day, the rebuild of the history and its status,
the traits an as-of answer took at their current value."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from jobs.models import ACTIVE
from jobs.views import panel_context
from segments.compiler import effective_definition
from segments.forms import MembersOnForm
from segments.history_jobs import history_job, history_request
from segments.models import Segment
from segments.selectors import history
from segments.views.common import get_segment
from tracking.decorators import project_view
from tracking.models import Project

MEMBERS_ON_SHOWN = 25


def members_on_context(request: HttpRequest, project: Project, segment: Segment) -> dict:
    """The "Members on …" form, and when a day is asked for, who was in at its end."""
    form = MembersOnForm(request.GET or None, project=project)
    context: dict = {"members_on_form": form}
    if form.is_bound and form.is_valid() and form.cleaned_data.get("on"):
        at = history.end_of_day(form.cleaned_data["on"], project=project)
        found = history.members_then(segment=segment, at=at)
        context["members_on"] = found
        context["members_on_day"] = form.cleaned_data["on"]
        context["members_on_persons"] = found.first_persons(MEMBERS_ON_SHOWN)
    return context


def history_status_context(request: HttpRequest, project: Project, segment: Segment) -> dict:
    """The rebuild's panel while it runs (or why it stopped), the traits that fell back to now."""
    if not segment.is_dynamic:
        return {}
    job = history_job(segment)
    context: dict = {"history_job": job, "history_running": job is not None and job.status in ACTIVE}
    if job is not None and job.status not in ("done",):
        context["history_panel"] = panel_context(request, project, job, "page")
    context["trait_fallbacks"] = history.trait_fallbacks(
        effective_definition(segment), project, segment_id=segment.pk
    )
    return context


@project_view
@require_POST
def segment_history_rebuild(request: HttpRequest, project: Project, segment_id: int) -> HttpResponse:
    """Queue the rebuild of the segment's membership history; the page shows its progress."""
    segment = get_segment(project, segment_id)
    if not segment.is_dynamic:
        messages.error(
            request, "A static segment's members are a fixed list: there is no history to rebuild."
        )
    else:
        history_request(segment, user=request.user)
        messages.success(request, "Rebuilding the membership history over the stored events.")
    return redirect("segment_detail", project_id=project.pk, segment_id=segment.pk)
