"""A worker running in threads of the test process, and job kinds made for testing the machinery.

The worker's threads have connections of their own, so these tests commit
(`transactional_db`) instead of running inside one rolled-back transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.db import connection

from jobs.kinds import JobKind, register
from jobs.models import Job
from jobs.worker import Worker
from web.sql import bounded_fetch


@dataclass
class Slept:
    seconds: float

    def to_json(self) -> dict:
        return {"slept": self.seconds}


def _sleep(project, params: dict) -> Slept:
    bounded_fetch("SELECT pg_sleep(%s)", [params["seconds"]], timeout_ms=60_000, work_mem="4MB")
    return Slept(params["seconds"])


class Unexpected(Exception):
    pass


def _break(project, params: dict):
    raise Unexpected("a bug in the query")


register(JobKind(name="test_sleep", label="Sleep", run=_sleep, to_json=Slept.to_json))
register(JobKind(name="test_break", label="Break", run=_break, to_json=dict))


@pytest.fixture
def worker(transactional_db, settings) -> Iterator[Worker]:
    """Jobs are queued by requests and run by a worker's threads, as in production."""
    settings.ANALYSIS_JOBS = "worker"
    running = Worker(threads=2)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    yield running
    running.stop()
    thread.join(timeout=30)
    for job in Job.objects.filter(status__in=["queued", "running"]):
        job.delete()
    connection.close()


def eventually(check: Callable[[], bool], *, seconds: float = 20.0, what: str = "") -> None:
    """Wait until `check()` holds (a state reached by another thread), failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {seconds} s: {what}")
        time.sleep(0.05)


def sleeping_backends() -> int:
    """Backends of this database running a test job's pg_sleep."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND query LIKE 'SELECT pg_sleep(%%' AND state = 'active'"
        )
        return cursor.fetchone()[0]
