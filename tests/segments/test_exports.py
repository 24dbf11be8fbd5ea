"""Member exports stream any size in constant memory: a million members, as CSV and as NDJSON."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from django.db import connection

from segments.models import Segment, SegmentKind, SegmentStatus
from tests.bulk import foreign_key_checks_unqueued, indexes_built_after

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.vacuum_after("tracking_person", "tracking_persondistinctid", "segments_segmentmembership"),
]

MILLION = 1_000_000


@pytest.fixture
def million(project) -> Segment:
    """A static segment of a million members, written in bulk as a computation would leave them.

    Every thousandth person, the last one included, has an e-mail and a distinct id.
    """
    segment = Segment.objects.create(
        project=project, name="Everyone", kind=SegmentKind.STATIC, status=SegmentStatus.READY, size=MILLION
    )
    with (
        connection.cursor() as cursor,
        foreign_key_checks_unqueued(cursor),
        indexes_built_after(cursor, "tracking_person", "segments_segmentmembership"),
    ):
        cursor.execute(
            "INSERT INTO tracking_person (project_id, properties, is_identified, first_seen, last_seen, created_at)"
            " SELECT %s, CASE WHEN g %% 1000 = 0 THEN jsonb_build_object('email', 'p' || g || '@x.io')"
            " ELSE '{}'::jsonb END, true, now(), now(), now() FROM generate_series(1, %s) g",
            [project.pk, MILLION],
        )
        cursor.execute(
            "INSERT INTO tracking_persondistinctid (project_id, distinct_id, person_id)"
            " SELECT %s, 'user-' || id, id FROM tracking_person WHERE project_id = %s AND properties ? 'email'",
            [project.pk, project.pk],
        )
        cursor.execute(
            "INSERT INTO segments_segmentmembership (project_id, segment_id, person_id, entered_at)"
            " SELECT %s, %s, id, now() FROM tracking_person WHERE project_id = %s",
            [project.pk, segment.pk, project.pk],
        )
    with connection.cursor() as cursor:
        # as autovacuum would have by then: on a fresh test database the tables have no statistics,
        # and the planner, taking the distinct ids for a few rows, scanned them all for each member
        cursor.execute("ANALYZE tracking_person, tracking_persondistinctid, segments_segmentmembership")
    return segment


def _consume(response) -> tuple[int, bytes, bytes, int]:
    """Lines, the first and last line, and the peak of Python memory while streaming."""
    lines, first, last, tail = 0, b"", b"", b""
    tracemalloc.start()
    try:
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
            if not first:
                first = chunk.split(b"\n", 1)[0]
            tail = (tail + chunk)[-400:]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return lines, first, last, peak


def test_a_million_members_stream_as_csv_and_ndjson_in_constant_memory(api, million):
    csv = api("get", f"/segments/{million.pk}/members/?format=csv")
    assert csv.status_code == 200 and csv["Content-Type"] == "text/csv"
    lines, header, last, peak = _consume(csv)
    assert lines == MILLION + 1 and header == b"person_id,distinct_ids,email,entered_at"
    person_id, distinct_ids, email, _ = last.decode().split(",")
    assert distinct_ids == f"user-{person_id}" and email.endswith("@x.io")
    # the file is ~50 MB; what streaming holds at once is a few chunks
    assert peak < 16 * 1024 * 1024, peak

    ndjson = api("get", f"/segments/{million.pk}/members/?format=ndjson")
    assert ndjson.status_code == 200 and ndjson["Content-Type"] == "application/x-ndjson"
    lines, first, last, peak = _consume(ndjson)
    assert lines == MILLION and peak < 16 * 1024 * 1024, peak
    member, final = json.loads(first), json.loads(last)
    assert set(member) == {"person_id", "distinct_ids", "email", "entered_at"}
    assert (member["distinct_ids"], member["email"]) == (
        [],
        None,
    )  # no e-mail, no distinct id: empty, not absent
    assert final["distinct_ids"] == [f"user-{final['person_id']}"] and final["email"].endswith("@x.io")


def test_an_unknown_format_is_refused_and_another_projects_export_is_404(api, project, bob_api_key):
    segment = Segment.objects.create(
        project=project, name="Few", kind=SegmentKind.STATIC, status=SegmentStatus.READY
    )
    assert api("get", f"/segments/{segment.pk}/members/?format=xlsx").status_code == 404
    assert api("get", f"/segments/{segment.pk}/members/?format=ndjson").status_code == 200
    assert api("get", f"/segments/{segment.pk}/members/?format=ndjson", key=bob_api_key).status_code == 404
