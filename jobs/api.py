"""REST: a background job's status and result, and cancelling it (docs/analysis.md, "Jobs").

GET …/analysis/jobs/{id}/[?wait=N] answers the job; DELETE cancels it. Another
project's member gets 404.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from jobs.models import Job, JobStatus
from jobs.services import Answer, job_cancel, job_get, job_progress, job_wait
from tracking.api.base import ProjectAPIView

MAX_WAIT = 30.0


def _result(row, *, cached: bool) -> dict:
    return {**row.result, "computed_at": row.computed_at.isoformat(), "cached": cached}


def job_json(request: Request, job: Job) -> dict:
    out: dict = {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "progress": round(job_progress(job), 3),
        "url": request.build_absolute_uri(reverse("api_analysis_job", args=[job.project_id, job.pk])),
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
    if job.status == JobStatus.DONE and job.result is not None:
        out["result"] = _result(job.result, cached=False)
    if job.error:
        out["error"] = job.error
    return out


def answer_response(request: Request, answer: Answer) -> Response:
    """200 with a fresh cached or finished result; 202 with the job still working on it.

    A job that failed answers 503 with its error, one cancelled meanwhile 409.
    """
    if answer.fresh:
        return Response(_result(answer.cached.row, cached=True))
    job = answer.job
    if job.status == JobStatus.DONE and job.result is not None:
        return Response(_result(job.result, cached=False))
    if job.status == JobStatus.FAILED:
        return Response(
            {"detail": job.error, "job": job_json(request, job)}, status=status.HTTP_503_SERVICE_UNAVAILABLE
        )
    if job.status == JobStatus.CANCELLED:
        return Response(
            {"detail": "The job was cancelled.", "job": job_json(request, job)},
            status=status.HTTP_409_CONFLICT,
        )
    body = job_json(request, job)
    return Response({"job": {k: body[k] for k in ("id", "status", "url")}}, status=status.HTTP_202_ACCEPTED)


ASYNC_PARAMETER = OpenApiParameter(
    "async", bool, description="Answer 202 with a job at once unless the result is cached (docs/analysis.md)."
)


def answer_wait(request: Request) -> float:
    """How long an endpoint waits for its result before it answers 202: none with `?async=1`."""
    if request.query_params.get("async", "") in ("1", "true"):
        return 0.0
    return settings.ANALYSIS_API_WAIT_SECONDS


def wait_param(request: Request) -> float:
    raw = request.query_params.get("wait", "0")
    try:
        return min(max(float(raw), 0.0), MAX_WAIT)
    except ValueError:
        return 0.0


class JobApi(ProjectAPIView):
    @extend_schema(
        operation_id="analysis_jobs_retrieve",
        parameters=[
            OpenApiParameter("wait", float, description="Seconds to wait for the job to end (≤ 30).")
        ],
        responses={200: dict},
    )
    def get(self, request: Request, project_id: int, job_id: int) -> Response:
        job = job_get(project=self.project, job_id=job_id)
        seconds = wait_param(request)
        if seconds and job.active:
            job = job_wait(job, seconds=seconds)
        return Response(job_json(request, job))

    @extend_schema(operation_id="analysis_jobs_cancel", responses={200: dict})
    def delete(self, request: Request, project_id: int, job_id: int) -> Response:
        job = job_get(project=self.project, job_id=job_id)
        job_cancel(job)
        return Response(job_json(request, job))
