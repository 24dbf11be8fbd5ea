"""Reads that must not run away: a statement timeout and work_mem for a block of queries, then restored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import DatabaseError, connection, transaction
from psycopg import sql

from web import budget


class QueryTimedOut(Exception):
    """PostgreSQL cancelled the statement at its timeout."""


@contextmanager
def bounded(*, timeout_ms: int, work_mem: str) -> Iterator[None]:
    """Run the block's statements with these limits; raise QueryTimedOut when one is cancelled.

    The block runs in a transaction (the settings are transaction-local), and they
    are set back explicitly at its end, because inside an enclosing transaction (a
    request, a test) a released savepoint would keep them. The timeout is each
    statement's, not the block's.

    Inside a background job the job's remaining time replaces `timeout_ms` (see
    `web.budget`), and a job cancelled in this process stops before the block.
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
            yield
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true), set_config('work_mem', %s, true)",
                [old_timeout, old_work_mem],
            )
    except DatabaseError as error:
        if isinstance(error.__cause__, psycopg.errors.QueryCanceled):
            raise QueryTimedOut from error
        raise
    except psycopg.errors.QueryCanceled as error:  # a statement run on the raw connection
        raise QueryTimedOut from error


def bounded_fetch(query: str | sql.Composed, params: list, *, timeout_ms: int, work_mem: str) -> list[tuple]:
    """Run one read with these limits (`bounded`); raise QueryTimedOut when it is cancelled."""
    with bounded(timeout_ms=timeout_ms, work_mem=work_mem), connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()
