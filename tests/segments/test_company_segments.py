"""Company segments against the reference: company traits, counts of people, aggregates of their events,
nested company segments, and people reached through `company_segment` — on both event stores."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segments.compiler import compile_definition
from segments.definition import DefinitionError, validate_definition
from segments.models import CompanyMembership, Segment, SegmentSubject
from segments.services import segment_compute, segment_create
from tests.factories import ProjectFactory
from tests.segments import reference
from tests.segments.test_differential import ACTION_STEPS, _with_actions, counts, definitions, windows
from tests.segments.world import NOW, store_world, world_st
from tracking.services.actions import action_create

pytestmark = pytest.mark.django_db
_SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

company_conditions = st.one_of(
    st.builds(lambda op, v: {"type": "company", "property": "industry", "operator": op, "value": v},
              st.sampled_from(["eq", "neq", "is_not_set"]), st.sampled_from(["retail", "software"])),
    st.builds(lambda v: {"type": "company", "property": "size", "operator": "gte", "value": v},
              st.sampled_from([10, 100, 1000])),
    st.builds(lambda d, c: {"type": "people", "definition": d, "count": c}, definitions, counts),
    st.builds(lambda fn, op, v, w: {"type": "aggregate", "event": {"name": "purchase"}, "property": "amount",
                                    "function": fn, "operator": op, "value": v, **({"window": w} if w else {})},
              st.sampled_from(["sum", "avg", "min", "max"]), st.sampled_from(["gt", "gte", "lt", "lte"]),
              st.sampled_from([5, 12, 20, 50, 120]), windows),
)  # fmt: skip
company_definitions = st.builds(
    lambda match, negate, conds: {"match": match, "negate": negate, "conditions": conds},
    st.sampled_from(["all", "any"]),
    st.booleans(),
    st.lists(company_conditions, min_size=1, max_size=3),
)


def sql_companies(definition, project, company_ids=None, *, at=None) -> set[int]:
    query = compile_definition(
        definition,
        project=project,
        now=at or NOW,
        person_ids=company_ids,
        subject="company",
        as_of=at is not None,
    )
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return {row[0] for row in cursor.fetchall()}


def _world(project, spec, definition):
    """The stored world, and the definition with its placeholder actions created in the project."""
    world = store_world(project, spec)
    ids = {}
    for index, steps in enumerate(ACTION_STEPS):
        action = action_create(project=project, user=None, name=f"A{index}", steps=steps)
        ids[f"A{index}"] = action.pk
        world.actions[action.pk] = action.steps
    return world, _with_actions(definition, ids)


def _agrees(spec, definition) -> None:
    project = ProjectFactory()
    world, definition = _world(project, spec, definition)
    normalized = validate_definition(definition, project_id=project.pk, subject="company")
    expected = reference.company_members(normalized, world)
    assert sql_companies(normalized, project) == expected, normalized
    # an incremental refresh of some companies answers for those companies exactly
    some = [company.id for company in world.companies[::2]]
    assert sql_companies(normalized, project, some) == expected & set(some), normalized
    # as of a moment in the past
    at = NOW.replace(day=5)
    assert sql_companies(normalized, project, at=at) == reference.company_members(normalized, world, at), (
        normalized
    )


@settings(max_examples=60, deadline=None, suppress_health_check=_SLOW)
@given(spec=world_st, definition=company_definitions)
def test_company_definitions_agree_with_the_reference(spec, definition):
    _agrees(spec, definition)


@settings(max_examples=25, deadline=None, suppress_health_check=_SLOW)
@given(spec=world_st, definition=company_definitions)
def test_company_definitions_agree_with_the_reference_on_clickhouse(clickhouse, spec, definition):
    _agrees(spec, definition)


@settings(max_examples=25, deadline=None, suppress_health_check=_SLOW)
@given(spec=world_st, company=company_definitions, negate=st.booleans())
def test_people_in_a_company_segment_agree_with_the_reference(events_backend, spec, company, negate):
    """`company_segment` reads the company segment's computed members; the reference evaluates it."""
    project = ProjectFactory()
    world, company = _world(project, spec, company)
    segment = segment_create(project=project, name="accounts", definition=company, subject="company")
    segment_compute(segment=segment, now=NOW)
    world.company_segments[segment.pk] = segment.definition
    person_definition = validate_definition(
        {"conditions": [{"type": "company_segment", "segment": segment.pk, "negate": negate}]},
        project_id=project.pk,
    )
    query = compile_definition(person_definition, project=project, now=NOW)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        found = {row[0] for row in cursor.fetchall()}
    assert found == reference.members(person_definition, world), company
    # as of a moment: the company segment evaluated as of then
    at = NOW.replace(day=5)
    query = compile_definition(person_definition, project=project, now=at, as_of=True)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        found = {row[0] for row in cursor.fetchall()}
    assert found == reference.members(person_definition, world, at), company


def _spec(company, amounts, plan="free"):
    events = [
        {"name": "purchase", "minutes_ago": 60 * (i + 1), "plan": None, "amount": a, "path": "/"}
        for i, a in enumerate(amounts)
    ]
    return {"properties": {"plan": plan}, "company": company, "surveys": [], "sessions": [], "events": events}  # fmt: skip


def test_a_company_aggregate_combines_all_its_peoples_events(events_backend):
    """Company 0 (retail): people spending 5 + 20 and 99.5; company 1: one person spending "12"; company 2: none."""
    project = ProjectFactory()
    world = store_world(
        project, [_spec(0, [5, 20]), _spec(0, [99.5]), _spec(1, ["12", "n/a"]), _spec(None, [50])]
    )
    c0, c1, c2 = (c.id for c in world.companies)

    def holding(function, operator, value):
        condition = {"type": "aggregate", "event": {"name": "purchase"}, "property": "amount",
                     "function": function, "operator": operator, "value": value}  # fmt: skip
        definition = validate_definition({"conditions": [condition]}, subject="company")
        found = sql_companies(definition, project)
        assert found == reference.company_members(definition, world), condition
        return found

    assert holding("sum", "eq", 124.5) == {c0}
    assert holding("avg", "eq", 41.5) == {c0}  # (5 + 20 + 99.5) / 3, not the average of the people's averages
    assert holding("min", "lt", 10) == {c0}
    assert holding("max", "gte", 12) == {
        c0,
        c1,
    }  # "n/a" is not a number; a company without purchases never matches
    assert c2 not in holding("sum", "gte", 0)


def test_people_counts_include_companies_with_nobody_matching(events_backend):
    project = ProjectFactory()
    world = store_world(
        project, [_spec(0, [], "pro"), _spec(0, [], "pro"), _spec(1, [], "pro"), _spec(1, [])]
    )
    c0, c1, c2 = (c.id for c in world.companies)
    pro = {"conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}]}

    def holding(operator, value):
        definition = validate_definition(
            {
                "conditions": [
                    {"type": "people", "definition": pro, "count": {"operator": operator, "value": value}}
                ]
            },
            subject="company",
        )
        found = sql_companies(definition, project)
        assert found == reference.company_members(definition, world)
        return found

    assert holding("gte", 2) == {c0}
    assert holding("eq", 1) == {c1}
    assert holding("eq", 0) == {c2}  # no people at all
    assert holding("lt", 2) == {c1, c2}


@pytest.mark.parametrize(
    ("subject", "definition", "path", "message"),
    [
        ("company", {"conditions": [{"type": "behavior", "event": {"name": "x"}}]}, "definition.conditions[0].type",
         "a company segment's conditions"),
        ("company", {"conditions": [{"type": "people", "definition": {"conditions": [{"type": "nope"}]}}]},
         "definition.conditions[0].definition.conditions[0].type", "unknown condition type"),
        ("company", {"conditions": [{"type": "people", "definition": {"conditions": []}, "count": {"operator": "gte", "value": -1}}]},
         "definition.conditions[0].count.value", "between"),
        ("person", {"conditions": [{"type": "people", "definition": {"conditions": []}}]}, "definition.conditions[0].type",
         "a condition of company segments"),
        ("person", {"conditions": [{"type": "company_segment", "segment": "x"}]}, "definition.conditions[0].segment",
         "must be a segment id"),
    ],
)  # fmt: skip
def test_malformed_company_definitions_name_the_part(subject, definition, path, message):
    with pytest.raises(DefinitionError) as error:
        validate_definition(definition, subject=subject)
    assert error.value.path == path
    assert message in error.value.message


def test_segments_of_the_other_subject_are_refused_with_a_hint(project):
    people = Segment.objects.create(project=project, name="people", definition={"conditions": []})
    accounts = Segment.objects.create(project=project, name="accounts", subject=SegmentSubject.COMPANY)
    with pytest.raises(DefinitionError, match="use a company_segment condition"):
        validate_definition(
            {"conditions": [{"type": "segment", "segment": accounts.pk}]}, project_id=project.pk
        )
    with pytest.raises(DefinitionError, match="not of companies"):
        validate_definition(
            {"conditions": [{"type": "company_segment", "segment": people.pk}]}, project_id=project.pk
        )
    with pytest.raises(DefinitionError, match="use a people condition"):
        validate_definition(
            {"conditions": [{"type": "segment", "segment": people.pk}]},
            project_id=project.pk,
            subject="company",
        )


def test_a_company_segment_materialises_companies_and_freezes_them(project):
    world = store_world(project, [_spec(0, [5]), _spec(1, [])])
    segment = segment_create(
        project=project,
        name="buyers",
        subject="company",
        definition={"conditions": [{"type": "aggregate", "event": {"name": "purchase"}, "property": "amount",
                                    "function": "sum", "operator": "gt", "value": 0}]},
    )  # fmt: skip
    change = segment_compute(segment=segment, now=NOW)
    assert change.subject == "company"
    assert set(change.entered) == {world.companies[0].id}
    assert segment.size == 1
    open_ids = CompanyMembership.objects.filter(segment=segment, exited_at__isnull=True)
    assert list(open_ids.values_list("company_id", flat=True)) == [world.companies[0].id]
