"""Events past the project's retention are deleted; dead letters are kept a month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.ingest.conftest import event
from tracking.models import Event, IngestRejection, PersonDay
from tracking.services.retention import project_data_expire

pytestmark = pytest.mark.django_db


def test_old_events_and_their_days_expire_and_recent_ones_stay(send, project, other_project):
    now = datetime.now(UTC)
    send([event("old", timestamp=(now - timedelta(days=100)).isoformat()), event("recent"), {"event": 1}])
    send(
        [event("theirs", timestamp=(now - timedelta(days=100)).isoformat())], api_key=other_project.public_key
    )
    project.data_retention_days = 90
    project.save()
    assert project_data_expire(project=project) == 1
    assert set(Event.objects.values_list("name", flat=True)) == {"recent", "theirs"}
    assert PersonDay.objects.filter(project=project).count() == 1
    assert IngestRejection.objects.filter(project=project).count() == 1  # a day old: kept
    with time_machine.travel(now + timedelta(days=31)):
        project_data_expire(project=project)
    assert not IngestRejection.objects.filter(project=project).exists()


def test_erasing_a_person_also_drops_dead_letters_that_name_them(send, project, alice_client):
    send([event(distinct_id="dana"), {"event": 5, "distinct_id": "dana"}, {"event": 6, "distinct_id": "lee"}])
    person = PersonDay.objects.get().person_id
    response = alice_client.delete(f"/api/v1/projects/{project.pk}/persons/{person}/")
    assert response.status_code == 204
    assert list(IngestRejection.objects.values_list("index", flat=True)) == [2]  # lee's stays


def _members_as_of(project, definition, moment) -> set[int]:
    from django.db import connection

    from segments.compiler import compile_definition

    query = compile_definition(definition, project=project, now=moment, as_of=True)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return {row[0] for row in cursor.fetchall()}


def test_expired_trait_history_keeps_what_decides_a_trait_after_the_cutoff(send, project):
    from tracking.models import CompanyTrait, PersonTrait

    now = datetime.now(UTC)

    def at(days: float) -> str:
        return (now - timedelta(days=days)).isoformat()

    def traits(who, days, *, set_=None, once=None, company=None):
        props = {"$set": set_ or {}, "$set_once": once or {}}
        if company:
            props.update({"$groups": {"company": company[0]}})
        send([event("$identify", who, timestamp=at(days), **props)])
        if company:
            send(
                [
                    event(
                        "$groupidentify",
                        who,
                        timestamp=at(days),
                        **{"$group_key": company[0], "$group_set": company[1]},
                    )
                ]
            )

    # before the cutoff (90 days): several writes each; after it, some change again
    traits("ann", 200, set_={"plan": "free"}, once={"source": "ads"}, company=("acme", {"tier": "s"}))
    traits("ann", 150, set_={"plan": "pro"}, once={"source": "blog"}, company=("acme", {"tier": "m"}))
    traits("ann", 120, set_={"plan": "team"}, company=("acme", {"tier": "l"}))
    traits("ann", 30, set_={"plan": "enterprise"}, company=("acme", {"tier": "xl"}))
    traits("bob", 180, once={"source": "ads"})
    traits("bob", 100, once={"source": "social"}, set_={"plan": "free"})
    traits("cy", 10, set_={"plan": "team"}, once={"source": "blog"})
    project.data_retention_days = 90
    project.save()
    questions = [
        {"type": "person", "property": "plan", "operator": "eq", "value": plan}
        for plan in ("free", "pro", "team", "enterprise")
    ] + [
        {"type": "person", "property": "source", "operator": "eq", "value": source}
        for source in ("ads", "blog", "social")
    ] + [
        {"type": "company", "property": "tier", "operator": "eq", "value": tier} for tier in ("l", "xl")
    ]  # fmt: skip
    moments = [now - timedelta(days=d) for d in (89.9, 60, 31, 29, 5)] + [now]
    before = {
        (i, m): _members_as_of(project, {"match": "all", "conditions": [q]}, m)
        for i, q in enumerate(questions)
        for m in moments
    }
    rows_before = PersonTrait.objects.count(), CompanyTrait.objects.count()

    project_data_expire(project=project, now=now)

    after = {
        (i, m): _members_as_of(project, {"match": "all", "conditions": [q]}, m)
        for i, q in enumerate(questions)
        for m in moments
    }
    assert after == before
    assert any(before.values())  # the questions have answers to keep
    # per subject and key before the cutoff: the latest $set and the earliest $set_once stay
    kept = sorted(
        PersonTrait.objects.filter(at__lt=now - timedelta(days=90)).values_list("key", "value", "once")
    )
    assert kept == [
        ("plan", "free", False),
        ("plan", "team", False),
        ("source", "ads", True),
        ("source", "ads", True),
    ]
    assert list(
        CompanyTrait.objects.filter(at__lt=now - timedelta(days=90)).values_list("value", flat=True)
    ) == ["l"]
    assert (PersonTrait.objects.count(), CompanyTrait.objects.count()) < rows_before
