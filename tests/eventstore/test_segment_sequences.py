"""Sequences in ClickHouse: the windowFunnel pass and its exact fallback give the reference's answer."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.segments.reference import RefEvent, World, did_sequence
from tracking.eventstore.clickhouse import segments
from tracking.eventstore.clickhouse.writes import events_insert
from tracking.eventstore.rows import NewEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
NAMES = ["a", "b", "c"]
_projects = itertools.count(10_000_000)

# a few persons' events over a few days; minutes apart or at the very same instant
person_events = st.lists(
    st.tuples(st.sampled_from(NAMES), st.integers(0, 6 * 24 * 60).map(lambda m: m - m % 90)), max_size=8
)


def _store(project_id: int, persons: list[list[tuple[str, int]]]) -> dict[int, list[RefEvent]]:
    rows, ref = [], {}
    for person_id, events in enumerate(persons, start=1):
        ref[person_id] = []
        for name, minutes in events:
            moment = NOW - timedelta(minutes=minutes)
            ref[person_id].append(RefEvent(name=name, timestamp=moment, properties={}))
            rows.append(
                NewEvent(
                    project_id=project_id, uuid=uuid.uuid4(), person_id=person_id, distinct_id=str(person_id),
                    session_key="", name=name, timestamp=moment, received_at=NOW, url="", path="", el_text="",
                    href="", elements_chain="", properties_json=orjson.dumps({}),
                )
            )  # fmt: skip
    events_insert(project_id, rows)
    return ref


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    persons=st.lists(person_events, min_size=1, max_size=4),
    steps=st.lists(st.sampled_from(NAMES), min_size=2, max_size=3),
    days=st.sampled_from([1, 2, 7]),
)
def test_sequences_match_the_reference_with_and_without_simultaneous_events(clickhouse, persons, steps, days):
    project_id = next(_projects)
    ref = _store(project_id, persons)
    specs = [{"name": name} for name in steps]
    world = World(persons=[], now=NOW, tz=UTC)
    expected = {pid for pid, events in ref.items() if did_sequence(specs, days, events, world)}
    found = segments.sequence_persons(
        project_id,
        specs,
        within_days=days,
        since=None,
        until=None,
        person_ids=None,
        action_steps=lambda _: [],
    )
    assert sorted(found) == sorted(expected)
