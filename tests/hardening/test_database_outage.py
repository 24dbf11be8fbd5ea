"""The database stops in the middle of ingestion: clients get 503, retry, and nothing is lost or doubled.

The web answers once a batch is appended to the ingest queue; an ingest worker,
running through the outage, stores what was acknowledged once the database is back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from tests.hardening.servers import ROOT, Gunicorn, production_env

BATCHES = 60
PER_BATCH = 20


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0  # no answer at all: the client retries too


@pytest.fixture(scope="module", params=["config.settings", "config.settings_ingest"])
def world(request, migrated_postgres):
    """The whole product serving ingestion, then the ingestion lane, which skips connection health checks."""
    pg, key = migrated_postgres.pg, migrated_postgres.public_key
    database_url = migrated_postgres.database("outage_" + request.param.replace(".", "_"))
    env = production_env(database_url)
    server = Gunicorn({**env, "DJANGO_SETTINGS_MODULE": request.param}, ready_path="/health/ingest")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "ingest_worker"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL
    )
    yield pg, server, key, database_url
    worker.terminate()
    worker.wait(timeout=30)
    server.stop()


def test_no_event_is_lost_or_doubled_across_a_database_outage(world):
    pg, server, key, database_url = world
    sent: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def client(start: int) -> None:
        for b in range(start, BATCHES, 2):
            events = []
            for i in range(PER_BATCH):
                event_id = str(uuid.uuid4())
                events.append({"uuid": event_id, "event": "fault_test", "distinct_id": f"d{b % 7}",
                               "timestamp": datetime.now(UTC).isoformat(), "properties": {"batch": b, "i": i}})  # fmt: skip
            body = json.dumps({"api_key": key, "batch": events}).encode()
            while True:  # what the snippet does: retry 5xx and network errors with backoff
                status = _post(server.url + "/i/v1/batch", body)
                with lock:
                    statuses.append(status)
                if status == 200:
                    break
                assert status in (0, 503), f"unexpected status {status}"
                time.sleep(0.3)
            with lock:
                sent.extend(e["uuid"] for e in events)
            time.sleep(0.05)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.8)
    pg.stop()  # mid-ingest: open transactions are cut off
    time.sleep(3)
    pg.restart()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)

    assert 503 in statuses, "the outage was never seen by a client"
    assert 500 not in statuses
    deadline = time.monotonic() + 120
    with psycopg.connect(database_url, autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM tracking_ingestqueueitem").fetchone()[0]:
            assert time.monotonic() < deadline, "the worker did not catch up after the outage"
            time.sleep(0.2)
    with psycopg.connect(database_url) as conn:
        stored = [
            row[0] for row in conn.execute("SELECT uuid::text FROM tracking_event WHERE name = 'fault_test'")
        ]
    assert len(stored) == len(set(stored)), "an event was stored twice"
    assert set(stored) == set(sent), f"{len(set(sent) - set(stored))} events lost"
    assert len(sent) == BATCHES * PER_BATCH
