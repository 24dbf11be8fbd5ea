"""Scheduled exports of a segment: the list tab, create and edit, run now, the secret, files, delete.

Who sees the secret follows the webhooks: shown once to whoever creates the
sync, then only owners and admins can reveal or rotate it. Everything else is
open to every member of the project.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import forms, syncs
from interventions.models import SegmentSync, SegmentSyncRun
from interventions.selectors import syncs as selectors
from interventions.sync_files import sync_files
from interventions.views.common import get_object
from tracking.decorators import project_view
from tracking.models import Project
from web.confirm import confirm_page, confirmed
from web.rendering import htmx_target, render_page

TEMPLATE = "interventions/sync_form.html"
FRESH_SECRET_SESSION_KEY = "interventions_sync_secret_once"  # noqa: S105 - a session key name, not a secret


def _segment_filter(request: HttpRequest) -> int | None:
    value = request.GET.get("segment", "")
    return int(value) if value.isdecimal() else None


@project_view
@require_GET
def sync_list(request: HttpRequest, project: Project) -> HttpResponse:
    segment_id = _segment_filter(request)
    return render_page(
        request,
        "interventions/syncs.html",
        {"syncs": selectors.sync_list(project=project, segment_id=segment_id), "segment_id": segment_id},
        project=project,
    )


@project_view
@require_http_methods(["GET", "POST"])
def sync_new(request: HttpRequest, project: Project) -> HttpResponse:
    return _form_page(request, project, None)


@project_view
@require_http_methods(["GET", "POST"])
def sync_edit(request: HttpRequest, project: Project, sync_id: int) -> HttpResponse:
    return _form_page(request, project, get_object(SegmentSync, project, sync_id))


def _form_page(request: HttpRequest, project: Project, sync: SegmentSync | None) -> HttpResponse:
    if request.method == "POST":
        form = forms.SyncForm(
            request.POST, project=project, sync=sync, initial=forms.sync_initial(sync) if sync else None
        )
        if form.is_valid():
            try:
                saved = syncs.sync_save(
                    project=project, data=form.data_for_service(), sync=sync, user=request.user
                )
            except ValidationError as error:
                forms.apply_intervention_errors(form, error)
                if sync is not None:
                    sync.refresh_from_db()
            else:
                if sync is None:
                    request.session[FRESH_SECRET_SESSION_KEY] = saved.pk
                    messages.success(
                        request, f"Created the sync of “{saved.segment.name}”. Its first run is on its way."
                    )
                else:
                    messages.success(request, f"Saved the sync of “{saved.segment.name}”.")
                return redirect("sync_edit", project_id=project.pk, sync_id=saved.pk)
    else:
        initial = {"daily_file": True, "enabled": True, "push_current_members": True, "batch_size": 500}
        if sync is None:
            segment_id = _segment_filter(request)
            if segment_id is not None:
                initial["segment"] = segment_id
        form = forms.SyncForm(
            project=project, sync=sync, initial=forms.sync_initial(sync) if sync else initial
        )
    fresh = (
        sync is not None
        and request.method == "GET"
        and request.session.get(FRESH_SECRET_SESSION_KEY) == sync.pk
    )
    if fresh:
        del request.session[FRESH_SECRET_SESSION_KEY]
    return _render(request, project, sync, form, reveal=fresh, fresh=fresh)


def _render(request: HttpRequest, project: Project, sync: SegmentSync | None, form: forms.SyncForm, *, reveal: bool,
            fresh: bool = False, rotated: bool = False, fragment: str | None = None) -> HttpResponse:  # fmt: skip
    context = {"sync": sync, "form": form, "reveal": reveal, "fresh": fresh, "rotated": rotated,
               "can_manage": request.membership.can_manage}  # fmt: skip
    if sync is not None:
        context |= {
            "files": sync_files(sync=sync, limit=30),
            "runs": list(selectors.run_list(sync=sync)[:10]),
            "batches": list(selectors.batch_list(sync=sync)[:20]),
            "told": selectors.told_count(sync=sync),
        }
    return render_page(request, TEMPLATE, context, project=project, fragment=fragment)


@project_view
@require_POST
def sync_run(request: HttpRequest, project: Project, sync_id: int) -> HttpResponse:
    """Write today's file and push what changed now, whatever the schedule or a retry's wait says."""
    sync = get_object(SegmentSync, project, sync_id)
    queued = syncs.sync_run_now(sync=sync)
    if queued:
        messages.success(
            request,
            "Running now: "
            + " and ".join(
                {"file": "the member list file", "push": "a push of entries and exits"}[q] for q in queued
            )
            + ".",
        )
    else:
        messages.error(request, "Nothing to run: the sync is disabled or has neither a file nor a webhook.")
    return redirect("sync_edit", project_id=project.pk, sync_id=sync.pk)


def _secret_page(request: HttpRequest, project: Project, sync: SegmentSync, *, rotated: bool) -> HttpResponse:
    form = forms.SyncForm(project=project, sync=sync, initial=forms.sync_initial(sync))
    fragment = "secret" if htmx_target(request) == "sync-secret" else None
    return _render(request, project, sync, form, reveal=True, rotated=rotated, fragment=fragment)


@project_view(manage=True)
@require_POST
def sync_secret(request: HttpRequest, project: Project, sync_id: int) -> HttpResponse:
    """Reveal the signing secret (owners and admins)."""
    return _secret_page(request, project, get_object(SegmentSync, project, sync_id), rotated=False)


@project_view(manage=True)
@require_POST
def sync_secret_rotate(request: HttpRequest, project: Project, sync_id: int) -> HttpResponse:
    """A new signing secret (owners and admins), shown at once; the old one stops verifying."""
    sync = get_object(SegmentSync, project, sync_id)
    syncs.sync_rotate_secret(sync=sync)
    return _secret_page(request, project, sync, rotated=True)


@project_view
@require_POST
def sync_delete(request: HttpRequest, project: Project, sync_id: int) -> HttpResponse:
    sync = get_object(SegmentSync, project, sync_id)
    if not confirmed(request):
        return confirm_page(
            request,
            project=project,
            title=f"Delete the sync of “{sync.segment.name}”?",
            consequences=[
                "No more daily files are written and nothing more is pushed; its run and batch logs go with it.",
                "Files already written stay in storage.",
                "To stop it for a while instead, untick “Enabled”.",
            ],
            button="Delete sync",
            cancel_url=reverse("sync_edit", args=[project.pk, sync.pk]),
        )
    syncs.sync_delete(sync=sync)
    messages.success(request, f"Deleted the sync of “{sync.segment.name}”.")
    return redirect("syncs", project_id=project.pk)


@project_view
@require_GET
def sync_file(request: HttpRequest, project: Project, sync_id: int, run_id: int) -> FileResponse:
    """One written member list, streamed from storage."""
    sync = get_object(SegmentSync, project, sync_id)
    run = SegmentSyncRun.objects.filter(
        project=project, sync=sync, pk=run_id, kind=SegmentSyncRun.Kind.FILE, status=SegmentSyncRun.Status.OK
    ).first()
    if run is None or not run.file_name:
        raise Http404("No such file")
    try:
        handle = default_storage.open(run.file_name, "rb")
    except FileNotFoundError:
        raise Http404("The file is no longer in storage") from None
    name = f"{sync.segment.name[:60] or 'segment'}-{PurePosixPath(run.file_name).name}"
    return FileResponse(handle, as_attachment=True, filename=name, content_type="application/gzip")
