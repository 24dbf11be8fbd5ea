from __future__ import annotations

import pytest

from segments.definition import validate_definition
from segments.describe import describe, describe_text
from segments.models import Segment
from tracking.models import Action

pytestmark = pytest.mark.django_db


def one(project, condition: dict) -> str:
    """The sentence for a single condition, after the validator normalised it (as stored)."""
    definition = validate_definition({"match": "all", "conditions": [condition]}, project_id=project.pk)
    described = describe(definition, project)
    assert described.is_group and len(described.children) == 1
    return described.children[0].text


@pytest.fixture
def created_project(project):
    return Action.objects.create(
        project=project, name="Created project", steps=[{"event": "created_project"}]
    )


def test_it_describes_a_behaviour_with_an_action_a_count_and_a_window(project, created_project):
    text = one(
        project,
        {"type": "behavior", "event": {"action": created_project.pk}, "count": {"operator": "gte", "value": 3},
         "window": {"last_days": 30}},
    )  # fmt: skip
    assert text == "did Created project at least 3 times in the last 30 days"


@pytest.mark.parametrize(
    ("count", "window", "expected"),
    [
        ({"operator": "eq", "value": 0}, None, "never did “signed_up”"),
        ({"operator": "gte", "value": 1}, {"from": "2026-11-01", "to": "2026-11-30"}, "did “signed_up” between 2026-11-01 and 2026-11-30"),
        ({"operator": "eq", "value": 1}, {"last_days": 1}, "did “signed_up” exactly once in the last day"),
        ({"operator": "lt", "value": 5}, None, "did “signed_up” fewer than 5 times"),
        ({"operator": "lte", "value": 2}, None, "did “signed_up” at most twice"),
        ({"operator": "gt", "value": 4}, None, "did “signed_up” more than 4 times"),
        ({"operator": "neq", "value": 3}, None, "did “signed_up” other than 3 times"),
    ],
)  # fmt: skip
def test_it_words_every_count_comparison(project, count, window, expected):
    condition = {"type": "behavior", "event": {"name": "signed_up"}, "count": count}
    if window:
        condition["window"] = window
    assert one(project, condition) == expected


def test_event_property_filters_are_part_of_the_event(project):
    text = one(
        project,
        {"type": "behavior", "event": {"name": "$pageview", "where": [
            {"property": "$pathname", "operator": "eq", "value": "/pricing"},
            {"property": "plan", "operator": "in", "value": ["pro", "team"]}]}},
    )  # fmt: skip
    assert text == "did “$pageview” where $pathname is “/pricing” and plan is one of “pro”, “team”"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"type": "person", "property": "plan", "operator": "eq", "value": "pro"}, "plan is “pro”"),
        ({"type": "person", "property": "age", "operator": "gte", "value": 30}, "age is at least 30"),
        ({"type": "person", "property": "email", "operator": "is_set"}, "email is set"),
        ({"type": "person", "property": "email", "operator": "not_contains", "value": "@acme"}, "email does not contain “@acme”"),
        ({"type": "company", "property": "industry", "operator": "neq", "value": "retail"}, "company industry is not “retail”"),
        ({"type": "device", "property": "browser", "operator": "eq", "value": "Safari", "window": {"last_days": 7}},
         "had a session started in the last 7 days where browser is “Safari”"),
        ({"type": "device", "property": "device_type", "operator": "eq", "value": "mobile"}, "had a session where device type is “mobile”"),
        ({"type": "geo", "property": "country", "operator": "in", "value": ["FR", "DE"]}, "had a session where country is one of “FR”, “DE”"),
        ({"type": "active_days", "count": {"operator": "gte", "value": 8}, "window": {"last_days": 28}},
         "was active on at least 8 days in the last 28 days"),
        ({"type": "aggregate", "event": {"name": "purchase"}, "property": "amount", "function": "sum", "operator": "gte", "value": 100,
          "window": {"last_days": 30}}, "the total “amount” of “purchase” is at least 100 in the last 30 days"),
        ({"type": "aggregate", "event": {"name": "purchase"}, "property": "amount", "function": "avg", "operator": "lt", "value": 9.5},
         "the average “amount” of “purchase” is less than 9.5"),
        ({"type": "sequence", "steps": [{"name": "signed_up"}, {"name": "created_project"}], "within_days": 7},
         "did “signed_up”, then “created_project” (within 7 days of the first)"),
        ({"type": "sequence", "steps": [{"name": "signed_up"}, {"name": "opened_editor"}, {"name": "published"}], "within_days": 1,
          "last_step": "did_not", "window": {"last_days": 30}},
         "did “signed_up”, then “opened_editor”, but never went on to “published” within a day in the last 30 days"),
        ({"type": "first_seen", "operator": "within_last_days", "value": 14}, "was first seen in the last 14 days"),
        ({"type": "first_seen", "operator": "before_last_days", "value": 90}, "was first seen more than 90 days ago"),
        ({"type": "last_seen", "operator": "within_last_days", "value": 7}, "was last seen in the last 7 days"),
        ({"type": "last_seen", "operator": "before_last_days", "value": 30}, "has not been seen for 30 days"),
        ({"type": "survey", "survey": "nps", "question": "score", "operator": "gte", "value": 9},
         "latest answer to “score” in survey “nps” is at least 9"),
        ({"type": "survey", "survey": "nps", "question": "score", "operator": "is_not_set"}, "never answered “score” in survey “nps”"),
    ],
)  # fmt: skip
def test_it_renders_each_condition_type_as_a_sentence(project, condition, expected):
    assert one(project, condition) == expected


def test_a_segment_reference_names_the_segment(project):
    pro = Segment.objects.create(
        project=project, name="Pro users", definition={"match": "all", "conditions": []}
    )
    assert one(project, {"type": "segment", "segment": pro.pk}) == "is in “Pro users”"
    assert one(project, {"type": "segment", "segment": pro.pk, "negate": True}) == "is not in “Pro users”"


def test_deleted_references_are_named_as_deleted_rather_than_failing(project):
    definition = {"match": "all", "conditions": [
        {"type": "segment", "segment": 987654}, {"type": "behavior", "event": {"action": 123456}}]}  # fmt: skip
    assert (
        describe_text(definition, project)
        == "All of (is in segment #987654 (deleted); did action #123456 (deleted))"
    )


def test_another_projects_action_is_not_named(project, other_project):
    theirs = Action.objects.create(project=other_project, name="Their secret action", steps=[{"event": "x"}])
    text = describe_text(
        {"match": "all", "conditions": [{"type": "behavior", "event": {"action": theirs.pk}}]}, project
    )
    assert "Their secret action" not in text


def test_nested_groups_nest_and_negation_changes_the_heading(project):
    definition = {
        "match": "any",
        "negate": False,
        "conditions": [
            {"type": "person", "property": "plan", "operator": "eq", "value": "pro"},
            {"match": "all", "negate": True, "conditions": [
                {"type": "last_seen", "operator": "within_last_days", "value": 7},
                {"type": "geo", "property": "country", "operator": "eq", "value": "FR"}]},
            {"match": "any", "negate": True, "conditions": [{"type": "person", "property": "beta", "operator": "is_set"}]},
        ],
    }  # fmt: skip
    described = describe(definition, project)
    assert described.text == "Any of"
    assert [child.text for child in described.children] == ["plan is “pro”", "Not all of", "None of"]
    assert [c.text for c in described.children[1].children] == [
        "was last seen in the last 7 days",
        "had a session where country is “FR”",
    ]


def test_empty_groups_say_who_they_hold(project):
    assert describe({"match": "all", "conditions": []}, project).text == "Everyone"
    assert describe({"match": "any", "conditions": []}, project).text == "No one"
    assert describe({"match": "all", "negate": True, "conditions": []}, project).text == "No one"


def test_malformed_definitions_are_described_not_raised(project):
    assert describe("nope", project).text == "Not a definition"
    text = describe_text({"match": "all", "conditions": [{"type": "teleported"}, 42]}, project)
    assert text == "All of (an unknown condition ('teleported'))"


def test_it_describes_a_session_condition_with_its_filters_count_and_window(project):
    text = one(
        project,
        {"type": "session", "where": [
            {"property": "duration_seconds", "operator": "gt", "value": 300},
            {"property": "utm_source", "operator": "eq", "value": "newsletter"}],
         "count": {"operator": "gte", "value": 3}, "window": {"last_days": 30}},
    )  # fmt: skip
    assert text == (
        "had at least 3 sessions started in the last 30 days"
        " where duration (seconds) is greater than 300 and UTM source is “newsletter”"
    )
    assert one(project, {"type": "session"}) == "had a session"
    none = {"type": "session", "where": [{"property": "referrer_domain", "operator": "is_set"}],
            "count": {"operator": "eq", "value": 0}}  # fmt: skip
    assert one(project, none) == "had no session where referring domain is set"
