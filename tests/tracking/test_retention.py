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
