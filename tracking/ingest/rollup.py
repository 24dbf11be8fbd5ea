"""The per-person daily rollup (tracking.PersonDay): kept at ingestion, moved on merges, rebuilt on demand.

Days are dates in the project's time zone, so "active on N days" counts the
same days whether it reads events or the rollup. A project whose time zone
changes has its rollup rebuilt (person_days_rebuild).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import datetime

import orjson
from django.db import connection

_UPSERT = """
    INSERT INTO tracking_personday AS d (project_id, person_id, day, events, first_at, last_at)
    SELECT %s, (r->>0)::bigint, (r->>1)::date, (r->>2)::int, (r->>3)::timestamptz, (r->>4)::timestamptz
    FROM jsonb_array_elements(%s::jsonb) AS r
    ON CONFLICT (project_id, person_id, day) DO UPDATE SET
        events = d.events + EXCLUDED.events,
        first_at = least(d.first_at, EXCLUDED.first_at),
        last_at = greatest(d.last_at, EXCLUDED.last_at)
"""


def person_days_add(project_id: int, tz: zoneinfo.ZoneInfo, rows: Iterable[tuple[int, datetime]]) -> None:
    """Count (person id, event time) pairs into the rollup (days in `tz`); one statement per batch."""
    days: dict[tuple[int, str], list] = {}
    for person_id, moment in rows:
        key = (person_id, moment.astimezone(tz).date().isoformat())
        entry = days.get(key)
        if entry is None:
            days[key] = [1, moment, moment]
        else:
            entry[0] += 1
            if moment < entry[1]:
                entry[1] = moment
            if moment > entry[2]:
                entry[2] = moment
    if not days:
        return
    # sorted: concurrent batches lock shared rows in the same order
    payload = [
        [person_id, day, n, first.isoformat(), last.isoformat()]
        for (person_id, day), (n, first, last) in sorted(days.items())
    ]
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [project_id, orjson.dumps(payload).decode()])


def person_days_move(project_id: int, *, source: int, target: int) -> None:
    """A merge: the source person's days join the target's."""
    with connection.cursor() as cursor:
        # relies on person_day_unique (project_id, person_id, day)
        cursor.execute(
            "INSERT INTO tracking_personday AS d (project_id, person_id, day, events, first_at, last_at)"
            " SELECT project_id, %s, day, events, first_at, last_at FROM tracking_personday"
            " WHERE project_id = %s AND person_id = %s ORDER BY day"
            " ON CONFLICT (project_id, person_id, day) DO UPDATE SET events = d.events + EXCLUDED.events,"
            " first_at = least(d.first_at, EXCLUDED.first_at), last_at = greatest(d.last_at, EXCLUDED.last_at)",
            [target, project_id, source],
        )
        cursor.execute(
            "DELETE FROM tracking_personday WHERE project_id = %s AND person_id = %s", [project_id, source]
        )


def person_days_delete(project_id: int, *, person_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tracking_personday WHERE project_id = %s AND person_id = %s", [project_id, person_id]
        )


def person_days_rebuild(project_id: int) -> int:
    """Recompute the project's rollup from its events (after a bulk load or a time-zone change)."""
    from tracking.eventstore import explore
    from tracking.models import Project

    project = Project.objects.filter(pk=project_id).only("timezone").first()
    if project is None:
        return 0
    return explore.person_days_rebuild(project_id, zone=project.zone.key)
