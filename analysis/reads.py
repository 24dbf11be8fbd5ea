"""Running analysis statements: room for their sorts and hashes, and a time limit.

An analysis sorts the events it reads (funnels, paths) and hashes persons and
members (comparisons, retention); the server's default work_mem spills those to
disk well before a million events. A statement that runs longer than the limit
is cancelled and reported as `AnalysisTimeout`, so a page says "narrow the
range" instead of hanging a worker.

`limited()` puts a block of statements under the same limits. Both settings
are transaction-local and put back before the block ends: inside
an enclosing transaction (a request in a test, a caller's atomic block) a
released savepoint would otherwise keep them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from web import budget
from web.sql import QueryTimedOut, bounded, bounded_fetch

WORK_MEM = settings.ANALYSIS_WORK_MEM
TIMEOUT_MS = settings.ANALYSIS_TIMEOUT_MS


class AnalysisTimeout(Exception):
    """The statement ran past the limit and was cancelled."""

    def __str__(self) -> str:
        seconds = budget.limit_seconds(TIMEOUT_MS // 1000)
        return f"This analysis took longer than {seconds} seconds; try a shorter date range or fewer groups."


@contextmanager
def limited() -> Iterator[None]:
    """Every statement of the block under the analysis limits, for event-store reads made while the SQL is built.

    On PostgreSQL a funnel's matching events are read and walked in Python
    before its counting statement exists (tracking.eventstore.postgres.analysis_funnels).
    """
    try:
        with bounded(timeout_ms=TIMEOUT_MS, work_mem=WORK_MEM):
            yield
    except QueryTimedOut as error:
        raise AnalysisTimeout from error


def fetch_all(sql: str, params: list) -> list[tuple]:
    try:
        return bounded_fetch(sql, params, timeout_ms=TIMEOUT_MS, work_mem=WORK_MEM)
    except QueryTimedOut as error:
        raise AnalysisTimeout from error
