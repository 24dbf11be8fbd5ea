"""Event lists on ClickHouse: the explorer, timelines, names and single events.

Lists order by `(timestamp, toString(uuid))`: ClickHouse compares UUIDs by their
two 64-bit halves, not in their text order, and the text order is PostgreSQL's,
so ties fall the same way on both backends. Name and time filters go into
`events_from`'s inner condition, where the primary key (project_id, …) and the
monthly partitions prune; a person filter is on the merged id, with the
person's own and merged-away ids pushed down as well.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime

import orjson

from tracking.eventstore.clickhouse.client import Client, Params, client
from tracking.eventstore.clickhouse.reads import events_from
from tracking.eventstore.stored import EventCursor, StoredEvent

SELECT_EVENT = (
    "e.uuid, e.person_id, e.distinct_id, e.session_key, e.name, e.timestamp,"
    " e.url, e.path, e.el_text, e.href, e.elements_chain, e.properties"
)
# DateTime64's range; no stored event lies outside it (timestamps are clamped to receipt)
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(2262, 1, 1, tzinfo=UTC)


def moment(value: datetime) -> datetime:
    """`value` inside DateTime64's range, so an out-of-range bound filters as it would on PostgreSQL."""
    return min(max(value, _EARLIEST), _LATEST)


def to_event(row: tuple) -> StoredEvent:
    *head, properties = row
    return StoredEvent(*head, properties=orjson.loads(properties) if properties else {})


def as_uuid(value) -> uuidlib.UUID:
    return value if isinstance(value, uuidlib.UUID) else uuidlib.UUID(str(value))


def to_events(rows: list[tuple]) -> list[StoredEvent]:
    return [to_event((as_uuid(row[0]), int(row[1]), *row[2:])) for row in rows]


def person_ids_where(ch: Client, project_id: int, person_ids: list[int], p: Params) -> str:
    """A condition over stored person ids: these persons and those merged into them (a superset,
    for pruning by the primary key; the exact test is on the merged id)."""
    ids = p.add(person_ids, "Array(Int64)")
    return (
        f"(person_id IN {ids} OR person_id IN (SELECT old_person_id FROM {ch.table('person_overrides')}"
        f" WHERE project_id = {p.add(project_id, 'UInt64')} AND new_person_id IN {ids}))"
    )


def _position(cursor: EventCursor, op: str, p: Params) -> str:
    stamp = p.add(moment(cursor.timestamp), "DateTime64(6)")
    return f"(e.timestamp, toString(e.uuid)) {op} ({stamp}, {p.add(str(cursor.uuid), 'String')})"


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
    ch, p = client(), Params()
    inner: list[str] = []
    outer: list[str] = []
    if name is not None:
        inner.append(f"name = {p.add(name, 'String')}")
    if person_id is not None:
        inner.append(person_ids_where(ch, project_id, [person_id], p))
        outer.append(f"e.person_id = {p.add(person_id, 'Int64')}")
    if after is not None:
        inner.append(f"timestamp >= {p.add(moment(after), 'DateTime64(6)')}")
    if before is not None:
        inner.append(f"timestamp < {p.add(moment(before), 'DateTime64(6)')}")
    if newer_than is not None:
        inner.append(f"timestamp >= {p.add(moment(newer_than.timestamp), 'DateTime64(6)')}")
        outer.append(_position(newer_than, ">", p))
    if cursor is not None:
        bound = moment(cursor.timestamp)
        inner.append(f"timestamp {'>=' if ascending else '<='} {p.add(bound, 'DateTime64(6)')}")
        outer.append(_position(cursor, ">" if ascending else "<", p))
    relation = events_from(ch, project_id, p, where=" AND ".join(inner))
    direction = "ASC" if ascending else "DESC"
    where = f" WHERE {' AND '.join(outer)}" if outer else ""
    rows = ch.query(
        f"SELECT {SELECT_EVENT} FROM {relation}{where}"
        f" ORDER BY e.timestamp {direction}, toString(e.uuid) {direction} LIMIT {p.add(limit, 'UInt64')}",
        p,
    )
    return to_events(rows)


def event_exists(project_id: int, name: str | None) -> bool:
    """Whether any is stored: persons play no part, so this reads the table itself (one granule)."""
    ch, p = client(), Params()
    condition = f" AND name = {p.add(name, 'String')}" if name is not None else ""
    rows = ch.query(
        f"SELECT 1 FROM {ch.table('events')} WHERE project_id = {p.add(project_id, 'UInt64')}{condition} LIMIT 1",
        p,
    )
    return bool(rows)


def event_names(project_id: int, limit: int) -> list[str]:
    """Distinct names, from the table itself (persons play no part): `name` is
    LowCardinality, so this reads one small column of the project's parts."""
    ch, p = client(), Params()
    rows = ch.query(
        f"SELECT DISTINCT name FROM {ch.table('events')} WHERE project_id = {p.add(project_id, 'UInt64')}"
        f" ORDER BY name LIMIT {p.add(limit, 'UInt64')}",
        p,
    )
    return [row[0] for row in rows]


def events_by_uuid(project_id: int, uuids: list[uuidlib.UUID]) -> list[StoredEvent]:
    if not uuids:
        return []
    ch, p = client(), Params()
    where = f"uuid IN {p.add([str(u) for u in uuids], 'Array(UUID)')}"
    rows = ch.query(f"SELECT {SELECT_EVENT} FROM {events_from(ch, project_id, p, where=where)}", p)
    return to_events(rows)


def person_event_counts(project_id: int, person_ids: list[int]) -> dict[int, int]:
    ch, p = client(), Params()
    relation = events_from(ch, project_id, p, where=person_ids_where(ch, project_id, person_ids, p))
    rows = ch.query(
        f"SELECT e.person_id, count() FROM {relation}"
        f" WHERE e.person_id IN {p.add(person_ids, 'Array(Int64)')} GROUP BY e.person_id",
        p,
    )
    return {int(person): int(n) for person, n in rows}


def person_days(project_id: int, zone: str) -> list[tuple]:
    """(person id, day in `zone`, events, first, last) per person and day, merged persons resolved."""
    ch, p = client(), Params()
    tz = p.add(zone, "String")
    return ch.query(
        f"SELECT e.person_id, toDate(e.timestamp, {tz}) AS day, count(), min(e.timestamp), max(e.timestamp)"
        f" FROM {events_from(ch, project_id, p)} GROUP BY e.person_id, day",
        p,
    )
