"""Reading events for the data pages: the explorer and its live tail, person timelines, the
export, single events, per-person counts, the overview's and the actions' counts, and the
daily rollup's rebuild.

Every function answers the same on both backends (`tracking.eventstore`): plain
`StoredEvent` rows, ordered by `(timestamp, uuid)` where order matters, persons
as they are after identity merges.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tracking.eventstore import using_clickhouse
from tracking.eventstore.stored import START, EventCursor, StoredEvent
from tracking.eventstore.summary import ActivitySummary, MatchSummary


def event_list(
    project_id: int,
    *,
    name: str | None = None,
    person_id: int | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    cursor: EventCursor | None = None,
    ascending: bool = False,
    limit: int = 100,
) -> list[StoredEvent]:
    """Up to `limit` events of the project, newest first (or oldest first), past `cursor`.

    `after` is inclusive and `before` exclusive. Ask for one more than a page to
    know whether another page follows.
    """
    arguments = {
        "name": name, "person_id": person_id, "after": after, "before": before,
        "cursor": cursor, "newer_than": None, "ascending": ascending, "limit": limit,
    }  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.explore import event_page

        return event_page(project_id, **arguments)
    from tracking.eventstore.clickhouse.explore import event_page

    return event_page(project_id, **arguments)


def event_list_newer(
    project_id: int, *, since: EventCursor, name: str | None = None, limit: int = 100
) -> list[StoredEvent]:
    """The newest `limit` events after position `since` (the newest a live page shows), newest first.

    By position in time, not by arrival: an event that arrives late with a
    timestamp before `since` is not "newer"; it shows in its place on the next
    full load of the list.
    """
    if since == START and not event_exists(project_id, name=name):
        return []  # nothing to find: the common case of a project waiting for its first event
    arguments = {
        "name": name, "person_id": None, "after": None, "before": None,
        "cursor": None, "newer_than": since, "ascending": False, "limit": limit,
    }  # fmt: skip
    if not using_clickhouse():
        from tracking.eventstore.postgres.explore import event_page

        return event_page(project_id, **arguments)
    from tracking.eventstore.clickhouse.explore import event_page

    return event_page(project_id, **arguments)


def event_exists(project_id: int, *, name: str | None = None) -> bool:
    """Has the project any event (of this name)?"""
    if not using_clickhouse():
        from tracking.eventstore.postgres.explore import event_exists as exists

        return exists(project_id, name)
    from tracking.eventstore.clickhouse.explore import event_exists as exists

    return exists(project_id, name)


def event_names(project_id: int, *, limit: int) -> list[str]:
    """The distinct event names the project has seen, alphabetically (byte order)."""
    if not using_clickhouse():
        from tracking.eventstore.postgres.explore import event_names as names

        return names(project_id, limit)
    from tracking.eventstore.clickhouse.explore import event_names as names

    return names(project_id, limit)


def events_by_uuid(project_id: int, uuids: list[uuidlib.UUID]) -> list[StoredEvent]:
    """The project's events with these uuids (any order); another project's uuid finds nothing."""
    if not uuids:
        return []
    if not using_clickhouse():
        from tracking.eventstore.postgres.explore import events_by_uuid as found

        return found(project_id, uuids)
    from tracking.eventstore.clickhouse.explore import events_by_uuid as found

    return found(project_id, uuids)


def event_get(project_id: int, event_uuid: uuidlib.UUID) -> StoredEvent | None:
    """The project's event with this uuid, or None."""
    found = events_by_uuid(project_id, [event_uuid])
    return found[0] if found else None


def person_event_counts(project_id: int, person_ids: list[int]) -> dict[int, int]:
    """How many events each of these persons has (persons without any are left out)."""
    if not person_ids:
        return {}
    if not using_clickhouse():
        from tracking.eventstore.postgres.explore import person_event_counts as counts

        return counts(project_id, person_ids)
    from tracking.eventstore.clickhouse.explore import person_event_counts as counts

    return counts(project_id, person_ids)


def person_days_rebuild(project_id: int, *, zone: str) -> int:
    """Recompute the project's daily rollup (tracking_personday) from its events; returns its rows.

    PostgreSQL: one INSERT … SELECT. ClickHouse: the days are counted there
    (persons merged) and written to PostgreSQL in chunks, inside the caller's
    transaction.
    """
    if not using_clickhouse():
        from tracking.eventstore.postgres.explore import person_days_rebuild as rebuild

        return rebuild(project_id)
    from tracking.eventstore.clickhouse.explore import person_days
    from tracking.eventstore.postgres.explore import person_days_replace

    return person_days_replace(project_id, person_days(project_id, zone))


def person_event_day_recount(project_id: int, day: date, *, start: datetime, end: datetime) -> None:
    """Count one day of tracking.PersonEventDay again from the events in [start, end) (retention cut
    the day at `start`). PostgreSQL only: with ClickHouse the rollup is not kept."""
    if using_clickhouse():
        return
    from tracking.eventstore.postgres.explore import person_event_day_recount as recount

    recount(project_id, day, start=start, end=end)


# -- the overview and actions ---------------------------------------------------------


def _summary_backend():
    if not using_clickhouse():
        from tracking.eventstore.postgres import summary
    else:
        from tracking.eventstore.clickhouse import summary
    return summary


def activity_summary(
    project_id: int, *, since: datetime, zone: ZoneInfo, excluded: tuple[str, list] | None, top: int
) -> ActivitySummary:
    """Events since `since`: per day in `zone` and in total (events, distinct persons), the top
    `top` $pageview paths and $autocapture targets (ties by path / target, byte order).

    `excluded` is the traffic filter's PostgreSQL `SELECT person_id` (and its
    parameters) of persons left out, or None.
    """
    return _summary_backend().activity_summary(project_id, since=since, zone=zone, excluded=excluded, top=top)


def action_match_counts(
    project_id: int, steps_list: list[list[dict]], *, since: datetime, until: datetime
) -> list[tuple[int, int]]:
    """(events, distinct persons) matching each list of action steps in [since, until)."""
    if not steps_list:
        return []
    return _summary_backend().match_counts(project_id, steps_list, since, until)


def action_match_summary(
    project_id: int, steps: list[dict], *, since: datetime, until: datetime, limit: int, timeout_ms: int
) -> MatchSummary | None:
    """What the steps match in [since, until): totals, the top `limit` clicked targets and pages;
    None when the count ran past `timeout_ms` (it runs while someone types)."""
    return _summary_backend().match_summary(
        project_id, steps, since, until, limit=limit, timeout_ms=timeout_ms
    )


def action_matched_events(
    project_id: int, steps: list[dict], *, offset: int, limit: int
) -> list[StoredEvent]:
    """Events the steps match, newest first, `limit` from `offset`."""
    return _summary_backend().matched_events(project_id, steps, offset=offset, limit=limit)


def action_matched_count(project_id: int, steps: list[dict]) -> int:
    """How many stored events the steps match."""
    return _summary_backend().matched_count(project_id, steps)
