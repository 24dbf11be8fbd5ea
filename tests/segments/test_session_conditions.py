"""Session conditions: counts that include people without sessions, and evaluation as of a moment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from segments.compiler import compile_definition
from segments.definition import validate_definition
from segments.history import boundaries, reconstruct
from segments.models import Segment, SegmentMembership
from segments.services import segment_compute
from tests.factories import ProjectFactory
from tests.segments import reference
from tests.segments.test_differential import session_conditions, sql_members
from tests.segments.world import NOW, store_world, world_st
from tracking.properties import compare

pytestmark = pytest.mark.django_db
_SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@pytest.mark.parametrize("operator", ["eq", "neq", "gt", "gte", "lt", "lte"])
@pytest.mark.parametrize("value", [0, 1, 2, 3])
def test_every_session_count_comparison_treats_people_without_sessions_right(events_backend, operator, value):
    """Four persons with 0, 1, 2 and 3 sessions of five minutes from the newsletter, and one short one each."""
    project = ProjectFactory()
    spec = []
    for n in range(4):
        long = {"browser": "Chrome", "country": "", "seconds": 301, "utm_source": "newsletter"}
        sessions = [{**long, "minutes_ago": 60 * 24 * i + 30} for i in range(n)]
        sessions.append({"minutes_ago": 10, "browser": "Firefox", "country": "", "seconds": 30})
        spec.append({"properties": {}, "company": None, "surveys": [], "sessions": sessions, "events": []})
    world = store_world(project, spec)
    condition = {
        "type": "session",
        "where": [
            {"property": "duration_seconds", "operator": "gt", "value": 300},
            {"property": "utm_source", "operator": "eq", "value": "newsletter"},
        ],
        "count": {"operator": operator, "value": value},
        "window": {"last_days": 30},
    }
    definition = validate_definition({"match": "all", "conditions": [condition]})
    found = sql_members(definition, project)
    assert found == reference.members(definition, world), condition
    assert len(found) == sum(1 for n in range(4) if compare(n, operator, value))


def test_as_of_a_moment_only_sessions_started_by_then_count_with_their_final_facts(events_backend):
    """Sessions 10 and 2 days ago, each 10 minutes long; as of 5 days ago only the first one existed."""
    project = ProjectFactory()
    long = {"browser": "Chrome", "country": "", "seconds": 600, "utm_source": "newsletter"}
    spec = [
        {"properties": {}, "company": None, "surveys": [], "events": [],
         "sessions": [{**long, "minutes_ago": 10 * 1440}, {**long, "minutes_ago": 2 * 1440}]},
        {"properties": {}, "company": None, "surveys": [], "events": [],
         "sessions": [{**long, "minutes_ago": 2 * 1440}]},
    ]  # fmt: skip
    world = store_world(project, spec)
    both, recent = (p.id for p in world.persons)
    definition = validate_definition(
        {"match": "all", "conditions": [{
            "type": "session", "where": [{"property": "duration_seconds", "operator": "gte", "value": 600}],
            "count": {"operator": "gte", "value": 2}}]}
    )  # fmt: skip
    assert sql_members(definition, project) == reference.members(definition, world) == {both}
    then = NOW - timedelta(days=5)
    assert _as_of(definition, project, then) == set()
    for operator, value, expected in (("eq", 0, {recent}), ("gte", 1, {both}), ("lt", 2, {both, recent})):
        count = {"operator": operator, "value": value}
        changed = {**definition, "conditions": [{**definition["conditions"][0], "count": count}]}
        assert _as_of(changed, project, then) == expected, count


def _as_of(definition: dict, project, moment) -> set[int]:
    query = compile_definition(definition, project=project, now=moment, as_of=True)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return {row[0] for row in cursor.fetchall()}


@settings(max_examples=25, deadline=None, suppress_health_check=_SLOW, phases=[Phase.generate])
@given(spec=world_st, condition=session_conditions, tz=st.sampled_from(["UTC", "America/New_York"]))
def test_the_history_of_a_session_condition_is_its_evaluation_at_every_boundary(spec, condition, tz):
    """Sessions without events still move membership: reconstruction finds their persons as candidates."""
    project = ProjectFactory(timezone=tz)
    store_world(project, spec)
    definition = validate_definition({"match": "all", "conditions": [condition]}, project_id=project.pk)
    segment = Segment.objects.create(project=project, name="sessions", definition=definition)
    segment_compute(segment=segment, now=NOW)
    reconstruct(segment, now=NOW)
    for point in boundaries(project, now=NOW, horizon_days=180):
        periods = SegmentMembership.objects.filter(segment=segment, entered_at__lte=point).exclude(
            exited_at__lte=point
        )
        assert set(periods.values_list("person_id", flat=True)) == _as_of(definition, project, point), (
            point,
            definition,
        )
