"""Asking for a result, and what pages and the API do with the job behind it.

`job_request` answers from the cache when it can, else joins the job already
computing the same answer, else queues one, then waits up to `wait` seconds for
it. Jobs run where ANALYSIS_JOBS says:

- "worker": `manage.py analysis_worker` processes claim them (production, `make run`);
- "thread": worker threads in this process (chDB, where one process owns the events);
- "inline": in the caller's thread, before `job_request` returns (tests).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least
from django.shortcuts import get_object_or_404
from django.utils import timezone

from jobs.cache import Cached, cache_key, cached_get
from jobs.kinds import kind_get
from jobs.models import ACTIVE, CachedResult, Job, JobStatus
from jobs.runner import LOCK_NAMESPACE, execute
from tracking.dataversion import data_version
from tracking.models import Project, User
from web import budget

log = logging.getLogger(__name__)

WATCH_SECONDS = 60  # a page polls every second or so; a hidden tab may poll once a minute
RELEASE_SECONDS = 5  # after a page leaves, another viewer of the same job has this long to poll


@dataclass
class Answer:
    """What to show: a cached result (fresh, or stale when asked for), and/or the job computing one."""

    cached: Cached | None
    job: Job | None
    key: str
    version: int
    _finished: Cached | None = field(default=None, repr=False)

    @property
    def fresh(self) -> bool:
        return self.cached is not None and self.cached.fresh

    def result(self) -> Any | None:
        """The result to show now: the finished job's, else the cached one (fresh or stale); None while
        a job is still working on it, or when it failed (its panel says why)."""
        if self.job is not None and self.job.status == JobStatus.DONE:
            if self._finished is None and self.job.result is not None:
                self._finished = Cached(self.job.result, fresh=True)
            if self._finished is not None and self._finished.value() is not None:
                return self._finished.value()
        return self.cached.value() if self.cached is not None else None

    @property
    def waiting(self) -> bool:
        """Nothing to show yet but the job's panel (progress, or its error once it failed)."""
        return self.job is not None and self.result() is None

    def panel(self, view: str = "page") -> dict:
        """The context of `jobs/_job.html#panel` for this answer's job."""
        return {
            "job": self.job,
            "progress": job_progress(self.job),
            "label": kind_get(self.job.kind).label,
            "view": view,
        }


def job_request(
    *,
    project: Project,
    kind: str,
    params: dict,
    key_material: Any = None,
    user: User | None = None,
    wait: float = 0.0,
    watch: bool = False,
    refresh: bool = False,
    stale: str = "recompute",
) -> Answer:
    """The cached answer to a query, or the job computing it.

    `params` are the normalised parameters the job runs with; `key_material`
    (default: `params`) is what determines the answer, resolved. `watch`: a page
    is waiting, and the job is cancelled once nobody is. `refresh` ignores the
    cache. A stale cached result (the data moved since) is returned with
    `stale="show"` (no job), `"show+recompute"` (and a job, unless it is younger
    than ANALYSIS_STALE_RECOMPUTE_SECONDS), or dropped with `"recompute"`.
    """
    kind_get(kind)  # an unknown kind fails here, not in a worker
    # the project's time zone too: every answer in days or hours is bucketed in it
    key = cache_key(kind, [project.timezone, params if key_material is None else key_material])
    version, _ = data_version(project.pk)
    cached = None if refresh else cached_get(project_id=project.pk, key=key, version=version)
    if cached is not None and cached.value() is None:
        cached = None
    if cached is not None and cached.fresh:
        return Answer(cached, None, key, version)
    if cached is not None and stale != "recompute":
        young = timezone.now() - cached.computed_at < timedelta(
            seconds=settings.ANALYSIS_STALE_RECOMPUTE_SECONDS
        )
        if stale == "show" or young:
            return Answer(cached, None, key, version)
    else:
        cached = None
    job = _job_for(
        project=project, kind=kind, params=params, key=key, version=version, user=user, watch=watch
    )
    if wait > 0 and job.active:
        job = job_wait(job, seconds=wait)
    return Answer(cached, job, key, version)


def _job_for(
    *, project: Project, kind: str, params: dict, key: str, version: int, user: User | None, watch: bool
) -> Job:
    until = timezone.now() + timedelta(seconds=WATCH_SECONDS) if watch else None
    with transaction.atomic():
        job = (
            Job.objects.select_for_update()
            .filter(project=project, key=key, status__in=ACTIVE, data_version__gte=version)
            .order_by("-data_version", "-pk")
            .first()
        )
        if job is not None:
            if until is not None and job.watched_until is not None:
                Job.objects.filter(pk=job.pk).update(watched_until=Greatest(F("watched_until"), until))
            return job
        job = Job.objects.create(
            project=project,
            kind=kind,
            params=params,
            key=key,
            data_version=version,
            created_by=user if user is not None and user.is_authenticated else None,
            watched_until=until,
        )
    _dispatch(job)
    job.refresh_from_db()
    return job


def _dispatch(job: Job) -> None:
    mode = settings.ANALYSIS_JOBS
    if mode == "inline":
        if Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.RUNNING, started_at=timezone.now()
        ):
            execute(job.pk)
    else:
        from jobs.worker import jobs_notify, threads_ensure

        jobs_notify()  # a free worker claims it as soon as it is committed
        if mode == "thread":
            transaction.on_commit(threads_ensure)


def job_wait(job: Job, *, seconds: float) -> Job:
    """The job once it has ended, or as it is after `seconds`."""
    deadline = time.monotonic() + min(seconds, 30.0)
    step = 0.02
    while True:
        job.refresh_from_db()
        if not job.active or time.monotonic() >= deadline:
            return job
        time.sleep(min(step, max(0.0, deadline - time.monotonic())))
        step = min(step * 1.5, 0.25)


def job_get(*, project: Project, job_id: int) -> Job:
    """One of the project's jobs; 404 for another project's."""
    return get_object_or_404(Job.objects.select_related("result"), project=project, pk=job_id)


def job_watch(job: Job) -> None:
    """A page polled the job: keep it alive for another while."""
    if job.watched_until is not None and job.active:
        until = timezone.now() + timedelta(seconds=WATCH_SECONDS)
        Job.objects.filter(pk=job.pk).update(watched_until=Greatest(F("watched_until"), until))


def job_release(job: Job) -> None:
    """The page waiting for the job left; unless another page polls it soon, it is cancelled."""
    if job.watched_until is not None and job.active:
        soon = timezone.now() + timedelta(seconds=RELEASE_SECONDS)
        Job.objects.filter(pk=job.pk).update(watched_until=Least(F("watched_until"), soon))


def job_cancel(job: Job, *, error: str = "") -> bool:
    """Cancel a queued or running job, stopping its query; False when it had already ended."""
    cancelled = Job.objects.filter(pk=job.pk, status__in=ACTIVE).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now(), error=error
    )
    if cancelled:
        interrupt(job.pk)
    job.refresh_from_db()
    return bool(cancelled)


def interrupt(job_id: int) -> None:
    """Stop a job's running query wherever it runs: its PostgreSQL backend, ClickHouse, this process."""
    budget.cancel_here(job_id)
    with connection.cursor() as cursor:
        # the backend holding the job's advisory lock is the one running it
        cursor.execute(
            """
            SELECT pg_cancel_backend(pid) FROM pg_locks
            WHERE locktype = 'advisory' AND classid = %s AND objid = %s AND objsubid = 2
              AND granted AND pid <> pg_backend_pid()
              AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """,
            [LOCK_NAMESPACE, job_id],
        )
    from tracking.eventstore import using_clickhouse

    if using_clickhouse():
        from tracking.eventstore.clickhouse.client import kill_job_queries

        try:
            kill_job_queries(job_id)
        except Exception:  # the event store being away must not fail the cancel
            log.warning("could not stop job %s's ClickHouse queries", job_id, exc_info=True)


def abandoned_cancel() -> int:
    """Cancel the jobs no page waits for any more (their pages were left or closed)."""
    ids = list(
        Job.objects.filter(status__in=ACTIVE, watched_until__lt=timezone.now()).values_list("pk", flat=True)
    )
    count = 0
    for job_id in ids:
        if Job.objects.filter(pk=job_id, status__in=ACTIVE, watched_until__lt=timezone.now()).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now(), error="nobody was waiting for it"
        ):
            interrupt(job_id)
            count += 1
    return count


def orphans_fail() -> int:
    """Fail running jobs whose runner is gone (no connection holds their lock any more)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE jobs_job j SET status = 'failed', finished_at = clock_timestamp(),
                    error = 'The worker running this stopped; run it again.'
                WHERE j.status = 'running' AND j.started_at < clock_timestamp() - interval '30 seconds'
                  AND NOT EXISTS (
                      SELECT 1 FROM pg_locks l
                      WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = j.id::oid
                        AND l.objsubid = 2
                        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))
                """,
                [LOCK_NAMESPACE],
            )
            return cursor.rowcount
    except DatabaseError:
        log.warning("could not look for orphaned jobs", exc_info=True)
        return 0


def result_value(job: Job) -> Any | None:
    """A finished job's result as pages render it."""
    if job.result is None:
        return None
    return Cached(job.result, fresh=True).value()


def job_progress(job: Job) -> float:
    """How far the job is: what it reported, or, for a single long statement, the time it has run
    against how long the same query took last time (never 1 before it is done)."""
    if job.status == JobStatus.DONE:
        return 1.0
    if job.status != JobStatus.RUNNING or job.started_at is None:
        return job.progress
    previous = (
        CachedResult.objects.filter(project_id=job.project_id, key=job.key)
        .values_list("duration_ms", flat=True)
        .first()
    )
    estimate = 0.0
    if previous:
        elapsed_ms = (timezone.now() - job.started_at).total_seconds() * 1000
        estimate = min(0.95, elapsed_ms / previous)
    return max(job.progress, estimate)
