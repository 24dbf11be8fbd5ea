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
POLL_SECONDS = 0.2
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

    def run(self) -> None:
        """Claim and run jobs until `stop()`."""
        while not self.stopping.is_set():
            try:
                self.tick()
            except DatabaseError:
                log.warning("the job queue could not be read; trying again", exc_info=True)
                connection.close()
                self.stopping.wait(1.0)
            self.stopping.wait(POLL_SECONDS)
        self._hand_back()
        self.pool.shutdown(wait=True)
        connection.close()

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
