"""Running one job: its time limit, its progress, and what becomes of it.

While a job runs, its connection holds the advisory lock (LOCK_NAMESPACE, job
id). That is how a canceller finds the backend to cancel (`pg_locks`), and how
a job whose worker died is told from one that is merely slow.
"""

from __future__ import annotations

import logging
import time

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from jobs.cache import cached_put
from jobs.kinds import JobKind, kind_get
from jobs.models import Job, JobStatus
from web.budget import JobCancelled, job_budget
from web.sql import QueryTimedOut

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 7311  # pg_advisory_lock(namespace, job id) while a job runs
PROGRESS_EVERY = 0.5  # seconds between progress writes


def time_limit(kind: JobKind) -> int:
    """A job's time limit in seconds: its kind's own, else ANALYSIS_JOB_TIMEOUT_SECONDS."""
    return kind.timeout_seconds() if kind.timeout_seconds else settings.ANALYSIS_JOB_TIMEOUT_SECONDS


def timeout_message(kind: JobKind) -> str:
    seconds = time_limit(kind)
    unit = "minute" if seconds >= 60 else "second"
    return f"This took longer than the {seconds // 60 or seconds} {unit} limit; {kind.timeout_hint}."


def _finish(job_id: int, status: str, **fields) -> bool:
    """Move a running job to its outcome; False when it is not running any more (cancelled meanwhile)."""
    return bool(
        Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=status, finished_at=timezone.now(), **fields
        )
    )


def _status(job_id: int) -> str | None:
    return Job.objects.filter(pk=job_id).values_list("status", flat=True).first()


def execute(job_id: int) -> None:
    """Run a job this thread has claimed (its status is running) and record the outcome."""
    job = Job.objects.select_related("project").get(pk=job_id)
    kind = kind_get(job.kind)
    last_write = [0.0]

    def on_progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last_write[0] < PROGRESS_EVERY:
            return
        last_write[0] = now
        if not Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(progress=fraction):
            raise JobCancelled("cancelled")

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job_id])
    try:
        # A cancel marks the job first, then interrupts whoever holds its lock: one that came
        # before the lock was taken is seen here, one after it finds this connection.
        if _status(job_id) != JobStatus.RUNNING:
            return
        with job_budget(
            job_id,
            limit_seconds=time_limit(kind),
            on_progress=on_progress,
        ) as budget:
            if connection.in_atomic_block:  # inline, inside a request: a failure must not break it
                with transaction.atomic():
                    result = kind.run(job.project, job.params)
            else:
                result = kind.run(job.project, job.params)
            if budget.cancelled.is_set():
                raise JobCancelled("cancelled")
        result_id = cached_put(
            project_id=job.project_id,
            kind=job.kind,
            key=job.key,
            version=job.data_version,
            result=result,
            as_json=kind.to_json(result),
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        _finish(job_id, JobStatus.DONE, result_id=result_id, progress=1.0)
    except JobCancelled as stop:
        if stop.reason == "timeout":
            _finish(job_id, JobStatus.FAILED, error=timeout_message(kind))
        else:
            _finish(job_id, JobStatus.CANCELLED)
    except Exception as error:
        _failed(job_id, kind, error)
    finally:
        _unlock(job_id)


def _failed(job_id: int, kind: JobKind, error: Exception) -> None:
    if connection.needs_rollback or _broken():
        connection.close()
    status = _status(job_id)
    if status != JobStatus.RUNNING:
        return  # cancelled (its query was interrupted on purpose) or handed back to the queue
    if isinstance(error, kind.reported):
        message = str(error)
    elif _timed_out(error):
        message = timeout_message(kind)
    else:
        log.exception("job %s failed", job_id, exc_info=error)
        message = f"This failed unexpectedly; the error was logged (job {job_id})."
    _finish(job_id, JobStatus.FAILED, error=message)


def _timed_out(error: BaseException | None) -> bool:
    """The statement was cancelled at the job's time limit (anywhere in the chain of causes)."""
    while error is not None:
        if isinstance(error, QueryTimedOut | psycopg.errors.QueryCanceled):
            return True
        error = error.__cause__
    return False


def _broken() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return False
    except DatabaseError:
        return True


def _unlock(job_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, job_id])
    except DatabaseError:
        connection.close()  # closing releases the lock too
