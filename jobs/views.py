"""The job panel pages poll while a result is computed, and what a page does when it is left."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from jobs.kinds import kind_get
from jobs.models import Job, JobStatus
from jobs.services import job_cancel, job_get, job_progress, job_release, job_watch, result_value
from tracking.decorators import project_view
from tracking.models import Project
from web.rendering import render_page

VIEWS = ("page", "card")
UNCLAIMED = timedelta(seconds=30)  # queued this long: say that no worker may be running


def panel_context(request: HttpRequest, project: Project, job: Job, view: str) -> dict:
    """What `jobs/_job.html` shows: progress while the job works, its result or error once it ends."""
    kind = kind_get(job.kind)
    context: dict = {
        "job": job,
        "view": view,
        "label": kind.label,
        "progress": job_progress(job),
        "result_html": "",
    }
    if job.status == JobStatus.QUEUED:
        context["unclaimed"] = timezone.now() - job.created_at > UNCLAIMED
    if job.status == JobStatus.DONE:
        result = result_value(job)
        if result is None:
            context["missing"] = True
        elif kind.render is not None:
            context["result_html"] = kind.render(request, project, job.params, result, view)
    return context


@project_view
@require_GET
def job_panel(request: HttpRequest, project: Project, job_id: int) -> HttpResponse:
    """The job's panel as it is now; polled by the page waiting for it, which keeps the job alive."""
    job = job_get(project=project, job_id=job_id)
    job_watch(job)
    view = request.GET.get("view", "page")
    context = panel_context(request, project, job, view if view in VIEWS else "page")
    return render_page(request, "jobs/_job.html", context, project=project, fragment="panel")


@project_view
@require_POST
def job_release_view(request: HttpRequest, project: Project, job_id: int) -> HttpResponse:
    """The page waiting for the job left (sent as a beacon); the job stops unless another page waits too."""
    job_release(job_get(project=project, job_id=job_id))
    return HttpResponse(status=204)


@project_view
@require_POST
def job_cancel_view(request: HttpRequest, project: Project, job_id: int) -> HttpResponse:
    job = job_get(project=project, job_id=job_id)
    job_cancel(job)
    view = request.POST.get("view", "page")
    context = panel_context(request, project, job, view if view in VIEWS else "page")
    return render_page(request, "jobs/_job.html", context, project=project, fragment="panel")
