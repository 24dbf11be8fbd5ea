"""Autovacuum visits the tables read by index-only scans early: events after 100,000 new ones, the
rollups and sessions after 1% of new or dead rows, not PostgreSQL's 20%.

Index-only scans read the heap for rows on pages VACUUM has not marked all-visible;
with the default threshold the unmarked part of tracking_event grows to a fifth of the
table, the recent events that windows read (tracking migration 0019).
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

EXPECTED = {
    "tracking_event": {
        "autovacuum_vacuum_insert_threshold": "100000",
        "autovacuum_vacuum_insert_scale_factor": "0",
    },
    "tracking_session": {
        "autovacuum_vacuum_insert_scale_factor": "0.01",
        "autovacuum_vacuum_scale_factor": "0.01",
    },
    "tracking_personday": {
        "autovacuum_vacuum_insert_scale_factor": "0.01",
        "autovacuum_vacuum_scale_factor": "0.01",
    },
    "tracking_personeventday": {
        "autovacuum_vacuum_insert_scale_factor": "0.01",
        "autovacuum_vacuum_scale_factor": "0.01",
    },
}


def _options() -> dict[str, dict[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname::text, coalesce(reloptions, '{}') FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'",
            [list(EXPECTED)],
        )
        return {name: dict(option.split("=", 1) for option in options) for name, options in cursor.fetchall()}


def test_the_tables_read_by_index_only_scans_are_vacuumed_early():
    assert _options() == EXPECTED


def test_the_migration_reverses_to_postgresqls_defaults():
    from django.db.migrations.executor import MigrationExecutor

    module = MigrationExecutor(connection).loader.get_migration(
        "tracking", "0019_vacuum_keeps_visibility_current"
    )
    with connection.cursor() as cursor:
        for operation in module.operations:
            cursor.execute(operation.reverse_sql)
        try:
            assert _options() == {name: {} for name in EXPECTED}
        finally:
            for operation in module.operations:
                cursor.execute(operation.sql)
    assert _options() == EXPECTED
