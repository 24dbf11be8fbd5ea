from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.ingest.conftest import event
from tracking.models import IngestRejection

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


def settings_page(client, project) -> str:
    response = client.get(reverse("project_settings", args=[project.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_settings_page_says_no_events_yet(alice_client, project):
    body = settings_page(alice_client, project)

    assert "No events yet" in body
    assert "paste the snippet" in body
    assert f'hx-get="{reverse("install_check", args=[project.pk])}"' in body
    assert 'hx-trigger="every 3s"' in body


def test_arriving_events_show_their_host_and_count(alice_client, project, send):
    response = send([event(), event()], headers={"HTTP_ORIGIN": "https://www.acme.test"})
    assert response.status_code == 200

    body = settings_page(alice_client, project)

    assert "Receiving events" in body
    assert "No events yet" not in body
    assert "<code>www.acme.test</code>" in body
    assert "2 events received in all" in body
    assert "No events rejected in the last 24 hours" in body


def test_rejections_show_their_count_and_latest_reasons(alice_client, project, send):
    response = send([event(), {"event": "", "distinct_id": "x"}, {**event(), "properties": "not an object"}])
    assert response.json()["accepted"] == 1

    body = settings_page(alice_client, project)

    assert "2 rejected" in body
    assert "event must be a non-empty string" in body
    assert "properties must be a JSON object" in body


def test_rejections_older_than_a_day_are_not_recent(alice_client, project, send):
    with time_machine.travel(NOW - timedelta(hours=30), tick=False):
        send([{"event": "", "distinct_id": "x"}])
    with time_machine.travel(NOW, tick=False):
        send([{"event": "", "distinct_id": "y"}, event()])
        assert IngestRejection.objects.filter(project=project).count() == 2

        body = settings_page(alice_client, project)

    assert "1 rejected" in body


def test_the_poll_returns_the_fragment_and_the_page_works_without_htmx(alice_client, project, send):
    url = reverse("install_check", args=[project.pk])
    send([event()], headers={"HTTP_ORIGIN": "https://shop.acme.test"})

    full = alice_client.get(url)
    partial = alice_client.get(url, **HTMX)

    assert full.status_code == partial.status_code == 200
    assert "<html" in full.content.decode()
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="install-check"')
    assert "<html" not in body
    assert "shop.acme.test" in body and "shop.acme.test" in full.content.decode()
    assert 'hx-trigger="every 10s"' in body


def test_another_projects_member_gets_404(alice_client, bob_client, project):
    url = reverse("install_check", args=[project.pk])

    assert alice_client.get(url).status_code == 200
    assert bob_client.get(url).status_code == 404
    assert bob_client.get(url, **HTMX).status_code == 404


def test_another_projects_events_do_not_count(alice_client, project, other_project, send):
    send([event()], api_key=other_project.public_key, headers={"HTTP_ORIGIN": "https://bobco.test"})

    body = settings_page(alice_client, project)

    assert "No events yet" in body
    assert "bobco.test" not in body
