"""Definitions made only of sets of persons are answered from the sets, without reading the persons' table.

The compiler trusts that every person id in the events, their daily rollups,
sessions and memberships names a person of the project (merges move them,
erasure deletes them). These tests hold it to that through the product's own
ingestion, merge and erasure.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from segments.compiler import compile_definition
from segments.definition import validate_definition
from tests.ingest.conftest import event
from tracking.models import Person, PersonDistinctId
from tracking.services.persons import person_delete

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

PAGEVIEWS = {"type": "behavior", "event": {"name": "$pageview"}, "count": {"operator": "gte", "value": 2}}
SIGNED_UP = {"type": "behavior", "event": {"name": "signed_up"}, "count": {"operator": "gte", "value": 1}}
NO_PURCHASE = {"type": "behavior", "event": {"name": "purchase"}, "count": {"operator": "eq", "value": 0}}
ACTIVE = {"type": "active_days", "count": {"operator": "gte", "value": 1}, "window": {"last_days": 30}}
CHROME = {"type": "device", "property": "browser", "operator": "eq", "value": "Chrome"}
SIGN_UP_THEN_PAGE = {
    "type": "sequence",
    "steps": [{"name": "signed_up"}, {"name": "$pageview"}],
    "within_days": 7,
    "last_step": "did",
}
PRO = {"type": "person", "property": "plan", "operator": "eq", "value": "pro"}


def _definition(match: str, *conditions) -> dict:
    return validate_definition({"match": match, "conditions": list(conditions)})


def _members(definition, project) -> set[int]:
    query = compile_definition(definition, project=project, now=NOW)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return {row[0] for row in cursor.fetchall()}


def _person(project, distinct_id: str) -> int:
    return PersonDistinctId.objects.get(project=project, distinct_id=distinct_id).person_id


@pytest.mark.parametrize(
    ("definition", "reads_persons"),
    [
        (_definition("all", PAGEVIEWS), False),
        (_definition("all", PAGEVIEWS, NO_PURCHASE), False),  # a set, less another
        (_definition("any", PAGEVIEWS, SIGNED_UP), False),  # the union of two sets
        (_definition("all", SIGN_UP_THEN_PAGE, CHROME, ACTIVE), False),
        (_definition("all", PAGEVIEWS, PRO), True),  # a trait is a test of the person's row
        (_definition("all", NO_PURCHASE), True),  # everyone but a set: needs everyone
        (_definition("any", PAGEVIEWS, NO_PURCHASE), True),
    ],
)
def test_only_definitions_made_of_sets_skip_the_persons_table(project, definition, reads_persons):
    query = compile_definition(definition, project=project, now=NOW)
    assert ("tracking_person p" in query.sql) == reads_persons, query.sql


def test_sets_name_the_survivor_of_a_merge_and_never_an_erased_person(events_backend, send, project):
    """After a merge the sets count the anonymous person's events for the survivor; after an
    erasure they no longer hold the erased person, whichever form the statement takes."""
    minutes = [timedelta(minutes=n) for n in (3000, 2000, 1000)]
    with time_machine.travel(NOW, tick=False):
        send([event("signed_up", "anon-1", timestamp=(NOW - minutes[0]).isoformat())])
        send([event(distinct_id="anon-1", timestamp=(NOW - minutes[1]).isoformat())])
        send([event(distinct_id="ann@example.com", timestamp=(NOW - minutes[2]).isoformat())])
        send([event(distinct_id="bob@example.com", timestamp=(NOW - minutes[2]).isoformat(), plan="pro")])
        send([event(distinct_id="bob@example.com", timestamp=(NOW - minutes[1]).isoformat())])
        anon = _person(project, "anon-1")
        send([event("$identify", "ann@example.com", **{"$anon_distinct_id": "anon-1"})])
    ann, bob = _person(project, "ann@example.com"), _person(project, "bob@example.com")
    assert _person(project, "anon-1") == ann and not Person.objects.filter(pk=anon).exists()

    pages = _definition("all", PAGEVIEWS)
    journeys = _definition("all", SIGN_UP_THEN_PAGE, ACTIVE)
    either = _definition("any", SIGNED_UP, PAGEVIEWS)
    # ann's two pageviews are one before and one after the merge
    assert _members(pages, project) == {ann, bob}
    assert _members(journeys, project) == {ann}
    assert _members(either, project) == {ann, bob}

    person_delete(person=Person.objects.get(pk=bob))
    assert _members(pages, project) == {ann}
    assert _members(either, project) == {ann}
    assert _members(_definition("all", ACTIVE, CHROME), project) == {ann}


def test_a_refresh_of_a_few_persons_is_driven_from_their_rows(project):
    """A set on its own may be read over all of history; the persons' rows lead a refresh to theirs."""
    query = compile_definition(_definition("all", PAGEVIEWS), project=project, now=NOW, person_ids=[1, 2])
    assert "tracking_person p" in query.sql and "p.id = ANY(" in query.sql
