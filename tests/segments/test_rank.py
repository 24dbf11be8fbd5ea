"""Rank conditions: validation, ties at the boundary, people without events, bottom ranks, percent rounding.

The tests that read events run with events in PostgreSQL and in ClickHouse.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from segments.compiler import compile_definition
from segments.compiler.rank import rank_threshold
from segments.definition import DefinitionError, validate_definition
from segments.describe import describe_text
from segments.models import Segment
from tests.factories import ProjectFactory
from tests.ingest.conftest import event
from tests.segments import reference
from tests.segments.world import NOW, store_world

pytestmark = pytest.mark.django_db


def _purchases(*amounts) -> list[dict]:
    return [
        {"name": "purchase", "minutes_ago": 60 * 24 * i + 30, "plan": None, "amount": a, "path": "/checkout"}
        for i, a in enumerate(amounts)
    ]


# Seven persons: purchases (count) 5, 3, 3, 3, 1, 0, 0 — the last one has no events at all.
PEOPLE = [
    _purchases(10, 10, 10, 10, 10),  # 0: count 5, sum 50
    _purchases(20, 20, 20),  # 1: count 3, sum 60
    _purchases(5, "n/a", 5),  # 2: count 3, sum 10 ("n/a" is not a number)
    _purchases(1, 1, 1),  # 3: count 3, sum 3
    _purchases("12"),  # 4: count 1, sum 12 (a numeric string)
    [{"name": "signed_up", "minutes_ago": 30, "plan": None, "amount": None, "path": "/"}],  # 5: 0
    [],  # 6: no events at all: 0
]


@pytest.fixture
def world(project):
    spec = [
        {"properties": {}, "company": None, "surveys": [], "sessions": [], "events": events}
        for events in PEOPLE
    ]
    return store_world(project, spec)


def rank(top: dict, *, of: str = "count", direction: str = "top", window=None, event="purchase") -> dict:
    measure = {"event": {"name": event}, "of": of, **({"property": "amount"} if of == "sum" else {})}
    node = {"type": "rank", "measure": measure, "top": top, "direction": direction}
    if window:
        node["window"] = window
    return {"match": "all", "conditions": [node]}


def members(definition: dict, project, *, as_of=None) -> set[int]:
    definition = validate_definition(definition, project_id=project.pk)
    query = compile_definition(definition, project=project, now=as_of or NOW, as_of=as_of is not None)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return {row[0] for row in cursor.fetchall()}


def who(world, *indexes) -> set[int]:
    return {world.persons[i].id for i in indexes}


# -- validation --------------------------------------------------------------------------------------


def _error(condition: dict) -> str:
    with pytest.raises(DefinitionError) as caught:
        validate_definition({"match": "all", "conditions": [condition]})
    return caught.value.path


BASE = {"type": "rank", "measure": {"event": {"name": "purchase"}, "of": "count"}, "top": {"percent": 10}}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"measure": None}, "definition.conditions[0].measure"),
        ({"measure": {"of": "count"}}, "definition.conditions[0].measure.event"),
        ({"measure": {"event": {"name": ""}}}, "definition.conditions[0].measure.event.name"),
        ({"measure": {"event": {"name": "purchase"}, "of": "median"}}, "definition.conditions[0].measure.of"),
        ({"measure": {"event": {"name": "purchase"}, "of": "sum"}}, "definition.conditions[0].measure.property"),
        ({"measure": {"event": {"name": "purchase"}, "of": "count", "property": "amount"}},
         "definition.conditions[0].measure.property"),
        ({"top": None}, "definition.conditions[0].top"),
        ({"top": {}}, "definition.conditions[0].top"),
        ({"top": {"percent": 10, "count": 5}}, "definition.conditions[0].top"),
        ({"top": {"percent": 0}}, "definition.conditions[0].top.percent"),
        ({"top": {"percent": 100.5}}, "definition.conditions[0].top.percent"),
        ({"top": {"percent": "10"}}, "definition.conditions[0].top.percent"),
        ({"top": {"count": 0}}, "definition.conditions[0].top.count"),
        ({"top": {"count": 2.5}}, "definition.conditions[0].top.count"),
        ({"direction": "middle"}, "definition.conditions[0].direction"),
        ({"window": {"last_days": 0}}, "definition.conditions[0].window.last_days"),
    ],
)  # fmt: skip
def test_every_malformed_part_of_a_rank_is_named_by_its_path(change, path):
    assert _error({**BASE, **change}) == path


def test_a_rank_is_stored_with_its_defaults():
    definition = validate_definition({"match": "all", "conditions": [BASE]})
    assert definition["conditions"][0] == {
        "type": "rank",
        "measure": {"event": {"name": "purchase", "where": []}, "of": "count"},
        "top": {"percent": 10},
        "direction": "top",
    }


# -- the threshold ---------------------------------------------------------------------------------


def test_the_threshold_is_the_score_of_the_last_one_in():
    histogram = {5: 1, 3: 3, 1: 1, 0: 2}
    assert rank_threshold(histogram, 7, {"top": {"count": 1}}) == 5
    assert rank_threshold(histogram, 7, {"top": {"count": 2}}) == 3
    assert rank_threshold(histogram, 7, {"top": {"count": 99}}) == 0
    assert rank_threshold(histogram, 7, {"top": {"count": 1}, "direction": "bottom"}) == 0
    assert rank_threshold(histogram, 7, {"top": {"count": 3}, "direction": "bottom"}) == 1
    assert rank_threshold({}, 0, {"top": {"count": 3}}) is None


# -- on the event stores ------------------------------------------------------------------------------


def test_everyone_tied_with_the_last_one_in_is_in(events_backend, project, world):
    # top 2 by purchases: 5, then 3 — and the two others with 3 as well
    assert members(rank({"count": 2}), project) == who(world, 0, 1, 2, 3)
    assert members(rank({"count": 1}), project) == who(world, 0)
    assert members(rank({"count": 5}), project) == who(world, 0, 1, 2, 3, 4)


def test_a_percent_counts_whole_people_rounding_up(events_backend, project, world):
    # 7 people: 10% is 0.7 of a person -> 1; 15% is 1.05 -> 2 (then ties); 100% is everyone
    assert members(rank({"percent": 10}), project) == who(world, 0)
    assert members(rank({"percent": 15}), project) == who(world, 0, 1, 2, 3)
    assert members(rank({"percent": 100}), project) == who(world, 0, 1, 2, 3, 4, 5, 6)


def test_people_without_matching_events_rank_as_zero(events_backend, project, world):
    # the bottom 1: both people with no purchase (one did sign up, one did nothing), tied at 0
    assert members(rank({"count": 1}, direction="bottom"), project) == who(world, 5, 6)
    assert members(rank({"count": 3}, direction="bottom"), project) == who(world, 4, 5, 6)
    # a count larger than everyone: everyone, 0-scorers included
    assert members(rank({"count": 50}), project) == who(world, 0, 1, 2, 3, 4, 5, 6)


def test_a_sum_adds_numbers_and_numeric_text_and_skips_other_values(events_backend, project, world):
    # sums: 50, 60, 10, 3, 12, 0, 0
    assert members(rank({"count": 2}, of="sum"), project) == who(world, 0, 1)
    assert members(rank({"count": 3}, of="sum"), project) == who(world, 0, 1, 4)
    assert members(rank({"count": 3}, of="sum", direction="bottom"), project) == who(world, 3, 5, 6)


def test_active_days_count_distinct_days_of_the_event_in_the_window(events_backend, project, world):
    # purchases fall on consecutive days: days equal counts; a 2-day window cuts them to 2, 2, 2, 2, 1
    assert members(rank({"count": 1}, of="active_days"), project) == who(world, 0)
    windowed = rank({"count": 1}, of="active_days", window={"last_days": 2})
    assert members(windowed, project) == who(world, 0, 1, 2, 3)


def test_when_everyone_scores_zero_everyone_is_tied_and_in(events_backend, project, world):
    assert members(rank({"count": 1}, event="never_happens"), project) == who(world, 0, 1, 2, 3, 4, 5, 6)


def test_a_project_with_nobody_has_nobody_in_any_rank(events_backend, project):
    assert members(rank({"percent": 50}), project) == set()
    assert members(rank({"count": 1}, direction="bottom"), project) == set()


def test_a_rank_inside_a_negated_group_and_beside_other_conditions(events_backend, project, world):
    top = rank({"count": 2})["conditions"][0]
    negated = {"match": "all", "negate": True, "conditions": [top]}
    assert members(negated, project) == who(world, 4, 5, 6)
    signed_up = {"type": "behavior", "event": {"name": "signed_up"}, "count": {"operator": "gte", "value": 1}}
    either = {"match": "any", "conditions": [top, signed_up]}
    assert members(either, project) == who(world, 0, 1, 2, 3, 5)
    # the rank still ranks everyone: "all of" does not narrow the population first
    both = {"match": "all", "conditions": [top, {**signed_up, "count": {"operator": "eq", "value": 0}}]}
    assert members(both, project) == who(world, 0, 1, 2, 3)


def test_as_of_a_moment_only_the_persons_and_events_by_then_are_ranked(events_backend, project, world):
    # three days ago only persons 0 (2 purchases by then) and 6 (no events, first seen 50 days ago)
    # had been seen: the others were first seen later
    at = NOW - timedelta(days=3)
    definition = rank({"count": 1})
    found = members(definition, project, as_of=at)
    normalized = validate_definition(definition)
    assert found == reference.members(normalized, world, at=at) == who(world, 0)
    bottom = rank({"count": 1}, direction="bottom")
    assert members(bottom, project, as_of=at) == reference.members(validate_definition(bottom), world, at=at)
    assert members(bottom, project, as_of=at) == who(world, 6)


def test_a_rank_in_words(project):
    definition = validate_definition(
        rank({"percent": 10}, of="sum", window={"last_days": 30}), project_id=project.pk
    )
    assert (
        describe_text(definition, project)
        == "All of (Top 10% by sum of amount of “purchase” in the last 30 days)"
    )
    bottom = validate_definition(rank({"count": 1000}, direction="bottom"), project_id=project.pk)
    assert describe_text(bottom, project) == "All of (Bottom 1,000 by number of “purchase”)"
    days = validate_definition(rank({"percent": 12.5}, of="active_days"), project_id=project.pk)
    assert describe_text(days, project) == "All of (Top 12.5% by days active with “purchase”)"


def test_ranks_of_two_projects_do_not_mix(events_backend, project, world):
    other = ProjectFactory()
    store_world(other, [{"properties": {}, "company": None, "surveys": [], "sessions": [],
                         "events": _purchases(*[1] * 9)}])  # fmt: skip
    assert members(rank({"count": 1}), project) == who(world, 0)


def test_the_api_creates_a_rank_segment_and_names_a_bad_part(api, send, on_commit):
    send(
        [
            event("purchase", "ann"),
            event("purchase", "ann"),
            event("purchase", "bob"),
            event("signed_up", "cy"),
        ]
    )
    bad = {**BASE, "top": {"percent": 10, "count": 3}}
    response = api("post", "/segments/", {"name": "bad", "definition": {"match": "all", "conditions": [bad]}})
    assert response.status_code == 400
    assert "definition.conditions[0].top" in response.json()
    with on_commit():
        response = api(
            "post",
            "/segments/",
            {
                "name": "Top buyer",
                "definition": {"match": "all", "conditions": [{**BASE, "top": {"count": 1}}]},
            },
        )
    assert response.status_code == 201
    segment = Segment.objects.get(pk=response.json()["id"])
    assert segment.size == 1
    member = segment.memberships.get(exited_at__isnull=True)
    assert member.person.distinct_ids.get().distinct_id == "ann"
