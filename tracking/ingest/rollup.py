"""The per-person daily rollups: kept at ingestion, moved on merges, rebuilt on demand.

- tracking.PersonDay: one row per person and day (events, first and last moment),
  for "active on N days", first and last seen;
- tracking.PersonEventDay: one row per person, day and event name (how many), for
  counting conditions on the PostgreSQL event store. With ClickHouse it is not
  kept: nothing reads it there.

Days are dates in the project's time zone, so "active on N days" counts the
same days whether it reads events or the rollup. A project whose time zone
changes has its rollups rebuilt (person_days_rebuild).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import datetime, timedelta

import orjson
from django.db import connection

from tracking import eventstore
from tracking.eventstore import explore
from tracking.eventstore.days import day_start

_UPSERT = """
    INSERT INTO tracking_personday AS d (project_id, person_id, day, events, first_at, last_at)
    SELECT %s, (r->>0)::bigint, (r->>1)::date, (r->>2)::int, (r->>3)::timestamptz, (r->>4)::timestamptz
    FROM jsonb_array_elements(%s::jsonb) AS r
    ON CONFLICT (project_id, person_id, day) DO UPDATE SET
        events = d.events + EXCLUDED.events,
        first_at = least(d.first_at, EXCLUDED.first_at),
        last_at = greatest(d.last_at, EXCLUDED.last_at)
"""


_UPSERT_NAMES = """
    INSERT INTO tracking_personeventday AS d (project_id, person_id, day, name, events)
    SELECT %s, (r->>0)::bigint, (r->>1)::date, r->>2, (r->>3)::int
    FROM jsonb_array_elements(%s::jsonb) AS r
    ON CONFLICT (project_id, person_id, day, name) DO UPDATE SET events = d.events + EXCLUDED.events
"""


def person_days_add(
    project_id: int, tz: zoneinfo.ZoneInfo, rows: Iterable[tuple[int, datetime, str]]
) -> None:
    """Count (person id, event time, event name) triples into the rollups (days in `tz`); a statement
    per rollup and batch."""
    days: dict[tuple[int, str], list] = {}
    names: dict[tuple[int, str, str], int] = {}
    for person_id, moment, name in rows:
        day = moment.astimezone(tz).date().isoformat()
        key = (person_id, day)
        entry = days.get(key)
        if entry is None:
            days[key] = [1, moment, moment]
        else:
            entry[0] += 1
            if moment < entry[1]:
                entry[1] = moment
            if moment > entry[2]:
                entry[2] = moment
        named = (person_id, day, name)
        names[named] = names.get(named, 0) + 1
    if not days:
        return
    # sorted: concurrent batches lock shared rows in the same order
    payload = [
        [person_id, day, n, first.isoformat(), last.isoformat()]
        for (person_id, day), (n, first, last) in sorted(days.items())
    ]
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [project_id, orjson.dumps(payload).decode()])
        if not eventstore.using_clickhouse():
            counted = [[person_id, day, name, n] for (person_id, day, name), n in sorted(names.items())]
            cursor.execute(_UPSERT_NAMES, [project_id, orjson.dumps(counted).decode()])


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
        # relies on the primary key (project_id, person_id, day, name)
        cursor.execute(
            "INSERT INTO tracking_personeventday AS d (project_id, person_id, day, name, events)"
            " SELECT project_id, %s, day, name, events FROM tracking_personeventday"
            " WHERE project_id = %s AND person_id = %s ORDER BY day, name"
            " ON CONFLICT (project_id, person_id, day, name) DO UPDATE SET events = d.events + EXCLUDED.events",
            [target, project_id, source],
        )
        cursor.execute(
            "DELETE FROM tracking_personeventday WHERE project_id = %s AND person_id = %s",
            [project_id, source],
        )


def person_days_delete(project_id: int, *, person_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tracking_personday WHERE project_id = %s AND person_id = %s", [project_id, person_id]
        )
        cursor.execute(
            "DELETE FROM tracking_personeventday WHERE project_id = %s AND person_id = %s",
            [project_id, person_id],
        )


def person_days_expire(project_id: int, tz: zoneinfo.ZoneInfo, cutoff: datetime) -> None:
    """Retention deleted the events before `cutoff`: the days they fill go, and the per-name counts of
    the day the cutoff falls in are counted again from the events left in it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tracking_personday WHERE project_id = %s AND last_at < %s", [project_id, cutoff]
        )
        if eventstore.using_clickhouse():
            return
        day = cutoff.astimezone(tz).date()
        cursor.execute(
            "DELETE FROM tracking_personeventday WHERE project_id = %s AND day < %s", [project_id, day]
        )
    explore.person_event_day_recount(
        project_id, day, start=cutoff, end=day_start(day + timedelta(days=1), tz)
    )


def person_days_rebuild(project_id: int) -> int:
    """Recompute the project's rollups from its events (after a bulk load or a time-zone change)."""
    from tracking.models import Project

    project = Project.objects.filter(pk=project_id).only("timezone").first()
    if project is None:
        return 0
    return explore.person_days_rebuild(project_id, zone=project.zone.key)
