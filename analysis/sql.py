"""Running analysis statements: room for their sorts and hashes, and a time limit.

An analysis sorts the events it reads (funnels, paths) and hashes persons and
members (comparisons, retention); the server's default work_mem spills those to
disk well before a million events. A statement that runs longer than the limit
is cancelled and reported as `AnalysisTimeout`, so a page says "narrow the
range" instead of hanging a worker.

Both settings are transaction-local and put back before the block ends: inside
an enclosing transaction (a request in a test, a caller's atomic block) a
released savepoint would otherwise keep them.
"""

from __future__ import annotations

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction

WORK_MEM = settings.ANALYSIS_WORK_MEM
TIMEOUT_MS = settings.ANALYSIS_TIMEOUT_MS


class AnalysisTimeout(Exception):
    """The statement ran past the limit and was cancelled."""

    def __str__(self) -> str:
        return f"This analysis took longer than {TIMEOUT_MS // 1000} seconds; try a shorter date range or fewer groups."


def fetch_all(sql: str, params: list) -> list[tuple]:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('work_mem'), current_setting('statement_timeout')")
            old_work_mem, old_timeout = cursor.fetchone()
            cursor.execute(
                "SELECT set_config('work_mem', %s, true), set_config('statement_timeout', %s, true)",
                [WORK_MEM, f"{TIMEOUT_MS}ms"],
            )
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            cursor.execute(
                "SELECT set_config('work_mem', %s, true), set_config('statement_timeout', %s, true)",
                [old_work_mem, old_timeout],
            )
            return rows
    except DatabaseError as error:
        if isinstance(error.__cause__, psycopg.errors.QueryCanceled):
            raise AnalysisTimeout from error
        raise
