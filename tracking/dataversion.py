"""A project's data version: one counter that every cached analysis result is checked against.

`data_changed` is called where the data analyses read moves: by the ingest drain
once per stored chunk, by erasure and retention, by segment membership changes,
and by edits of actions and metrics. It is one upsert of one row per project,
inside the caller's transaction, so a result cached at the new version can only
have read the new data. The drain holds the project's lock while it stores, so
drains never wait on each other for this row.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection


def data_changed(project_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO tracking_dataversion (project_id, version, changed_at) VALUES (%s, 1, clock_timestamp())
            ON CONFLICT (project_id) DO UPDATE
            SET version = tracking_dataversion.version + 1, changed_at = clock_timestamp()
            """,
            [project_id],
        )


def data_version(project_id: int) -> tuple[int, datetime | None]:
    """(version, when it last moved); (0, None) for a project whose data never changed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version, changed_at FROM tracking_dataversion WHERE project_id = %s", [project_id]
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, None)
