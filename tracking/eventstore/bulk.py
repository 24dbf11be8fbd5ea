"""Bulk loads and the reads that follow them: the demo world, the benchmarks, the copy to ClickHouse.

Rows are tuples in `EVENT_COLUMNS` order. Times may be datetimes or float
epoch seconds and uuids UUIDs or their 16 bytes; properties are JSON text.
On PostgreSQL the caller's cursor runs a binary COPY and its registered dumpers
encode those values; on ClickHouse the rows are converted and inserted in
blocks of `BLOCK` rows (ClickHouse wants few large inserts).
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from tracking.eventstore import using_clickhouse

EVENT_COLUMNS = (
    ("project_id", "int8"),
    ("uuid", "uuid"),
    ("person_id", "int8"),
    ("distinct_id", "text"),
    ("session_key", "text"),
    ("name", "text"),
    ("timestamp", "timestamptz"),
    ("received_at", "timestamptz"),
    ("url", "text"),
    ("path", "text"),
    ("el_text", "text"),
    ("href", "text"),
    ("elements_chain", "text"),
    ("properties", "jsonb"),
)
BLOCK = 100_000


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What reactions to stored events need of one event."""

    name: str
    person_id: int
    timestamp: datetime
    properties: dict


def _time_text(value: float | datetime) -> str:
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(value, tz=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _clickhouse_row(row: tuple) -> dict:
    uuid = row[1] if isinstance(row[1], uuidlib.UUID) else uuidlib.UUID(bytes=bytes(row[1]))
    return {
        "project_id": row[0],
        "uuid": str(uuid),
        "person_id": row[2],
        "distinct_id": row[3],
        "session_key": row[4],
        "name": row[5],
        "timestamp": _time_text(row[6]),
        "received_at": _time_text(row[7]),
        "url": row[8],
        "path": row[9],
        "el_text": row[10],
        "href": row[11],
        "elements_chain": row[12],
        "properties": row[13],
    }


def events_copy(cursor, rows: Iterable[tuple]) -> int:
    """Load event rows as they are (no retry check: the caller made them once); returns how many."""
    count = 0
    if not using_clickhouse():
        names = ", ".join(name for name, _ in EVENT_COLUMNS)
        with cursor.copy(f"COPY tracking_event ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([kind for _, kind in EVENT_COLUMNS])
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    from tracking.eventstore.clickhouse.client import client

    ch = client()
    block: list[dict] = []
    for row in rows:
        block.append(_clickhouse_row(row))
        if len(block) >= BLOCK:
            ch.insert_json(ch.table("events"), block)
            count += len(block)
            block = []
    if block:
        ch.insert_json(ch.table("events"), block)
        count += len(block)
    return count


def events_analyze() -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL; ClickHouse needs none)."""
    if using_clickhouse():
        return
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tracking_event")


def project_has_events(project_id: int) -> bool:
    if not using_clickhouse():
        from tracking.models import Event

        return Event.objects.filter(project_id=project_id).exists()
    from tracking.eventstore.clickhouse.client import Params, client

    ch = client()
    p = Params()
    rows = ch.query(
        f"SELECT 1 FROM {ch.table('events')} WHERE project_id = {p.add(project_id, 'UInt64')} LIMIT 1", p
    )
    return bool(rows)


def first_event_time(project_id: int, names: Sequence[str], properties: dict) -> datetime | None:
    """When the first event with one of `names` whose properties include `properties` (key: text value) happened."""
    if not using_clickhouse():
        from django.db.models import Min

        from tracking.models import Event

        return Event.objects.filter(
            project_id=project_id, name__in=names, properties__contains=properties
        ).aggregate(first=Min("timestamp"))["first"]
    from tracking.eventstore.clickhouse.client import Params, client
    from tracking.eventstore.clickhouse.filters import json_filter
    from tracking.eventstore.clickhouse.reads import events_from

    ch = client()
    p = Params()
    where = [f"e.name IN {p.add(list(names), 'Array(String)')}"]
    where += [json_filter("e.properties", key, "eq", value, p) for key, value in properties.items()]
    rows = ch.query(
        f"SELECT min(e.timestamp), count() FROM {events_from(ch, project_id, p)} WHERE {' AND '.join(where)}",
        p,
    )
    return rows[0][0] if rows and rows[0][1] else None


def events_property_rebind(project_id: int, names: Sequence[str], key: str, old: str, new: int) -> int:
    """Set property `key` to the number `new` on the events named `names` where its text is `old`; returns how many.

    For seeded data only (events are otherwise immutable): the demo world names
    its campaigns before they exist and binds them once they are created.
    """
    if not using_clickhouse():
        from django.db import connection

        with connection.cursor() as cursor:
            # event_project_name_ts finds the event names; a few thousand rows at the demo's size
            cursor.execute(
                "UPDATE tracking_event SET properties = properties || jsonb_build_object(%s::text, %s::bigint)"
                " WHERE project_id = %s AND name = ANY(%s) AND properties ->> %s = %s",
                [key, new, project_id, list(names), key, old],
            )
            return cursor.rowcount
    from tracking.eventstore.clickhouse.client import Params, client

    ch = client()
    p = Params()
    where = (
        f"project_id = {p.add(project_id, 'UInt64')} AND name IN {p.add(list(names), 'Array(String)')}"
        f" AND JSONExtractString(properties, {p.add(key, 'String')}) = {p.add(old, 'String')}"
    )
    count = ch.query(f"SELECT count() FROM {ch.table('events')} WHERE {where}", p)[0][0]
    if count:
        patch = p.add(orjson.dumps({key: new}).decode(), "String")
        ch.command(
            f"ALTER TABLE {ch.table('events')}{ch.on_cluster()} UPDATE properties = JSONMergePatch(properties, {patch})"
            f" WHERE {where} SETTINGS mutations_sync = 2",
            p,
        )
    return count


def events_with_property(
    project_id: int,
    names: Sequence[str],
    key: str,
    values: Sequence[str],
    *,
    first_per_person: bool = False,
) -> list[EventFacts]:
    """Events named `names` whose property `key` has one of the text `values`; with `first_per_person`,
    each person's earliest only (ties: the smaller uuid)."""
    if not using_clickhouse():
        from django.db.models.fields.json import KeyTextTransform

        from tracking.models import Event

        queryset = (
            Event.objects.filter(project_id=project_id, name__in=names)
            .alias(value=KeyTextTransform(key, "properties"))
            .filter(value__in=list(values))
        )
        if first_per_person:
            queryset = queryset.order_by("person_id", "timestamp", "uuid").distinct("person_id")
        return [
            EventFacts(e.name, e.person_id, e.timestamp, e.properties)
            for e in queryset.only("name", "person_id", "timestamp", "properties")
        ]
    from tracking.eventstore.clickhouse.client import Params, client
    from tracking.eventstore.clickhouse.filters import json_filter
    from tracking.eventstore.clickhouse.reads import events_from

    ch = client()
    p = Params()
    condition = f"e.name IN {p.add(list(names), 'Array(String)')} AND {json_filter('e.properties', key, 'in', list(values), p)}"
    sql = f"SELECT e.name, e.person_id, e.timestamp, e.properties FROM {events_from(ch, project_id, p)} WHERE {condition}"
    if first_per_person:
        sql += " ORDER BY e.person_id, e.timestamp, toString(e.uuid) LIMIT 1 BY e.person_id"
    return [EventFacts(name, person, ts, orjson.loads(props)) for name, person, ts, props in ch.query(sql, p)]
