"""Workers: claim queued jobs within each project's limit and run them on a pool of threads.

A claim takes the oldest queued job of a project that has fewer than
ANALYSIS_JOBS_PER_PROJECT jobs running, under one advisory lock (claims are
short), so several worker processes never exceed the limit together and never
take the same job. Each worker also cancels the jobs no page waits for any
more, fails the jobs whose worker died, and prunes old jobs and results.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from jobs.cache import cached_prune
from jobs.models import ACTIVE, Job, JobStatus
from jobs.runner import execute
from jobs.services import abandoned_cancel, interrupt, orphans_fail

log = logging.getLogger(__name__)

CLAIM_LOCK = (7312, 0)
CHANNEL = "sightline_jobs"  # NOTIFY'd when a job is queued or one ends: a free worker claims at once
POLL_SECONDS = 1.0  # without a notification: abandoned jobs, a missed notification
HOUSEKEEPING_SECONDS = 5
KEEP_JOBS = timedelta(days=1)
KEEP_RESULTS = timedelta(days=14)


def claim(*, per_project: int) -> int | None:
    """Take the next job to run (status becomes running), or None."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(CLAIM_LOCK))
        # relies on job_status_created (queued, oldest first) and job_project_key
        cursor.execute(
            """
            UPDATE jobs_job SET status = 'running', started_at = clock_timestamp()
            WHERE id = (
                SELECT j.id FROM jobs_job j
                WHERE j.status = 'queued'
                  AND (SELECT count(*) FROM jobs_job r
                       WHERE r.project_id = j.project_id AND r.status = 'running') < %s
                ORDER BY j.created_at, j.id
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
            RETURNING id
            """,
            [per_project],
        )
        row = cursor.fetchone()
    return row[0] if row else None


class Worker:
    """A pool of `threads` job runners fed by one claiming loop."""

    def __init__(self, *, threads: int) -> None:
        self.threads = threads
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="job")
        self.running: set[int] = set()
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._housekept = 0.0
        self._listening_on = None

    def run(self) -> None:
        """Claim and run jobs until `stop()`."""
        while not self.stopping.is_set():
            try:
                self.tick()
            except DatabaseError:
                log.warning("the job queue could not be read; trying again", exc_info=True)
                connection.close()
                self.stopping.wait(1.0)
            self._wait_for_news()
        self._hand_back()
        self.pool.shutdown(wait=True)
        connection.close()

    def _wait_for_news(self) -> None:
        """Sleep until a job is queued or ends (LISTEN on this thread's connection), at most POLL_SECONDS."""
        try:
            raw = connection.connection
            if raw is None or self._listening_on is not raw:
                connection.ensure_connection()
                with connection.cursor() as cursor:
                    cursor.execute(f"LISTEN {CHANNEL}")
                raw = self._listening_on = connection.connection
            for _ in raw.notifies(timeout=POLL_SECONDS, stop_after=1):
                pass
        except Exception:  # the connection went away: the next round reconnects
            self._listening_on = None
            self.stopping.wait(POLL_SECONDS)

    def tick(self) -> int:
        """One round: housekeeping when due, then claim while threads are free; returns jobs started."""
        close_old_connections()
        if time.monotonic() - self._housekept >= HOUSEKEEPING_SECONDS:
            self._housekept = time.monotonic()
            housekeeping()
        else:
            abandoned_cancel()
        started = 0
        while len(self.running) < self.threads and not self.stopping.is_set():
            job_id = claim(per_project=settings.ANALYSIS_JOBS_PER_PROJECT)
            if job_id is None:
                break
            with self.lock:
                self.running.add(job_id)
            self.pool.submit(self._run, job_id)
            started += 1
        return started

    def _run(self, job_id: int) -> None:
        try:
            execute(job_id)
        except Exception:
            log.exception("job %s could not be run", job_id)
        finally:
            with self.lock:
                self.running.discard(job_id)
            jobs_notify()  # a thread is free: the claiming loop may start the next job now
            connection.close()  # a pool thread holds no connection between jobs

    def stop(self) -> None:
        """Stop claiming (safe in a signal handler); `run` then hands running jobs back and returns."""
        self.stopping.set()

    def _hand_back(self) -> None:
        """The jobs still running go back to the queue for another worker, their queries stopped."""
        with self.lock:
            mine = list(self.running)
        if mine:
            Job.objects.filter(pk__in=mine, status=JobStatus.RUNNING).update(
                status=JobStatus.QUEUED, started_at=None, progress=0.0
            )
            for job_id in mine:
                interrupt(job_id)


def jobs_notify() -> None:
    """Wake the workers (delivered when the caller's transaction commits)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
    except DatabaseError:
        log.warning("could not wake the job workers; they poll again within a second", exc_info=True)


def housekeeping() -> None:
    abandoned_cancel()
    orphans_fail()
    now = timezone.now()
    Job.objects.exclude(status__in=ACTIVE).filter(finished_at__lt=now - KEEP_JOBS).delete()
    cached_prune(older_than=now - KEEP_RESULTS)


_threads: Worker | None = None
_threads_lock = threading.Lock()


def threads_ensure() -> None:
    """ANALYSIS_JOBS=thread: start this process's worker threads on first use."""
    global _threads
    with _threads_lock:
        if _threads is not None:
            return
        _threads = Worker(threads=settings.ANALYSIS_WORKER_THREADS)
        threading.Thread(target=_threads.run, name="job-claims", daemon=True).start()
