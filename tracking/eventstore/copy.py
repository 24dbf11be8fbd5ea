"""Moving a project's events from PostgreSQL to ClickHouse (`manage.py events_copy_to_clickhouse`).

Reads `tracking_event` in id order, a block at a time, and inserts each block
into ClickHouse through the same exactly-once write as ingestion (uuids already
there are skipped). After every block the last copied id is recorded in
ClickHouse (`copy_progress`), so an interrupted copy resumes where it stopped;
`restart` ignores that record (the uuid check still prevents doubles).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection

from tracking.eventstore.clickhouse.client import Params, client
from tracking.eventstore.clickhouse.writes import events_insert
from tracking.eventstore.rows import NewEvent

BLOCK = 50_000


@dataclass
class CopyProgress:
    copied: int  # events copied so far, this run and earlier ones
    total: int  # events of the project in PostgreSQL
    last_id: int


def _progress_get(project_id: int) -> tuple[int, int]:
    ch = client()
    p = Params()
    rows = ch.query(
        f"SELECT argMax(last_id, version), argMax(copied, version) FROM {ch.table('copy_progress')}"
        f" WHERE project_id = {p.add(project_id, 'UInt64')} HAVING count() > 0",
        p,
    )
    return (rows[0][0], rows[0][1]) if rows else (0, 0)


def _progress_set(project_id: int, last_id: int, copied: int) -> None:
    ch = client()
    p = Params()
    ch.command(
        f"INSERT INTO {ch.table('copy_progress')} (project_id, last_id, copied, version) VALUES"
        f" ({p.add(project_id, 'UInt64')}, {p.add(last_id, 'Int64')}, {p.add(copied, 'UInt64')},"
        " toUInt64(toUnixTimestamp64Micro(now64(6))))",
        p,
    )


def _blocks(project_id: int, after_id: int, size: int) -> Iterator[list[tuple]]:
    while True:
        with connection.cursor() as cursor:
            # the primary key serves the id order; project_id filters inside it
            cursor.execute(
                "SELECT id, uuid, person_id, distinct_id, session_key, name, timestamp, received_at,"
                " url, path, el_text, href, elements_chain, properties::text"
                " FROM tracking_event WHERE project_id = %s AND id > %s ORDER BY id LIMIT %s",
                [project_id, after_id, size],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        after_id = rows[-1][0]


def events_copy_to_clickhouse(
    project_id: int,
    *,
    restart: bool = False,
    block: int = BLOCK,
    report: Callable[[CopyProgress], None] | None = None,
) -> CopyProgress:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tracking_event WHERE project_id = %s", [project_id])
        total = cursor.fetchone()[0]
    last_id, copied = (0, 0) if restart else _progress_get(project_id)
    progress = CopyProgress(copied=copied, total=total, last_id=last_id)
    for rows in _blocks(project_id, last_id, block):
        events_insert(
            project_id,
            # the jsonb text as is: numbers read back as PostgreSQL reads them (1.50 stays 1.50)
            [NewEvent(project_id, *row[1:13], row[13].encode()) for row in rows],
        )
        progress.last_id = rows[-1][0]
        progress.copied += len(rows)
        _progress_set(project_id, progress.last_id, progress.copied)
        if report:
            report(progress)
    return progress
