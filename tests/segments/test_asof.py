"""Definitions evaluated as of a moment, against the pure-Python reference, with events in PostgreSQL and in ClickHouse.

The moments are drawn at random, exactly on an event, a trait write or a
first-seen time, exactly on a window's edge (an event N days before), and on
the edges of the date windows; each is handed to the compiler in UTC or in the
project's time zone, which must not change the answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segments.compiler import compile_definition
from segments.definition import validate_definition, walk_conditions
from segments.models import Segment, SegmentKind, SegmentMembership
from tests.factories import ProjectFactory
from tests.segments import reference
from tests.segments.test_differential import ACTION_STEPS, _with_actions, conditions, definitions, groups
from tests.segments.world import NOW, store_world, world_st
from tracking.services.actions import action_create

pytestmark = pytest.mark.django_db

segment_refs = st.builds(
    lambda which, negate: {"type": "segment", "segment": which, "negate": negate},
    st.sampled_from(["S0", "D0"]),  # placeholders: a static segment and a dynamic one of the example
    st.booleans(),
)
asof_definitions = st.recursive(st.one_of(conditions, segment_refs), groups, max_leaves=6).map(
    lambda node: node if "conditions" in node else {"match": "all", "conditions": [node]}
)
# a person's periods in the static segment: minutes ago it entered, and how long it stayed (None: still in)
periods_st = st.lists(
    st.lists(
        st.tuples(st.integers(0, 45 * 24 * 60), st.one_of(st.none(), st.integers(1, 20 * 24 * 60))),
        max_size=2,
    ),
    max_size=10,
)
DATE_EDGES = [
    date(2026, 10, 20),
    date(2026, 11, 2),
    date(2026, 11, 1),
    date(2026, 11, 10),
    date(2026, 11, 16),
]
_TICK = timedelta(microseconds=1)


def sql_members(definition, project, at, person_ids=None) -> set[int]:
    query = compile_definition(definition, project=project, now=at, person_ids=person_ids, as_of=True)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return {row[0] for row in cursor.fetchall()}


def _with_segments(node, ids: dict[str, int]):
    if isinstance(node, dict):
        if node.get("type") == "segment" and isinstance(node["segment"], str):
            return {**node, "segment": ids[node["segment"]]}
        return {key: _with_segments(value, ids) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_segments(item, ids) for item in node]
    return node


def _static_segment(project, world, periods) -> int:
    segment = Segment.objects.create(project=project, name="S0", kind=SegmentKind.STATIC)
    rows = []
    for person, spans in zip(world.persons, periods, strict=False):
        for i, (ago, stay) in enumerate(spans):
            entered = NOW - timedelta(minutes=ago)
            if stay is None and i == len(spans) - 1:  # only the last period may still be open
                exited = None
            else:  # a stored period has ended by now: a static segment is only ever changed up to now
                exited = min(entered + timedelta(minutes=stay or 1), NOW)
                if exited <= entered:
                    continue
            rows.append((person.id, entered, exited))
    SegmentMembership.objects.bulk_create(
        SegmentMembership(project=project, segment=segment, person_id=p, entered_at=a, exited_at=b)
        for p, a, b in rows
    )
    world.static_periods[segment.pk] = rows
    world.static_members[segment.pk] = {p for p, _, b in rows if b is None}
    return segment.pk


def _lags(definition: dict, world) -> set[int]:
    """The days by which the definition (and the dynamic segments it names) looks back from its moment."""
    lags = set()
    for node in walk_conditions(definition):
        window = node.get("window") or {}
        if "last_days" in window:
            lags.add(window["last_days"])
        if node["type"] in ("first_seen", "last_seen"):
            lags.add(node["value"])
        if node["type"] == "segment" and node["segment"] in world.segments:
            lags |= _lags(world.segments[node["segment"]], world)
    return lags


def _one_day_last_seen(definition: dict, world) -> bool:
    for node in walk_conditions(definition):
        if node["type"] == "last_seen" and node["value"] == 1:
            return True
        if node["type"] == "segment" and node["segment"] in world.segments:
            if _one_day_last_seen(world.segments[node["segment"]], world):
                return True
    return False


def dst_corner(definition: dict, world, at: datetime) -> bool:
    """A moment where "last seen within/before 1 day" reads the daily rollup ambiguously.

    The compiler decides last-seen-as-of-T on the rollup: a day counts when its
    first event is at or before T and its last at or after T - 24 h. Both ends
    fall in one local day only on a 25-hour day (a DST change), and then a day
    with events before T - 24 h and after T, none between, counts though the
    person was not seen in the window. Longer windows and every other moment
    are exact; only this one case is left out.
    """
    return _one_day_last_seen(definition, world) and (
        (at - timedelta(days=1)).astimezone(world.tz).date() == at.astimezone(world.tz).date()
    )


def moments(data, world, definition) -> list[datetime]:
    """Three moments to evaluate at, each on an edge that matters (an event, a trait write, a static
    segment's entry or exit, a window's start, a date window's end) or at random."""
    events = [e.timestamp for p in world.persons for e in p.events]
    writes = [t.at for p in world.persons for t in [*p.traits, *p.company_traits]]
    firsts = [p.first_seen for p in world.persons]
    periods = [m for rows in world.static_periods.values() for _, a, b in rows for m in (a, b) if m]
    lags = sorted(_lags(definition, world)) or [1]
    found = []
    for _ in range(3):
        kind = data.draw(
            st.sampled_from(["random", "event", "write", "period", "window_edge", "date_edge", "now"])
        )
        if kind == "event" and events:
            at = data.draw(st.sampled_from(events))
        elif kind == "write" and writes:
            at = data.draw(st.sampled_from(writes))
        elif kind == "period" and periods:  # a static segment's entry or exit
            at = data.draw(st.sampled_from(periods))
        elif kind == "window_edge" and (events or firsts):
            base = data.draw(st.sampled_from(events + firsts))
            at = base + timedelta(days=data.draw(st.sampled_from(lags)))
            # on the edge, just inside, and half an hour past it (an hour's DST shift would show)
            at += data.draw(st.sampled_from([timedelta(0), -_TICK, timedelta(minutes=30)]))
        elif kind == "date_edge":
            day = data.draw(st.sampled_from(DATE_EDGES))
            at = datetime.combine(day, time.min, tzinfo=world.tz) - data.draw(
                st.sampled_from([timedelta(0), _TICK])
            )
        elif kind == "now":
            at = NOW
        else:
            at = NOW - timedelta(
                minutes=data.draw(st.integers(0, 46 * 24 * 60)), seconds=data.draw(st.integers(0, 59))
            )
        # the compiler must answer alike whichever zone the moment is written in
        found.append(at.astimezone(world.tz) if data.draw(st.booleans()) else at.astimezone(UTC))
    return found


def stored_example(project, spec, definition, nested, periods):
    """Store the world, the actions A0/A1, the static segment S0 and the dynamic D0; the definition they fill in."""
    world = store_world(project, spec)
    actions = {}
    for index, steps in enumerate(ACTION_STEPS):
        action = action_create(project=project, user=None, name=f"A{index}", steps=steps)
        actions[f"A{index}"] = action.pk
        world.actions[action.pk] = action.steps
    inner = validate_definition(_with_actions(nested, actions), project_id=project.pk)
    dynamic = Segment.objects.create(project=project, name="D0", definition=inner)
    world.segments[dynamic.pk] = inner
    segments = {"S0": _static_segment(project, world, periods), "D0": dynamic.pk}
    normalized = validate_definition(
        _with_segments(_with_actions(definition, actions), segments), project_id=project.pk
    )
    return world, normalized


def _agrees_as_of(spec, definition, nested, periods, timezone, data):
    project = ProjectFactory(timezone=timezone)
    world, normalized = stored_example(project, spec, definition, nested, periods)
    some = [person.id for person in world.persons[::2]]
    for at in moments(data, world, normalized):
        if dst_corner(normalized, world, at):
            continue
        expected = reference.members(normalized, world, at=at)
        assert sql_members(normalized, project, at) == expected, (at, normalized, world.segments)
        # restricted to some persons (what reconstruction asks day to day): exactly those of them
        assert sql_members(normalized, project, at, person_ids=some) == expected & set(some), (at, normalized)


_TIMEZONES = st.sampled_from(["UTC", "America/New_York", "Europe/Paris"])
_SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=150, deadline=None, suppress_health_check=_SLOW)
@given(spec=world_st, definition=asof_definitions, nested=definitions, periods=periods_st, timezone=_TIMEZONES,
       data=st.data())  # fmt: skip
def test_as_of_evaluation_agrees_with_the_reference(spec, definition, nested, periods, timezone, data):
    _agrees_as_of(spec, definition, nested, periods, timezone, data)


@settings(max_examples=30, deadline=None, suppress_health_check=_SLOW)
@given(spec=world_st, definition=asof_definitions, nested=definitions, periods=periods_st, timezone=_TIMEZONES,
       data=st.data())  # fmt: skip
def test_as_of_evaluation_agrees_with_the_reference_on_clickhouse(
    clickhouse, spec, definition, nested, periods, timezone, data
):
    _agrees_as_of(spec, definition, nested, periods, timezone, data)


def _pageviews(*moments: datetime) -> list[dict]:
    return [
        {"name": "$pageview", "minutes_ago": int((NOW - m).total_seconds() // 60), "plan": None, "amount": None,
         "path": "/"}
        for m in moments
    ]  # fmt: skip


# a moment 7 days before a time just after the zone's clocks went back (Oct 25 in Paris, Nov 1 in New York)
_BEFORE_DST_END = {
    "Europe/Paris": datetime(2026, 10, 22, 16, 0, tzinfo=UTC),
    "America/New_York": datetime(2026, 10, 29, 16, 0, tzinfo=UTC),
}


@pytest.mark.parametrize("timezone", sorted(_BEFORE_DST_END))
def test_a_window_across_a_dst_change_is_the_same_whichever_zone_the_moment_is_in(events_backend, timezone):
    """ "Last 7 days" as of T is [T - 7×24 h, T]: the clocks going back in between changes nothing."""
    project = ProjectFactory(timezone=timezone)
    seen = _BEFORE_DST_END[timezone]
    world = store_world(
        project,
        [{"properties": {}, "company": None, "surveys": [], "sessions": [], "events": _pageviews(seen)}],
    )
    person = world.persons[0].id
    definition = validate_definition(
        {
            "match": "all",
            "conditions": [
                {"type": "behavior", "event": {"name": "$pageview"}, "count": {"operator": "gte", "value": 1},
                 "window": {"last_days": 7}},
                {"type": "last_seen", "operator": "within_last_days", "value": 7},
            ],
        }
    )  # fmt: skip
    edge = seen + timedelta(days=7)  # the window's start exactly on the event
    for at, expected in ((edge, {person}), (edge + timedelta(minutes=30), set())):
        for written in (at.astimezone(UTC), at.astimezone(project.zone)):
            assert reference.members(definition, world, at=written) == expected
            assert sql_members(definition, project, written) == expected, written
