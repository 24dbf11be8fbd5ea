"""The event store: every read and write of events goes through this package.

Two backends, chosen by CLICKHOUSE_URL (config.clickhouse):
- unset: PostgreSQL, the `tracking_event` table (`postgres/`);
- set: ClickHouse, a server or chDB in process (`clickhouse/`). Events then live
  only there; persons, sessions, rollups and everything else stay in PostgreSQL.

The functions here are the boundary. Each says what it means on both backends;
no module outside this package writes SQL against the events.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from tracking.dataversion import data_changed
from tracking.eventstore.rows import NewEvent


def using_clickhouse() -> bool:
    return bool(settings.CLICKHOUSE)


def backend_name() -> str:
    return "clickhouse" if using_clickhouse() else "postgres"


# -- writes -------------------------------------------------------------------------


def stored_uuids(project_id: int, events: list) -> set:
    """Which of these checked events (ingest CleanEvents) are stored already: a client's retry.

    On ClickHouse an event stored under a person id that does not exist (its
    chunk's PostgreSQL transaction rolled back after the insert) does not count:
    its chunk is stored again and `events_write` re-points the row.
    """
    if not events:
        return set()
    if not using_clickhouse():
        from tracking.eventstore.postgres.writes import existing_uuids

        return existing_uuids(project_id, [e.uuid for e in events])
    from tracking.eventstore.clickhouse.writes import stored_persons
    from tracking.models import Person

    stored = stored_persons(project_id, [e.uuid for e in events])
    live = set(
        Person.objects.filter(project_id=project_id, pk__in=set(stored.values())).values_list("pk", flat=True)
    )
    return {uuid for uuid, person_id in stored.items() if person_id in live}


def events_write(
    project_id: int, events: list, mapping: dict[str, int], received_at: datetime, paths: list[str]
) -> None:
    """Write checked events (ingest CleanEvents) under the persons `mapping` resolved for their distinct ids.

    PostgreSQL: one binary COPY inside the caller's transaction; a uuid stored
    before fails it with a unique violation (the pipeline retries without it).
    ClickHouse: one insert of the events not stored yet.
    """
    if not using_clickhouse():
        from tracking.eventstore.postgres.writes import copy_events

        copy_events(project_id, events, mapping, received_at, paths)
        return
    from tracking.eventstore.clickhouse.writes import events_insert

    rows = [
        NewEvent(
            project_id=project_id,
            uuid=e.uuid,
            person_id=mapping[e.distinct_id],
            distinct_id=e.distinct_id,
            session_key=e.session_key,
            name=e.name,
            timestamp=e.timestamp,
            received_at=e.received_at or received_at,
            url=e.url,
            path=path,
            el_text=e.el_text,
            href=e.href,
            elements_chain=e.elements_chain,
            properties_json=e.properties_json,
        )
        for e, path in zip(events, paths, strict=True)
    ]
    events_insert(project_id, rows, live_persons=set(mapping.values()))


def person_events_move(project_id: int, *, source: int, target: int) -> None:
    """An identify merge: `source`'s events are `target`'s from now on, on every read."""
    if not using_clickhouse():
        from tracking.eventstore.postgres.writes import person_events_move as move

        move(project_id, source=source, target=target)
        return
    from tracking.eventstore.clickhouse.writes import override_add

    override_add(project_id, old=source, new=target)


def person_events_delete(project_id: int, person_id: int) -> None:
    """Erasure: the person's events, including those recorded before merges into them."""
    data_changed(project_id)
    if not using_clickhouse():
        from tracking.eventstore.postgres.writes import person_events_delete as delete

        delete(project_id, person_id)
        return
    from tracking.eventstore.clickhouse.writes import person_delete

    person_delete(project_id, person_id)


def project_events_delete(project_id: int) -> None:
    if not using_clickhouse():
        from tracking.eventstore.postgres.writes import project_events_delete as delete

        delete(project_id)
        return
    from tracking.eventstore.clickhouse.writes import project_delete

    project_delete(project_id)


def events_before_delete(project_id: int, before: datetime, *, batch: int = 20_000) -> int:
    """Retention: delete the project's events older than `before`; returns how many were deleted."""
    if not using_clickhouse():
        from tracking.eventstore.postgres.writes import events_before_delete as delete

        deleted = delete(project_id, before, batch=batch)
    else:
        from tracking.eventstore.clickhouse.writes import events_before_delete as delete

        deleted = delete(project_id, before)
    if deleted:
        data_changed(project_id)
    return deleted
