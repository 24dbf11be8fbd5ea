"""Rows a test writes in bulk with SQL, valid by construction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def foreign_key_checks_unqueued(cursor) -> Iterator[None]:
    """PostgreSQL queues a deferred foreign-key check for every row written, which the test case
    runs before it rolls back: 26 s for a million memberships, and once, with a poor plan, many
    minutes for 200,000. A superuser (the embedded server) can leave them unqueued while it
    writes; another role writes with the checks as usual."""
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    superuser = cursor.fetchone()[0]
    if superuser:
        cursor.execute("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
