"""A segment's members as a file of any size: CSV or NDJSON, streamed in constant memory.

One server-side statement feeds the response: CSV comes from PostgreSQL's
`COPY … TO STDOUT`, its rows gathered into chunks of about 64 KB; NDJSON from a
named cursor read a few thousand rows at a time. Nothing holds the member list:
a million members cost the same memory as ten. Relies on membership_open_unique
(segment_id, person_id) for the open periods in person order.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection, transaction
from django.http import StreamingHttpResponse
from psycopg import sql

from segments.models import Segment

BATCH = 5000
CHUNK = 64 * 1024  # COPY sends a message per row: gathered into chunks of about this size
# Each member's person and distinct ids are looked up by index (primary key, person_id) rather
# than joined: the plan stays one pass over the open periods whatever the statistics say
# (a join planned on stale estimates can turn into a nested loop over both tables).
_MEMBERS = """
    SELECT m.person_id,
           coalesce((SELECT string_agg(d.distinct_id, ' ' ORDER BY d.id) FROM tracking_persondistinctid d
                     WHERE d.person_id = m.person_id), '') AS distinct_ids,
           coalesce((SELECT p.properties ->> 'email' FROM tracking_person p WHERE p.id = m.person_id), '') AS email,
           to_json(m.entered_at) #>> '{{}}' AS entered_at
    FROM segments_segmentmembership m
    WHERE m.segment_id = {segment} AND m.exited_at IS NULL
    ORDER BY m.person_id
"""
# A company segment's members: the company's key and name (relies on company_membership_open_unique).
_COMPANY_MEMBERS = """
    SELECT m.company_id,
           (SELECT c.key FROM tracking_company c WHERE c.id = m.company_id) AS key,
           coalesce((SELECT c.properties ->> 'name' FROM tracking_company c WHERE c.id = m.company_id), '') AS name,
           to_json(m.entered_at) #>> '{{}}' AS entered_at
    FROM segments_companymembership m
    WHERE m.segment_id = {segment} AND m.exited_at IS NULL
    ORDER BY m.company_id
"""
FORMATS = {"csv": "text/csv", "ndjson": "application/x-ndjson"}


def _csv(segment_id: int, *, companies: bool = False) -> Iterator[bytes]:
    query = sql.SQL(_COMPANY_MEMBERS if companies else _MEMBERS).format(segment=sql.Literal(segment_id))
    statement = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(query)
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(statement) as copy:
            buffer = bytearray()
            for row in copy:
                buffer += row
                if len(buffer) >= CHUNK:
                    yield bytes(buffer)
                    buffer.clear()
            if buffer:
                yield bytes(buffer)


def _ndjson(segment_id: int, *, companies: bool = False) -> Iterator[bytes]:
    if companies:
        query = sql.SQL(
            "SELECT json_build_object('company_id', company_id, 'key', key, 'name', nullif(name, ''),"
            " 'entered_at', entered_at)::text FROM ({}) members"
        ).format(sql.SQL(_COMPANY_MEMBERS).format(segment=sql.Literal(segment_id)))
    else:
        query = sql.SQL(
            "SELECT json_build_object('person_id', person_id, 'distinct_ids',"
            " CASE WHEN distinct_ids = '' THEN '[]'::json ELSE to_json(string_to_array(distinct_ids, ' ')) END,"
            " 'email', nullif(email, ''), 'entered_at', entered_at)::text FROM ({}) members"
        ).format(sql.SQL(_MEMBERS).format(segment=sql.Literal(segment_id)))
    with transaction.atomic(), connection.cursor() as django_cursor:
        raw = django_cursor.connection.cursor(name=f"members_{segment_id}")  # server-side: read in batches
        try:
            raw.execute(query)
            while rows := raw.fetchmany(BATCH):
                yield "".join(f"{row[0]}\n" for row in rows).encode()
        finally:
            raw.close()


def members_stream(segment: Segment, fmt: str) -> Iterator[bytes]:
    """The current members (people, or companies for a company segment) as `fmt` ("csv" or
    "ndjson"), chunk by chunk: for a response or a file."""
    export = _csv if fmt == "csv" else _ndjson
    return export(segment.pk, companies=segment.is_company)


def members_export(segment: Segment, fmt: str) -> StreamingHttpResponse:
    """The current members (people, or companies) as `fmt` ("csv" or "ndjson"), streamed."""
    rows = members_stream(segment, fmt)
    response = StreamingHttpResponse(rows, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}-members.{fmt}"'
    return response
