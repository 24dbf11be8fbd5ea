"""The time budget and cancellation of the background job running on this thread.

A job (see the `jobs` app) runs its queries with a deadline that belongs to the
job, not to a web request, and can be cancelled from elsewhere. This module is
the thread-local (context-local) part both database layers read:

- `time_limit_ms(default)`: the statement timeout to use; inside a job, what is
  left of the job's limit, so the last statement of a 10-minute job cannot run
  for another 10 minutes;
- `check()`: raise `JobCancelled` when the job was cancelled in this process or
  its time is up (called between statements, and by the ClickHouse clients
  before each query: chDB in process cannot be interrupted mid-query);
- `query_tag()`: a ClickHouse `query_id` prefix, so `KILL QUERY` finds the job's
  queries on a server;
- `progress(done, total)`: reported to the job's row by the runner.

Outside a job every function is a no-op and every default stands.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


class JobCancelled(Exception):
    """The job was cancelled (someone left the page, or asked) or ran past its time limit."""

    def __init__(self, reason: str = "cancelled") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Budget:
    job_id: int
    deadline: float  # time.monotonic()
    limit_seconds: int
    on_progress: Callable[[float], None] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    queries: int = 0


_current: ContextVar[Budget | None] = ContextVar("job_budget", default=None)
_running: dict[int, Budget] = {}  # this process's running jobs, for an in-process cancel
_lock = threading.Lock()


@contextmanager
def job_budget(
    job_id: int, *, limit_seconds: int, on_progress: Callable[[float], None] | None = None
) -> Iterator[Budget]:
    budget = Budget(job_id, time.monotonic() + limit_seconds, limit_seconds, on_progress)
    token = _current.set(budget)
    with _lock:
        _running[job_id] = budget
    try:
        yield budget
    finally:
        _current.reset(token)
        with _lock:
            _running.pop(job_id, None)


def current() -> Budget | None:
    return _current.get()


def cancel_here(job_id: int) -> bool:
    """Flag a job running in this process; its next statement raises JobCancelled."""
    with _lock:
        budget = _running.get(job_id)
    if budget is None:
        return False
    budget.cancelled.set()
    return True


def check() -> None:
    budget = _current.get()
    if budget is None:
        return
    if budget.cancelled.is_set():
        raise JobCancelled("cancelled")
    if time.monotonic() >= budget.deadline:
        raise JobCancelled("timeout")


def time_limit_ms(default_ms: int) -> int:
    """The statement timeout: inside a job, the job's remaining time (at least 1 ms)."""
    budget = _current.get()
    if budget is None:
        return default_ms
    return max(1, int((budget.deadline - time.monotonic()) * 1000))


def limit_seconds(default_seconds: int) -> int:
    """The limit a "took too long" message should name."""
    budget = _current.get()
    return budget.limit_seconds if budget is not None else default_seconds


def query_tag() -> str | None:
    """A ClickHouse query_id for the next query of the running job (None outside a job)."""
    budget = _current.get()
    if budget is None:
        return None
    budget.queries += 1
    return f"sightline-job-{budget.job_id}-{budget.queries}"


def progress(done: float, total: float = 1.0) -> None:
    """Report how far the running job is (a fraction; between statements), and stop if it was cancelled."""
    budget = _current.get()
    if budget is None:
        return
    check()
    if budget.on_progress is not None and total > 0:
        budget.on_progress(min(max(done / total, 0.0), 1.0))
