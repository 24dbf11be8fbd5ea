"""Ingestion into ClickHouse: exactly once, merges read at once, erasure and retention."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tracking import eventstore
from tracking.eventstore.clickhouse.client import Params
from tracking.eventstore.clickhouse.reads import events_from
from tracking.models import Person
from tracking.services.persons import person_delete
from tracking.services.retention import project_data_expire

pytestmark = pytest.mark.django_db


def _counts(ch, project) -> dict[int, int]:
    p = Params()
    rows = ch.query(f"SELECT person_id, count() FROM {events_from(ch, project.pk, p)} GROUP BY person_id", p)
    return dict(rows)


def _event(distinct_id: str, name: str = "$pageview", **extra) -> dict:
    return {"event": name, "distinct_id": distinct_id, "uuid": str(uuid.uuid4()), "properties": extra}


def test_a_retried_batch_is_stored_once(clickhouse, send, project):
    batch = [_event("anon-1"), _event("anon-1", "signup")]
    for _ in range(3):
        response = send(batch)
        assert response.status_code == 200
    person = Person.objects.get(project=project, distinct_ids__distinct_id="anon-1")
    assert _counts(clickhouse, project) == {person.pk: 2}
    # background merges of the parts change nothing: no duplicate was ever written
    clickhouse.command(f"OPTIMIZE TABLE {clickhouse.table('events')} FINAL")
    send(batch)
    assert _counts(clickhouse, project) == {person.pk: 2}
    assert eventstore.using_clickhouse()


def test_an_identify_merge_reads_the_anonymous_events_as_the_identified_persons(clickhouse, send, project):
    send([_event("anon-2"), _event("anon-2")])
    send([_event("user@example.com", "$pageview")])
    send([_event("user@example.com", "$identify", **{"$anon_distinct_id": "anon-2"})])
    identified = Person.objects.get(project=project, distinct_ids__distinct_id="user@example.com")
    assert Person.objects.filter(project=project).count() == 1
    assert _counts(clickhouse, project) == {identified.pk: 4}


def test_erasure_removes_the_persons_events_including_merged_ones(clickhouse, send, project):
    send([_event("anon-3")])
    send([_event("kept")])
    send([_event("gone@example.com", "$identify", **{"$anon_distinct_id": "anon-3"})])
    gone = Person.objects.get(project=project, distinct_ids__distinct_id="gone@example.com")
    kept = Person.objects.get(project=project, distinct_ids__distinct_id="kept")
    person_delete(person=gone)
    assert _counts(clickhouse, project) == {kept.pk: 1}


def test_retention_drops_old_events(clickhouse, send, project):
    old = timezone.now() - timedelta(days=project.data_retention_days + 3)
    send([{**_event("old-1"), "timestamp": old.isoformat()}, _event("old-1")])
    assert project_data_expire(project=project) == 1
    assert sum(_counts(clickhouse, project).values()) == 1


def test_deleting_a_project_deletes_its_events(clickhouse, send, project, other_project):
    send([_event("p-1")])
    project_id = project.pk
    project.delete()
    p = Params()
    left = clickhouse.query(
        f"SELECT count() FROM {clickhouse.table('events')} WHERE project_id = {p.add(project_id, 'UInt64')}",
        p,
    )
    assert left == [(0,)]


def test_a_chunk_whose_transaction_failed_after_the_insert_is_stored_once(clickhouse, send, project):
    """The insert is not transactional: a rolled-back chunk leaves rows under persons that never existed."""
    from django.db import transaction

    batch = [_event("fresh-1"), _event("fresh-1", "signup")]

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        assert send(batch).status_code == 200  # drained inline, inside this transaction
        raise Abort
    assert not Person.objects.filter(project=project).exists()
    assert sum(_counts(clickhouse, project).values()) == 2  # written under a person id now gone

    assert send(batch).status_code == 200  # the client's retry: stored again, nothing doubled
    person = Person.objects.get(project=project, distinct_ids__distinct_id="fresh-1")
    assert _counts(clickhouse, project) == {person.pk: 2}
