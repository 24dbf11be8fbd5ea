"""A recording's figures from its chunk rows, in one statement, are what the reference (tests/replay/reference.py) adds up."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay.metadata import ChunkStats
from replay.models import Recording, RecordingChunk
from replay.services import recording_figures
from tests.replay.reference import combine

pytestmark = pytest.mark.django_db

T = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
hrefs = st.sampled_from(["", "/a", "/b", "/c"])


@st.composite
def chunk_figures(draw) -> ChunkStats:
    active = draw(st.integers(0, 3))
    first_second = draw(st.integers(10, 14)) if active else None
    pages = draw(st.integers(0, 2))
    return ChunkStats(
        first_ms=0,
        last_ms=0,
        event_count=1,
        click_count=draw(st.integers(0, 3)),
        rage_click_count=draw(st.integers(0, 1)),
        active_seconds=active,
        active_first_second=first_second,
        active_last_second=None if first_second is None else first_second + draw(st.integers(0, 2)),
        page_count=pages,
        first_href=draw(hrefs) if pages else "",
        last_href=draw(hrefs) if pages else "",
        stop_reason=draw(st.sampled_from(["", "", "mutation flood", "too large"])),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=st.lists(chunk_figures(), min_size=1, max_size=8), data=st.data())
def test_the_statement_adds_chunks_up_as_combine_does(project, chunks, data):
    # stored in any order, as chunks arrive; seq orders them (the examples share one test transaction)
    arrival = data.draw(st.permutations(range(len(chunks))))
    recording = Recording.objects.create(
        project=project, session_key=str(uuid.uuid4()), distinct_id="d", started_at=T, ended_at=T
    )
    for seq in arrival:
        figures = chunks[seq]
        RecordingChunk.objects.create(
            project=project, recording=recording, seq=seq, event_count=1, size_bytes=100 + seq, storage_path="x",
            first_timestamp=T + timedelta(seconds=10 * seq), last_timestamp=T + timedelta(seconds=10 * seq + 5),
            sanitized=seq == 2,
            **{name: getattr(figures, name) for name in (
                "click_count", "rage_click_count", "active_seconds", "active_first_second", "active_last_second",
                "page_count", "first_href", "last_href", "stop_reason")},
        )  # fmt: skip
    found = recording_figures(recording.pk)
    assert found.totals == combine(chunks)
    assert (found.started_at, found.ended_at) == (T, T + timedelta(seconds=10 * (len(chunks) - 1) + 5))
    assert (found.chunk_count, found.size_bytes) == (len(chunks), sum(100 + i for i in range(len(chunks))))
    assert found.sanitized == (len(chunks) > 2)
