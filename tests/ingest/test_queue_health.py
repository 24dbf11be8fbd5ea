"""`GET /health/ingest` and the install check's lag: how far behind ingestion is, and for whom."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.ingest.conftest import event
from tracking.ingest.drain import queue_drain_all
from tracking.ingest.queue import pressure_forget

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(settings):
    settings.INGEST_DRAIN_INLINE = False
    pressure_forget()


def test_it_reports_depth_oldest_age_and_drain_rate_to_anyone(send, queued, client):
    send([event(), event()])
    send([event()])

    body = client.get("/health/ingest").json()

    assert body["status"] == "ok"
    assert (body["depth_items"], body["depth_events"]) == (2, 3)
    assert 0 <= body["oldest_age_seconds"] < 30
    assert body["drained_events_per_second"] == 0
    assert "projects" not in body, "project figures are not public"

    queue_drain_all()
    after = client.get("/health/ingest").json()
    assert (after["depth_items"], after["depth_events"], after["oldest_age_seconds"]) == (0, 0, 0)
    assert after["drained_events_per_second"] == pytest.approx(3 / 60, abs=0.1)


def test_staff_see_each_projects_lag(send, queued, staff_client, project, other_project):
    send([event()])
    queue_drain_all()
    send([event(), event()])

    body = staff_client.get("/health/ingest").json()

    (lag,) = body["projects"]
    assert lag["project_id"] == project.pk
    assert (lag["waiting_items"], lag["waiting_events"]) == (1, 2)
    assert lag["lag_seconds"] >= 0 and lag["recent_wait_seconds"] >= 0


def test_a_member_of_a_project_does_not_see_other_projects_lag(send, queued, bob_client, project):
    send([event()])
    body = bob_client.get("/health/ingest").json()
    assert body["depth_events"] == 1
    assert "projects" not in body


def test_monitoring_with_the_health_token_sees_project_lag(send, queued, settings, project):
    settings.INGEST_HEALTH_TOKEN = "t0ken-for-monitoring"
    send([event()])
    assert (
        "projects" in Client().get("/health/ingest", HTTP_AUTHORIZATION="Bearer t0ken-for-monitoring").json()
    )
    assert "projects" not in Client().get("/health/ingest", HTTP_AUTHORIZATION="Bearer wrong").json()


def test_it_says_full_past_a_limit(send, queued, settings, client):
    settings.INGEST_QUEUE_MAX_EVENTS = 2
    send([event(), event()])
    assert client.get("/health/ingest").json()["status"] == "full"


def test_it_answers_get_only(client):
    assert client.post("/health/ingest").status_code == 405


def test_the_install_check_shows_events_waiting_to_be_stored(send, queued, alice_client, project):
    from tracking.models import IngestQueueItem

    send([event(), event(), event()])
    IngestQueueItem.objects.update(received_at=timezone.now() - timedelta(seconds=42))

    page = alice_client.get(f"/p/{project.pk}/settings/install-check/").content.decode()

    assert "3 events received and waiting to be stored" in page
    assert "the oldest arrived 42 s ago" in page


def test_the_install_check_shows_how_soon_events_are_stored(send, queued, alice_client, project):
    send([event()])
    queue_drain_all()
    page = alice_client.get(f"/p/{project.pk}/settings/install-check/").content.decode()
    assert "Events are stored within" in page
