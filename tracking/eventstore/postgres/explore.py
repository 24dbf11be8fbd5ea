"""Event lists on PostgreSQL: the explorer, timelines, names and single events (`tracking_event`).

Every query starts with `project_id`. The two btree indexes on events lead with
the project and end with the timestamp, so newest-first lists order by
`(timestamp, uuid)`: `event_project_name_ts` serves a list filtered by event name,
`event_project_person_ts` a person's timeline (the uuid only orders ties, an
incremental sort of a few rows). A list with neither filter has no btree to walk
in timestamp order; it is read through growing time windows that the BRIN index
on `timestamp` narrows to the recent end of the table.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from tracking.eventstore.stored import EVENT_COLUMNS, EventCursor, StoredEvent
from tracking.models import Event

# Windows tried, in turn, for a newest-first list without a name or person filter: a busy
# project fills a page from the last hour; a quiet one costs at most four small queries.
_WINDOWS = (timedelta(hours=1), timedelta(days=1), timedelta(days=31))
# Event timestamps are clamped to the time of receipt, give or take a clock.
_FUTURE_SLACK = timedelta(minutes=10)


def stored(rows: Iterable[tuple]) -> list[StoredEvent]:
    return [StoredEvent(*row) for row in rows]


def _after(queryset: QuerySet, cursor: EventCursor) -> QuerySet:
    # The redundant range on timestamp keeps the index condition; the OR settles ties.
    return queryset.filter(timestamp__gte=cursor.timestamp).filter(
        Q(timestamp__gt=cursor.timestamp) | Q(uuid__gt=cursor.uuid)
    )


def _before(queryset: QuerySet, cursor: EventCursor) -> QuerySet:
    return queryset.filter(timestamp__lte=cursor.timestamp).filter(
        Q(timestamp__lt=cursor.timestamp) | Q(uuid__lt=cursor.uuid)
    )


def event_page(
    project_id: int,
    *,
    name: str | None,
    person_id: int | None,
    after: datetime | None,
    before: datetime | None,
    cursor: EventCursor | None,
    newer_than: EventCursor | None,
    ascending: bool,
    limit: int,
) -> list[StoredEvent]:
    queryset = Event.objects.filter(project_id=project_id)
    if name is not None:
        queryset = queryset.filter(name=name)
    if person_id is not None:
        queryset = queryset.filter(person_id=person_id)
    if after is not None:
        queryset = queryset.filter(timestamp__gte=after)
    if before is not None:
        queryset = queryset.filter(timestamp__lt=before)
    if newer_than is not None:
        queryset = _after(queryset, newer_than)
    if cursor is not None:
        queryset = _after(queryset, cursor) if ascending else _before(queryset, cursor)
    queryset = (
        queryset.order_by("timestamp", "uuid") if ascending else queryset.order_by("-timestamp", "-uuid")
    ).values_list(*EVENT_COLUMNS)

    if name is not None or person_id is not None or ascending:
        return stored(queryset[:limit])
    upper = min(
        (bound for bound in (before, cursor.timestamp if cursor else None) if bound is not None),
        default=timezone.now() + _FUTURE_SLACK,
    )
    lower = max(
        (bound for bound in (after, newer_than.timestamp if newer_than else None) if bound is not None),
        default=None,
    )
    return stored(_newest_in_windows(queryset, upper=upper, lower=lower, limit=limit))


def _newest_in_windows(queryset: QuerySet, *, upper: datetime, lower: datetime | None, limit: int) -> list:
    """The first `limit` rows of a newest-first queryset, reading only as far back as needed.

    When a window [upper - w, upper] holds `limit` rows they are the newest of all,
    since everything outside it is older. Relies on `event_timestamp_brin`.
    """
    for window in _WINDOWS:
        try:
            start = upper - window
        except OverflowError:  # near datetime.min: nothing to narrow
            break
        if lower is not None and start <= lower:
            break
        rows = list(queryset.filter(timestamp__gte=start)[:limit])
        if len(rows) == limit:
            return rows
    return list(queryset[:limit])


def event_exists(project_id: int, name: str | None) -> bool:
    """One probe of `event_project_name_ts`."""
    queryset = Event.objects.filter(project_id=project_id)
    if name is not None:
        queryset = queryset.filter(name=name)
    return queryset.exists()


def event_names(project_id: int, limit: int) -> list[str]:
    """A loose index scan: one probe of `event_project_name_ts` per distinct name,
    rather than reading every event as `SELECT DISTINCT name` would."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE names(name) AS (
                (SELECT name FROM tracking_event WHERE project_id = %(project)s ORDER BY name LIMIT 1)
                UNION ALL
                SELECT (SELECT e.name FROM tracking_event e
                        WHERE e.project_id = %(project)s AND e.name > names.name ORDER BY e.name LIMIT 1)
                FROM names WHERE names.name IS NOT NULL
            )
            SELECT name FROM names WHERE name IS NOT NULL LIMIT %(limit)s
            """,
            {"project": project_id, "limit": limit},
        )
        return [row[0] for row in cursor.fetchall()]


def event_get(project_id: int, event_uuid: uuidlib.UUID) -> StoredEvent | None:
    """The unique index event_project_uuid (project_id, uuid)."""
    found = stored(
        Event.objects.filter(project_id=project_id, uuid=event_uuid).values_list(*EVENT_COLUMNS)[:1]
    )
    return found[0] if found else None


def events_by_uuid(project_id: int, uuids: list[uuidlib.UUID]) -> list[StoredEvent]:
    return stored(Event.objects.filter(project_id=project_id, uuid__in=uuids).values_list(*EVENT_COLUMNS))


def person_event_counts(project_id: int, person_ids: list[int]) -> dict[int, int]:
    """event_project_person_ts: one range per person."""
    rows = (
        Event.objects.filter(project_id=project_id, person_id__in=person_ids)
        .values("person_id")
        .annotate(count=Count("*"))
        .values_list("person_id", "count")
    )
    return dict(rows)


def person_days_rebuild(project_id: int) -> int:
    """Both daily rollups from the events; returns the rows of tracking_personday."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracking_personday WHERE project_id = %s", [project_id])
        cursor.execute(
            "INSERT INTO tracking_personday (project_id, person_id, day, events, first_at, last_at)"
            " SELECT e.project_id, e.person_id, (e.timestamp AT TIME ZONE p.timezone)::date, count(*),"
            "        min(e.timestamp), max(e.timestamp)"
            " FROM tracking_event e JOIN tracking_project p ON p.id = e.project_id"
            " WHERE e.project_id = %s GROUP BY 1, 2, 3",
            [project_id],
        )
        days = cursor.rowcount
        cursor.execute("DELETE FROM tracking_personeventday WHERE project_id = %s", [project_id])
        cursor.execute(
            "INSERT INTO tracking_personeventday (project_id, person_id, day, name, events)"
            " SELECT e.project_id, e.person_id, (e.timestamp AT TIME ZONE p.timezone)::date, e.name, count(*)"
            " FROM tracking_event e JOIN tracking_project p ON p.id = e.project_id"
            " WHERE e.project_id = %s GROUP BY 1, 2, 3, 4",
            [project_id],
        )
        return days


def person_event_day_recount(project_id: int, day: date, *, start: datetime, end: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tracking_personeventday WHERE project_id = %s AND day = %s", [project_id, day]
        )
        # event_timestamp_brin narrows the scan to the day's block ranges
        cursor.execute(
            "INSERT INTO tracking_personeventday (project_id, person_id, day, name, events)"
            " SELECT %s, person_id, %s, name, count(*) FROM tracking_event"
            " WHERE project_id = %s AND timestamp >= %s AND timestamp < %s GROUP BY person_id, name",
            [project_id, day, project_id, start, end],
        )


def person_days_replace(project_id: int, days: list[tuple], *, chunk: int = 50_000) -> int:
    """Replace the project's rollup with `days`: (person id, day, events, first, last) rows."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracking_personday WHERE project_id = %s", [project_id])
        for start in range(0, len(days), chunk):
            persons, dates, counts, firsts, lasts = zip(*days[start : start + chunk], strict=True)
            cursor.execute(
                "INSERT INTO tracking_personday (project_id, person_id, day, events, first_at, last_at)"
                " SELECT %s, * FROM unnest(%s::bigint[], %s::date[], %s::int[], %s::timestamptz[], %s::timestamptz[])",
                [project_id, list(persons), list(dates), list(counts), list(firsts), list(lasts)],
            )
    return len(days)
