"""Reads through the event store give the same answers on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tracking.eventstore import explore
from tracking.eventstore.stored import START, EventCursor
from tracking.ingest.rollup import person_days_rebuild
from tracking.models import Person, PersonDay

pytestmark = pytest.mark.django_db


def _event(distinct_id: str, name: str = "$pageview", *, at: datetime, **extra) -> dict:
    return {
        "event": name,
        "distinct_id": distinct_id,
        "uuid": str(uuid.uuid4()),
        "timestamp": at.isoformat(),
        "properties": extra,
    }


def _days(project) -> list[tuple]:
    return list(
        PersonDay.objects.filter(project_id=project.pk)
        .order_by("person_id", "day")
        .values_list("person_id", "day", "events", "first_at", "last_at")
    )


def test_the_rollup_rebuilt_from_events_is_the_one_ingestion_kept(events_backend, send, project):
    project.timezone = "America/New_York"
    project.save()
    now = datetime.now(UTC).replace(microsecond=0)
    send([_event("anon-1", at=now - timedelta(days=2, hours=h)) for h in range(3)])
    send([_event("ada", at=now - timedelta(hours=1)), _event("bob", at=now - timedelta(days=1))])
    send([_event("ada", "$identify", at=now, **{"$anon_distinct_id": "anon-1"})])
    kept = _days(project)
    assert Person.objects.filter(project=project).count() == 2

    PersonDay.objects.filter(project_id=project.pk).delete()
    assert person_days_rebuild(project.pk) == len(kept)

    assert _days(project) == kept


def test_another_projects_events_are_never_read(events_backend, send, project, other_project):
    now = datetime.now(UTC)
    theirs = _event("them", at=now)
    send([theirs], api_key=other_project.public_key)
    send([_event("me", at=now - timedelta(minutes=1))])
    them = Person.objects.get(project=other_project)

    assert explore.event_get(project.pk, uuid.UUID(theirs["uuid"])) is None
    assert explore.event_get(other_project.pk, uuid.UUID(theirs["uuid"])).distinct_id == "them"
    assert [e.distinct_id for e in explore.event_list(project.pk)] == ["me"]
    assert explore.event_list(project.pk, person_id=them.pk) == []
    assert explore.person_event_counts(project.pk, [them.pk]) == {}
    assert explore.event_list_newer(project.pk, since=START, name="$pageview")[0].distinct_id == "me"
    assert explore.event_names(project.pk, limit=10) == ["$pageview"]


def test_the_live_tail_and_the_pages_cut_ties_by_uuid(events_backend, send, project):
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    batch = [_event(f"p{i}", at=moment) for i in range(6)]
    send(batch)
    expected = sorted((e["uuid"] for e in batch), reverse=True)

    first = explore.event_list(project.pk, limit=3)
    rest = explore.event_list(project.pk, cursor=EventCursor.of(first[-1]), limit=10)
    newer = explore.event_list_newer(project.pk, since=EventCursor.of(rest[1]))

    assert [str(e.uuid) for e in first + rest] == expected
    assert [str(e.uuid) for e in newer] == expected[:4]
    assert [e.timestamp for e in first] == [moment] * 3
