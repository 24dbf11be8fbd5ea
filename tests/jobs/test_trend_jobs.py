"""Trends through a worker: the API queues the job, the worker computes it, the next request is cached."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.ingest.conftest import event


def test_a_trend_asked_asynchronously_is_computed_by_a_worker(worker, project, send, client, alice_api_key):
    assert send([event("$pageview", who, session_id=f"s-{who}") for who in "ab"]).json()["accepted"] == 2
    today = datetime.now(UTC).date().isoformat()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice_api_key}"}
    url = f"/api/v1/projects/{project.pk}/trends/?event=$pageview&date_from={today}&date_to={today}"
    queued = client.get(f"{url}&async=1", **auth)
    assert queued.status_code == 202
    done = client.get(f"{queued.json()['job']['url']}?wait=20", **auth).json()
    assert done["status"] == "done"
    assert done["result"]["total"] == 2 and done["result"]["total_persons"] == 2
    again = client.get(url, **auth)
    assert again.status_code == 200 and again.json()["cached"] is True
    assert again.json()["counts"] == done["result"]["counts"] == [2]
