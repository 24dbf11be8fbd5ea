"""Writing, merging and erasing events in ClickHouse.

Exactly once: rows are never updated, so a retried event must not be written
twice. `events_insert` asks which of the chunk's uuids are stored already (one
query: the primary key narrows it to the project, a bloom filter on uuid to
the granules that may hold them; not the time span, since a retry without a
client timestamp is stamped anew) and writes only the others, in one insert per
drained chunk.

A chunk whose insert succeeded but whose PostgreSQL transaction then failed is
drained again: its events are found stored, but under person ids resolved by the
rolled-back transaction. Those ids never existed, so the retry maps them onto
the ids it resolves now through `person_overrides`, as a merge would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tracking.eventstore.clickhouse.client import Params, client
from tracking.eventstore.rows import NewEvent


def _version() -> int:
    return int(datetime.now().timestamp() * 1_000_000)


def stored_persons(project_id: int, uuids: Sequence) -> dict:
    """{uuid: person id as stored (overrides applied)} for those of `uuids` already written."""
    if not uuids:
        return {}
    ch = client()
    p = Params()
    sql = (
        f"SELECT e.uuid, if(o.new_person_id = 0, e.person_id, o.new_person_id)"
        f" FROM {ch.table('events')} e"
        f" LEFT ANY JOIN ({overrides_sql(ch, project_id, p)}) o ON o.old_person_id = e.person_id"
        f" WHERE e.project_id = {p.add(project_id, 'UInt64')}"
        f" AND e.uuid IN {p.add([str(u) for u in uuids], 'Array(UUID)')}"
    )
    return {row[0]: row[1] for row in ch.query(sql, p)}


def overrides_sql(ch, project_id: int, p: Params) -> str:
    """`old_person_id, new_person_id` for the project's merged persons (latest version of each)."""
    return (
        f"SELECT old_person_id, argMax(new_person_id, version) AS new_person_id"
        f" FROM {ch.table('person_overrides')} WHERE project_id = {p.add(project_id, 'UInt64')}"
        " GROUP BY old_person_id"
    )


def events_insert(project_id: int, rows: list[NewEvent], *, live_persons: set[int] | None = None) -> int:
    """Write the rows not stored yet; returns how many were written.

    `live_persons`, when given, are person ids known to exist in PostgreSQL: a
    stored row under any other id is re-pointed at the id resolved now.
    """
    if not rows:
        return 0
    stored = stored_persons(project_id, [row.uuid for row in rows])
    fresh = [row for row in rows if row.uuid not in stored]
    if stored and live_persons is not None:
        repoint = {}
        for row in rows:
            was = stored.get(row.uuid)
            if was is not None and was != row.person_id and was not in live_persons:
                repoint[was] = row.person_id
        for old, new in repoint.items():
            override_add(project_id, old=old, new=new)
    if fresh:
        ch = client()
        ch.insert_json(ch.table("events"), (row.clickhouse() for row in fresh))
    return len(fresh)


def override_add(project_id: int, *, old: int, new: int) -> None:
    """Read `old`'s events as `new`'s from now on, and re-point earlier merges into `old`."""
    ch = client()
    p = Params()
    version = _version()
    ch.command(
        f"INSERT INTO {ch.table('person_overrides')} (project_id, old_person_id, new_person_id, version)"
        f" SELECT {p.add(project_id, 'UInt64')}, old_person_id, {p.add(new, 'Int64')}, {p.add(version, 'UInt64')}"
        f" FROM ({overrides_sql(ch, project_id, p)}) WHERE new_person_id = {p.add(old, 'Int64')}"
        f" UNION ALL SELECT {p.add(project_id, 'UInt64')}, {p.add(old, 'Int64')}, {p.add(new, 'Int64')},"
        f" {p.add(version, 'UInt64')}",
        p,
    )


def merged_into(project_id: int, person_id: int) -> list[int]:
    """Ids whose events now read as `person_id`'s."""
    ch = client()
    p = Params()
    rows = ch.query(
        f"SELECT old_person_id FROM ({overrides_sql(ch, project_id, p)})"
        f" WHERE new_person_id = {p.add(person_id, 'Int64')}",
        p,
    )
    return [row[0] for row in rows]


def person_delete(project_id: int, person_id: int) -> None:
    """Erase a person's events, including those recorded under ids merged into it."""
    ch = client()
    ids = [person_id, *merged_into(project_id, person_id)]
    p = Params()
    ch.command(
        f"DELETE FROM {ch.table('events')}{ch.on_cluster()} WHERE project_id = {p.add(project_id, 'UInt64')}"
        f" AND person_id IN {p.add(ids, 'Array(Int64)')}",
        p,
    )
    p = Params()
    ch.command(
        f"DELETE FROM {ch.table('person_overrides')}{ch.on_cluster()}"
        f" WHERE project_id = {p.add(project_id, 'UInt64')} AND old_person_id IN {p.add(ids, 'Array(Int64)')}",
        p,
    )


def project_delete(project_id: int) -> None:
    ch = client()
    for table in ("events", "person_overrides"):
        p = Params()
        ch.command(
            f"DELETE FROM {ch.table(table)}{ch.on_cluster()} WHERE project_id = {p.add(project_id, 'UInt64')}",
            p,
        )


def events_before_delete(project_id: int, before: datetime) -> int:
    """Retention: drop the project's events older than `before`; returns how many there were."""
    ch = client()
    p = Params()
    where = f"project_id = {p.add(project_id, 'UInt64')} AND timestamp < {p.add(before, 'DateTime64(6)')}"
    count = ch.query(f"SELECT count() FROM {ch.table('events')} WHERE {where}", p)[0][0]
    if count:
        ch.command(f"DELETE FROM {ch.table('events')}{ch.on_cluster()} WHERE {where}", p)
    return count
