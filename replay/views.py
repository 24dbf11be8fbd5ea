"""Replay pages: the recordings list, the player, and retention by segment."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from replay.coverage import recording_coverage
from replay.forms import RecordingFilterForm, RetentionRuleForm
from replay.models import RecordingRetentionRule
from replay.selectors import chunk_list, filter_options, recording_get, recording_list, recording_markers
from replay.services import retention_rule_delete, retention_rule_save
from tracking.decorators import project_view
from tracking.filters import error_summary
from tracking.models import Project
from web.rendering import render_page, wants_fragment

RECORDINGS_PER_PAGE = 50

# The player rebuilds recorded pages, whose styles, images, fonts and media come
# from the recorded site: those may load from anywhere over https (or inline as
# data:/blob:). Scripts stay 'self' only — the player's own bundle — and the
# recorded DOM lives in an iframe sandboxed without allow-scripts; recorded
# frames (their src is stripped on ingest) may not load anything else.
PLAYER_CSP = {
    "img-src": ["https:", "blob:"],
    "style-src": ["https:"],
    "font-src": ["'self'", "https:", "data:"],
    "media-src": ["'self'", "https:", "data:", "blob:"],
    "frame-src": ["'self'"],
}


@project_view
@require_GET
def recordings(request: HttpRequest, project: Project) -> HttpResponse:
    form = RecordingFilterForm(request.GET, project=project)
    context = {"form": form, "options": filter_options(project=project), "page_obj": None}
    if not form.is_valid():
        context["error"] = error_summary(form)
        return render_page(
            request, "replay/recordings.html", context, project=project, fragment="results", status=400
        )
    page_obj = Paginator(recording_list(project=project, query=form.query()), RECORDINGS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context.update(page_obj=page_obj, filtered=form.is_filtered)
    chosen = form.cleaned_data.get("persons")
    if chosen and not wants_fragment(request):
        context["coverage"] = recording_coverage(project=project, person_ids=chosen)
    return render_page(request, "replay/recordings.html", context, project=project, fragment="results")


def clock(ms: int) -> str:
    """`m:ss` (or `h:mm:ss`) for a position in a recording."""
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _player_data(request: HttpRequest, project: Project, recording) -> dict:
    return {
        "startedAt": int(recording.started_at.timestamp() * 1000),
        # the one length: the header, the player's clock before Play and the markers use it
        "duration": recording.length_ms,
        "durationText": clock(recording.length_ms),
        "chunks": [
            {
                "seq": chunk.seq,
                "url": reverse("api_recording_chunk", args=[project.pk, recording.pk, chunk.seq]),
                "start": int((chunk.first_timestamp - recording.started_at).total_seconds() * 1000),
                "events": chunk.event_count,
            }
            for chunk in chunk_list(recording=recording).order_by("first_timestamp", "seq")
        ],
        "markers": [
            {"offset": m.offset_ms, "time": clock(m.offset_ms), "kind": m.kind, "label": m.label}
            for m in recording_markers(recording=recording)
        ],
    }


@project_view
@require_GET
@csp_update(PLAYER_CSP)
def player(request: HttpRequest, project: Project, recording_id: int) -> HttpResponse:
    recording = recording_get(project=project, recording_id=recording_id)
    context = {"recording": recording, "player_data": _player_data(request, project, recording)}
    return render_page(request, "replay/player.html", context, project=project)


@project_view
@require_http_methods(["GET", "POST"])
def retention(request: HttpRequest, project: Project) -> HttpResponse:
    can_manage = request.membership.can_manage
    if request.method == "POST" and not can_manage:
        raise PermissionDenied("Only owners and admins can change retention.")
    form = RetentionRuleForm(request.POST if request.method == "POST" else None, project=project)
    if form.is_bound and form.is_valid():
        rule = retention_rule_save(
            project=project, segment=form.cleaned_data["segment"], days=form.cleaned_data["days"]
        )
        messages.success(request, f"Recordings of “{rule.segment}” are kept {rule.days} days.")
        return redirect("replay_retention", project.pk)
    return render_page(
        request,
        "replay/retention.html",
        _retention_context(project, form, can_manage),
        project=project,
        status=400 if form.is_bound else 200,
    )


def _retention_context(project: Project, form: RetentionRuleForm, can_manage: bool) -> dict:
    rules = (
        RecordingRetentionRule.objects.filter(project=project)
        .select_related("segment")
        .order_by("-days", "pk")
    )
    return {"form": form, "rules": rules, "can_manage": can_manage}


@project_view(manage=True)
@require_POST
def retention_rule_remove(request: HttpRequest, project: Project, rule_id: int) -> HttpResponse:
    rule = (
        RecordingRetentionRule.objects.filter(project=project, pk=rule_id).select_related("segment").first()
    )
    if rule is None:
        raise Http404("No such rule")
    retention_rule_delete(rule=rule)
    messages.success(request, f"Recordings of “{rule.segment}” follow the project's retention again.")
    return redirect("replay_retention", project.pk)
