"""Writing events to PostgreSQL: binary COPY (several times faster than INSERT for a batch), merges, erasure."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from psycopg import adapt, pq

from tracking.ingest.validate import CleanEvent

COLUMNS = (
    "project_id",
    "uuid",
    "person_id",
    "distinct_id",
    "session_key",
    "name",
    "timestamp",
    "received_at",
    "url",
    "path",
    "el_text",
    "href",
    "elements_chain",
    "properties",
)
TYPES = (
    "int8",
    "uuid",
    "int8",
    "text",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "text",
    "text",
    "text",
    "text",
    "text",
    "jsonb",
)


class RawJsonb(bytes):
    """JSON already serialized by validation: handed to COPY as-is, not dumped again."""


class _RawJsonbBinaryDumper(adapt.Dumper):
    """Registered by oid on the COPY cursor only, so `set_types(..., "jsonb")` picks it."""

    format = pq.Format.BINARY
    oid = 3802  # jsonb

    def dump(self, obj: bytes) -> bytes:
        return b"\x01" + obj  # jsonb binary format: version byte, then the text


def existing_uuids(project_id: int, uuids: list) -> set:
    # relies on the unique index event_project_uuid (project_id, uuid)
    if not uuids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT uuid FROM tracking_event WHERE project_id = %s AND uuid = ANY(%s::uuid[])",
            [project_id, uuids],
        )
        return {row[0] for row in cursor.fetchall()}


def copy_events(
    project_id: int,
    events: list[CleanEvent],
    mapping: dict[str, int],
    received_at: datetime,
    paths: list[str],
) -> None:

    # The raw psycopg cursor bypasses Django's error translation: wrap_database_errors
    # turns a unique violation into the IntegrityError the pipeline retries on.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        raw.adapters.register_dumper(RawJsonb, _RawJsonbBinaryDumper)
        statement = f"COPY tracking_event ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        with raw.copy(statement) as copy:
            copy.set_types(TYPES)
            for e, path in zip(events, paths, strict=True):
                copy.write_row(
                    (
                        project_id,
                        e.uuid,
                        mapping[e.distinct_id],
                        e.distinct_id,
                        e.session_key,
                        e.name,
                        e.timestamp,
                        e.received_at or received_at,
                        e.url,
                        path,
                        e.el_text,
                        e.href,
                        e.elements_chain,
                        RawJsonb(e.properties_json),
                    )
                )


def person_events_move(project_id: int, *, source: int, target: int) -> None:
    with connection.cursor() as cursor:
        # relies on event_project_person_ts (project_id, person_id, timestamp)
        cursor.execute(
            "UPDATE tracking_event SET person_id = %s WHERE project_id = %s AND person_id = %s",
            [target, project_id, source],
        )


def person_events_delete(project_id: int, person_id: int) -> None:
    with connection.cursor() as cursor:
        # relies on event_project_person_ts (project_id, person_id, timestamp)
        cursor.execute(
            "DELETE FROM tracking_event WHERE project_id = %s AND person_id = %s", [project_id, person_id]
        )


def project_events_delete(project_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracking_event WHERE project_id = %s", [project_id])


def events_before_delete(project_id: int, before: datetime, *, batch: int) -> int:
    """Delete the project's events older than `before`, `batch` rows per transaction; returns how many."""
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            # event_timestamp_brin narrows the scan to the oldest block ranges
            cursor.execute(
                "DELETE FROM tracking_event WHERE id IN ("
                " SELECT id FROM tracking_event WHERE project_id = %s AND timestamp < %s LIMIT %s)",
                [project_id, before, batch],
            )
            deleted += cursor.rowcount
            if cursor.rowcount < batch:
                return deleted
