"""Persons touched by ingestion since segments last looked at them."""

from __future__ import annotations

from django.db import connection


def persontouch_take(*, project_id: int, limit: int) -> list[int]:
    """Take (delete and return, in person order) up to `limit` of the project's touched persons.

    Run it inside the transaction that acts on the persons: if that transaction
    rolls back, the touches come back with it. Rows another transaction is
    taking are skipped rather than waited for.
    """
    with connection.cursor() as cursor:
        # relies on person_touch_unique (project_id, person_id)
        cursor.execute(
            "DELETE FROM tracking_persontouch WHERE id IN ("
            " SELECT id FROM tracking_persontouch WHERE project_id = %s ORDER BY person_id LIMIT %s"
            " FOR UPDATE SKIP LOCKED) RETURNING person_id",
            [project_id, limit],
        )
        return sorted(row[0] for row in cursor.fetchall())
