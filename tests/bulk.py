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


@contextmanager
def indexes_built_after(cursor, *tables: str) -> Iterator[None]:
    """Writes into `tables` with their secondary indexes dropped, and builds them again after:
    one sort per index instead of a million insertions into each. The test's transaction holds
    the tables meanwhile, and its rollback would restore the indexes in any case."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i"
        " JOIN pg_class c ON c.relname = i.indexname AND c.relkind = 'i'"
        " WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)",
        [list(tables)],
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition in indexes:
        cursor.execute(definition)
