"""Reconstructed membership history: equal to evaluating the definition at every day boundary.

Also: live refresh carries on from a reconstruction as a full computation would;
a window's edge exactly on a boundary, across a DST change; persons merged after
the moment; traits changed by `$set` at a known time, and traits without history.
The tests that read events run with events in PostgreSQL and in ClickHouse.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from unittest.mock import patch

import pytest
import time_machine
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from segments import history
from segments.compiler import compile_definition, compile_segment
from segments.definition import validate_definition, walk_conditions
from segments.history import boundaries, reconstruct
from segments.models import Segment, SegmentMembership, SegmentSizeSnapshot
from segments.selectors.history import members_then
from segments.services import segment_compute
from segments.sweep import unsupported
from tests.factories import ProjectFactory
from tests.ingest.conftest import event
from tests.segments import reference
from tests.segments.test_asof import asof_definitions, dst_corner, periods_st, stored_example
from tests.segments.test_differential import definitions, rank_conditions
from tests.segments.world import NOW, store_world, world_st
from tracking.models import Person, PersonDistinctId, PersonTrait

pytestmark = pytest.mark.django_db


def as_of(definition, project, at) -> set[int]:
    query = compile_definition(definition, project=project, now=at, as_of=True)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return {row[0] for row in cursor.fetchall()}


def stored_at(segment, at) -> set[int]:
    rows = SegmentMembership.objects.filter(segment=segment, entered_at__lte=at).exclude(exited_at__lte=at)
    return set(rows.values_list("person_id", flat=True))


def _reconstruction_matches_every_boundary(spec, definition, nested, periods, tz, method):
    """`method`: ("sweep", None), every boundary in one pass where the definition allows; or ("stepwise",
    share): above this share of persons a day is evaluated in full, 1.0 makes every day incremental."""
    method, share = method
    project = ProjectFactory(timezone=tz)
    world, definition = stored_example(project, spec, definition, nested, periods)
    segment = Segment.objects.create(project=project, name="s", definition=definition)
    segment_compute(segment=segment, now=NOW)
    with (
        patch.object(history, "FULL_SHARE", share or history.FULL_SHARE),
        patch.object(history, "SWEEP", method == "sweep"),
    ):
        result = reconstruct(segment, now=NOW)
    points = boundaries(project, now=NOW, horizon_days=180)
    assert result.days == len(points) - 1
    if method == "sweep" and unsupported(definition, project=project, seen=frozenset({segment.pk})) is None:
        assert result.method == "sweep"
    elif any(node["type"] == "rank" for node in walk_conditions(definition)) or _names_a_rank(
        definition, world
    ):
        assert result.full_evaluations == len(points)  # anyone's events move a rank: everyone, every day
    elif share == 1.0:
        # only the candidates found day to day were evaluated again
        assert result.full_evaluations == 1
    for point in points:
        found = stored_at(segment, point)
        assert found == as_of(definition, project, point), (point, definition, world.segments)
        if not dst_corner(definition, world, point):
            assert found == reference.members(definition, world, at=point), (
                point,
                definition,
                world.segments,
            )
    segment.refresh_from_db()
    live = set(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
            "person_id", flat=True
        )
    )
    # what the live computation finds now, with the periods' history before
    assert live == as_of(definition, project, NOW)
    sizes = {s.date: s.size for s in SegmentSizeSnapshot.objects.filter(segment=segment)}
    for point in points[1:]:
        day = (point - timedelta(hours=1)).astimezone(project.zone).date()
        assert sizes[day] == len(stored_at(segment, point))


def _names_a_rank(definition: dict, world) -> bool:
    """Whether a dynamic segment the definition names has a rank (it is compiled in)."""
    return any(
        node["type"] == "segment"
        and any(inner["type"] == "rank" for inner in walk_conditions(world.segments.get(node["segment"], {})))
        for node in walk_conditions(definition)
    )


_SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
_TIMEZONES = st.sampled_from(["UTC", "America/New_York", "Europe/Paris"])
_METHODS = st.sampled_from([("sweep", None), ("stepwise", history.FULL_SHARE), ("stepwise", 1.0)])


@settings(max_examples=50, deadline=None, suppress_health_check=_SLOW, phases=[Phase.generate])
@given(spec=world_st, definition=asof_definitions, nested=definitions, periods=periods_st, tz=_TIMEZONES,
       method=_METHODS)  # fmt: skip
def test_reconstruction_equals_evaluating_at_every_boundary(spec, definition, nested, periods, tz, method):
    _reconstruction_matches_every_boundary(spec, definition, nested, periods, tz, method)


@settings(max_examples=6, deadline=None, suppress_health_check=_SLOW, phases=[Phase.generate])
@given(spec=world_st, definition=asof_definitions, nested=definitions, periods=periods_st, tz=_TIMEZONES,
       method=_METHODS)  # fmt: skip
def test_reconstruction_equals_evaluating_at_every_boundary_on_clickhouse(
    clickhouse, spec, definition, nested, periods, tz, method
):
    _reconstruction_matches_every_boundary(spec, definition, nested, periods, tz, method)


rank_definitions = st.builds(
    lambda rank, negate: {"match": "all", "negate": negate, "conditions": [rank]},
    rank_conditions,
    st.booleans(),
)


@settings(max_examples=25, deadline=None, suppress_health_check=_SLOW, phases=[Phase.generate])
@given(spec=world_st, definition=rank_definitions, nested=definitions, periods=periods_st, tz=_TIMEZONES)
def test_a_rank_is_reconstructed_by_evaluating_everyone_at_every_boundary(
    spec, definition, nested, periods, tz
):
    # every day incremental if it could be: a rank still evaluates everyone, and equals the as-of answer
    _reconstruction_matches_every_boundary(spec, definition, nested, periods, tz, ("stepwise", 1.0))


# fewer examples: each is six times slower with the events in chDB, and the rank's own
# work (the threshold, everyone at every boundary) is the same code on both stores
@settings(max_examples=8, deadline=None, suppress_health_check=_SLOW, phases=[Phase.generate])
@given(spec=world_st, definition=rank_definitions, nested=definitions, periods=periods_st, tz=_TIMEZONES)
def test_a_rank_is_reconstructed_by_evaluating_everyone_at_every_boundary_on_clickhouse(
    clickhouse, spec, definition, nested, periods, tz
):
    _reconstruction_matches_every_boundary(spec, definition, nested, periods, tz, ("stepwise", 1.0))


def _open(segment) -> set[int]:
    return set(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
            "person_id", flat=True
        )
    )


def _periods(segment, person_id) -> list[tuple[datetime, datetime | None]]:
    rows = SegmentMembership.objects.filter(segment=segment, person_id=person_id).order_by("entered_at")
    return list(rows.values_list("entered_at", "exited_at"))


def _person(project, distinct_id) -> int:
    return PersonDistinctId.objects.get(project=project, distinct_id=distinct_id).person_id


def _local(project, day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=project.zone)


def _at(day: int, hour: int, month: int = 10) -> str:
    return datetime(2026, month, day, hour, tzinfo=UTC).isoformat()


ACTIVE_NOT_BUYING_OR_PRO = {
    "match": "any",
    "conditions": [
        {
            "match": "all",
            "conditions": [
                {"type": "behavior", "event": {"name": "$pageview"}, "count": {"operator": "gte", "value": 2},
                 "window": {"last_days": 7}},
                {"type": "behavior", "event": {"name": "purchase"}, "count": {"operator": "eq", "value": 0}},
            ],
        },
        {"type": "person", "property": "plan", "operator": "eq", "value": "pro"},
    ],
}  # fmt: skip


def test_live_refresh_after_reconstruction_equals_a_full_computation(
    events_backend, send, project, on_commit
):
    with time_machine.travel(NOW, tick=False):
        history = [
            event(distinct_id=f"u{i % 9}", timestamp=(NOW - timedelta(days=i % 20, hours=i % 5)).isoformat())
            for i in range(60)
        ]
        history += [
            event("purchase", "u1", timestamp=(NOW - timedelta(days=3)).isoformat()),
            event(
                distinct_id="u2",
                timestamp=(NOW - timedelta(days=12)).isoformat(),
                **{"$set": {"plan": "pro"}},
            ),
            event(
                distinct_id="u3", timestamp=(NOW - timedelta(days=2)).isoformat(), **{"$set": {"plan": "pro"}}
            ),
        ]
        send(history)
        segment = Segment.objects.create(
            project=project, name="s", definition=validate_definition(ACTIVE_NOT_BUYING_OR_PRO)
        )
        segment_compute(segment=segment, now=NOW)
        result = reconstruct(segment, now=NOW)
        assert result.days >= 19 and SegmentMembership.objects.filter(
            segment=segment, exited_at__isnull=False
        )
        rebuilt = set(
            SegmentMembership.objects.filter(segment=segment, exited_at__isnull=False).values_list(
                "person_id", "entered_at", "exited_at"
            )
        )
        # new events through ingestion; the batches' commits run the live refresh (inline in tests)
        with on_commit():
            send([event(distinct_id="u4"), event(distinct_id="u4"), event(distinct_id="new"),
                  event(distinct_id="new")])  # fmt: skip
        with on_commit():
            send([event("purchase", "u0"), event("purchase", "u4"), event(distinct_id="u5")])
        with on_commit():
            send(
                [
                    event(distinct_id="u6", **{"$set": {"plan": "pro"}}),
                    event(distinct_id="u2", **{"$set": {"plan": "free"}}),
                ]
            )
        live = _open(segment)
        query = compile_segment(segment, now=NOW)
        with connection.cursor() as cursor:
            cursor.execute(query.sql, query.params)
            full = {row[0] for row in cursor.fetchall()}
        assert live == full
        assert {_person(project, "new"), _person(project, "u6")} <= live
        assert _person(project, "u4") not in live
        # the reconstructed history before stays as it was
        assert rebuilt <= set(
            SegmentMembership.objects.filter(segment=segment).values_list(
                "person_id", "entered_at", "exited_at"
            )
        )
        segment_compute(segment=segment, now=NOW)
        assert _open(segment) == live


SPRING = datetime(2026, 4, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timezone", "edge_day", "exit_day", "now"),
    [
        ("UTC", date(2026, 10, 20), date(2026, 10, 28), NOW),
        ("America/New_York", date(2026, 10, 20), date(2026, 10, 28), NOW),
        ("Europe/Paris", date(2026, 10, 20), date(2026, 10, 27), NOW),  # clocks back on Oct 25
        ("America/New_York", date(2026, 3, 5), date(2026, 3, 13), SPRING),  # clocks forward on Mar 8
        ("Europe/Paris", date(2026, 3, 25), date(2026, 4, 2), SPRING),  # and on Mar 29
    ],
)
@pytest.mark.parametrize("sweep", [True, False], ids=["sweep", "stepwise"])
def test_a_window_edge_exactly_on_a_boundary_and_across_a_dst_change(
    events_backend, timezone, edge_day, exit_day, now, sweep
):
    """An event exactly at a midnight counts at that midnight, and 7 × 24 h later it is still in.

    In Paris the clocks go back on Oct 25: the midnight of Oct 27 is 7 days and an hour
    after the event's, so the person has left by then; in New York (Nov 1) not yet. When
    the clocks go forward the week is an hour short of 7 × 24 h and changes nothing.
    Stepwise, every day is evaluated incrementally, so the candidates searched across the
    change are what is tested, besides the periods; in one sweep (PostgreSQL), the runs
    of boundaries each event counts at.
    """
    project = ProjectFactory(timezone=timezone)
    edge = _local(project, edge_day)
    pageviews = [edge, edge - timedelta(minutes=30), edge + timedelta(days=7) - timedelta(minutes=30)]
    world = store_world(
        project,
        [{"properties": {}, "company": None, "surveys": [], "sessions": [],
          "events": [{"name": "$pageview", "minutes_ago": int((NOW - moment).total_seconds() // 60), "plan": None,
                      "amount": None, "path": "/"}]}
         for moment in pageviews],
    )  # fmt: skip
    assert world.persons[0].events[0].timestamp == edge
    definition = validate_definition(
        {"match": "all", "conditions": [{"type": "behavior", "event": {"name": "$pageview"},
                                         "count": {"operator": "gte", "value": 1}, "window": {"last_days": 7}}]}
    )  # fmt: skip
    segment = Segment.objects.create(project=project, name="s", definition=definition)
    segment_compute(segment=segment, now=now)
    with patch.object(history, "FULL_SHARE", 1.0), patch.object(history, "SWEEP", sweep):
        result = reconstruct(segment, now=now)
    if sweep and events_backend == "postgres":
        assert result.method == "sweep"
    else:
        assert (result.method, result.full_evaluations) == ("stepwise", 1)
    segment.refresh_from_db()
    assert _periods(segment, world.persons[0].id) == [(edge, _local(project, exit_day))]
    points = boundaries(project, now=now, horizon_days=180)
    assert points[0] == edge - timedelta(days=1)
    for point in points:
        assert stored_at(segment, point) == as_of(definition, project, point), point
        # the same instant written in UTC reads the same stored day
        then = members_then(segment=segment, at=point.astimezone(UTC))
        assert then.source == "history"
        assert {m.person_id for m in then.periods} == stored_at(segment, point)
    # one boundary per local day, the 23- and 25-hour days included; a snapshot for each day
    assert [p.astimezone(project.zone).date() for p in points] == [
        points[0].date() + timedelta(days=i) for i in range(len(points))
    ]
    sizes = dict(
        SegmentSizeSnapshot.objects.filter(segment=segment, reconstructed=True).values_list("date", "size")
    )
    assert sorted(sizes) == [p.astimezone(project.zone).date() for p in points[:-1]]


def test_a_person_merged_after_the_moment_has_today_s_identity(events_backend, send, project):
    """Identities are today's: the anonymous person's events and traits count for the survivor at every moment."""
    with time_machine.travel(NOW, tick=False):
        send([event(distinct_id="anon-1", timestamp=_at(20, 10), **{"$set": {"plan": "pro"}})])
        send([event(distinct_id="ann@example.com", timestamp=_at(22, 10))])
        anon = _person(project, "anon-1")
        send(
            [
                event(
                    "$identify",
                    "ann@example.com",
                    timestamp=_at(10, 10, month=11),
                    **{"$anon_distinct_id": "anon-1"},
                )
            ]
        )
        survivor = _person(project, "ann@example.com")
        assert _person(project, "anon-1") == survivor and not Person.objects.filter(pk=anon).exists()
        definition = validate_definition(
            {"match": "all", "conditions": [
                {"type": "behavior", "event": {"name": "$pageview"}, "count": {"operator": "gte", "value": 2}},
                {"type": "person", "property": "plan", "operator": "eq", "value": "pro"},
            ]}
        )  # fmt: skip
        segment = Segment.objects.create(project=project, name="s", definition=definition)
        segment_compute(segment=segment, now=NOW)
        reconstruct(segment, now=NOW)
    # in from the midnight after both persons' pageviews, long before they were merged
    assert _periods(segment, survivor) == [(_local(project, date(2026, 10, 23)), None)]
    assert as_of(definition, project, _local(project, date(2026, 10, 21))) == set()
    assert not SegmentMembership.objects.filter(segment=segment).exclude(person_id=survivor).exists()
    assert PersonTrait.objects.filter(person_id=survivor, key="plan").count() == 1


def test_a_trait_set_at_a_known_time_enters_at_the_next_boundary_and_one_without_history_falls_back(
    events_backend, send, project
):
    with time_machine.travel(NOW, tick=False):
        send([event(distinct_id="a", timestamp=_at(10, 9)), event(distinct_id="b", timestamp=_at(10, 10))])
        send([event(distinct_id="a", timestamp=_at(12, 9), **{"$set": {"plan": "free"}})])
        send([event(distinct_id="a", timestamp=_at(20, 15), **{"$set": {"plan": "pro"}})])
        a, b = _person(project, "a"), _person(project, "b")
        # b's plan was written without an event (as an import would): no history, the current value holds
        Person.objects.filter(pk=b).update(properties={"plan": "pro"})
        assert not PersonTrait.objects.filter(person_id=b).exists()
        definition = validate_definition(
            {
                "match": "all",
                "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
            }
        )
        segment = Segment.objects.create(project=project, name="s", definition=definition)
        segment_compute(segment=segment, now=NOW)
        reconstruct(segment, now=NOW)
    # a: "free" from the 12th, "pro" from 15:00 UTC on the 20th: in from the midnight after
    assert _periods(segment, a) == [(_local(project, date(2026, 10, 21)), None)]
    # b: a member at every boundary since it was first seen
    assert _periods(segment, b) == [(_local(project, date(2026, 10, 11)), None)]


def test_after_a_merge_traits_as_of_then_are_the_survivor_s_current_ones(events_backend, send, project):
    """Both persons set the plan; the merge keeps the identified person's value, and so does history from then on.

    Before the merge the writes of both count in time order (today's identity), so the
    anonymous person's later "free" holds from Oct 22 until the `$identify` of Nov 10.
    """
    with time_machine.travel(NOW, tick=False):
        send([event(distinct_id="ann", timestamp=_at(20, 10), **{"$set": {"plan": "pro"}})])
        send([event(distinct_id="anon", timestamp=_at(22, 10), **{"$set": {"plan": "free"}})])
        send([event("$identify", "ann", timestamp=_at(10, 10, month=11), **{"$anon_distinct_id": "anon"})])
        survivor = _person(project, "ann")
        assert Person.objects.get(pk=survivor).properties == {"plan": "pro"}
        definition = validate_definition(
            {
                "match": "all",
                "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
            }
        )
        segment = Segment.objects.create(project=project, name="s", definition=definition)
        segment_compute(segment=segment, now=NOW)
        reconstruct(segment, now=NOW)
    assert as_of(definition, project, NOW) == {survivor} == _open(segment)
    assert _periods(segment, survivor) == [
        (_local(project, date(2026, 10, 21)), _local(project, date(2026, 10, 23))),
        (_local(project, date(2026, 11, 11)), None),
    ]
