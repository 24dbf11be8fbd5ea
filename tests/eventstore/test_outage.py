"""ClickHouse away at run time: acknowledged events wait in the queue and catch up; pages show a banner.

The outage is real: the client points at a port where nothing listens.
"""

from __future__ import annotations

import socket
import uuid

import pytest

from tracking.eventstore.clickhouse.client import Params
from tracking.ingest.drain import queue_drain_all
from tracking.models import IngestQueueItem, IngestRejection

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.fixture
def clickhouse_down(settings):
    settings.CLICKHOUSE = {
        "kind": "http", "host": "127.0.0.1", "port": _closed_port(), "secure": False,
        "username": "default", "password": "", "database": "sightline", "cluster": "",
    }  # fmt: skip


def test_events_wait_in_the_queue_until_clickhouse_is_back(clickhouse_down, send, project, request):
    batch = [{"event": "$pageview", "distinct_id": "v-1", "uuid": str(uuid.uuid4())} for _ in range(3)]
    response = send(batch)
    assert response.status_code == 200
    assert response.json()["accepted"] == 3
    assert IngestQueueItem.objects.filter(project_id=project.pk).count() == 1
    assert not IngestRejection.objects.filter(project_id=project.pk).exists()

    ch = request.getfixturevalue("clickhouse")  # ClickHouse is back
    assert queue_drain_all() == 3
    assert not IngestQueueItem.objects.filter(project_id=project.pk).exists()
    p = Params()
    count = ch.query(
        f"SELECT count() FROM {ch.table('events')} WHERE project_id = {p.add(project.pk, 'UInt64')}", p
    )
    assert count == [(3,)]


def test_pages_show_a_banner_and_the_api_a_503_while_clickhouse_is_away(
    clickhouse_down, alice_client, project
):
    from tracking.eventstore.clickhouse.client import client_reset

    client_reset()
    page = alice_client.get(f"/p/{project.pk}/events/")
    assert page.status_code == 503
    body = page.content.decode()
    assert "The event store is not answering right now" in body and 'role="alert"' in body
    assert f'href="/p/{project.pk}/segments/"' in body  # the app around it still works
    fragment = alice_client.get(f"/p/{project.pk}/overview/", HTTP_HX_REQUEST="true")
    assert (
        fragment.status_code == 200
        and "The event store is not answering right now" in fragment.content.decode()
    )
    api = alice_client.get(f"/api/v1/projects/{project.pk}/events/")
    assert api.status_code == 503 and "event store" in api.json()["detail"]
    assert api["Retry-After"] == "30"
