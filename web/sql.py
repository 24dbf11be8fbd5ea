"""Reads that must not run away: a statement timeout and work_mem for one query, then restored."""

from __future__ import annotations

import psycopg
from django.db import DatabaseError, connection, transaction
from psycopg import sql

from web import budget


class QueryTimedOut(Exception):
    """PostgreSQL cancelled the statement at its timeout."""


def bounded_fetch(query: str | sql.Composed, params: list, *, timeout_ms: int, work_mem: str) -> list[tuple]:
    """Run one read with these limits; raise QueryTimedOut when it is cancelled.

    The settings are transaction-local and set back explicitly afterwards, because
    inside an enclosing transaction (a request, a test) a released savepoint would
    keep them.

    Inside a background job the job's remaining time replaces `timeout_ms` (see
    `web.budget`), and a job cancelled in this process stops before the statement.
    """
    budget.check()
    timeout_ms = budget.time_limit_ms(timeout_ms)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout'), current_setting('work_mem')")
            old_timeout, old_work_mem = cursor.fetchone()
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true), set_config('work_mem', %s, true)",
                [f"{timeout_ms}ms", work_mem],
            )
            cursor.execute(query, params)
            rows = cursor.fetchall()
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true), set_config('work_mem', %s, true)",
                [old_timeout, old_work_mem],
            )
            return rows
    except DatabaseError as error:
        if isinstance(error.__cause__, psycopg.errors.QueryCanceled):
            raise QueryTimedOut from error
        raise
