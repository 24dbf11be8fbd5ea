"""`manage.py ingest_worker` as a real process: it drains what was acknowledged, and survives being killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.hardening.servers import production_env
from tracking.ingest.drain import LOCK_NAMESPACE, queue_drain_all
from tracking.ingest.pipeline import RequestFacts
from tracking.ingest.queue import batch_enqueue, pressure_forget
from tracking.models import Event, IngestQueueItem

ROOT = Path(__file__).resolve().parent.parent.parent
BATCHES = 150
PER_BATCH = 100


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    auth = f"{user}:{quote(db['PASSWORD'])}@" if db["PASSWORD"] else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db["PORT"] and not db["HOST"].startswith("/") else ""
    if db["HOST"].startswith("/"):
        return f"postgresql://{auth}/{db['NAME']}?host={quote(db['HOST'])}"
    return f"postgresql://{auth}{db['HOST']}{port}/{db['NAME']}"


def _worker(chunk_events: int) -> subprocess.Popen:
    env = production_env(_database_url())
    env["INGEST_DRAIN_CHUNK_EVENTS"] = str(chunk_events)
    return subprocess.Popen(
        [sys.executable, "manage.py", "ingest_worker", "--verbosity", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _queue(project, settings) -> list[str]:
    settings.INGEST_DRAIN_INLINE = False
    pressure_forget()
    sent = []
    facts = RequestFacts(user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0", ip="203.0.113.9")
    for b in range(BATCHES):
        batch = [
            {"uuid": str(uuid.uuid4()), "event": "work", "distinct_id": f"d{(b * PER_BATCH + i) % 37}",
             "session_id": f"s{b % 11}", "timestamp": datetime.now(UTC).isoformat(), "properties": {"b": b, "i": i}}
            for i in range(PER_BATCH)
        ]  # fmt: skip
        assert batch_enqueue(project=project, batch=batch, sent_at=None, facts=facts).accepted == PER_BATCH
        sent.extend(e["uuid"] for e in batch)
    return sent


def _draining(project) -> bool:
    """Whether a worker is in the middle of a chunk of the project: it holds the project's advisory lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 2"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            [LOCK_NAMESPACE, project.pk],
        )
        return cursor.fetchone()[0]


def _stored() -> list[str]:
    return [str(u) for u in Event.objects.filter(name="work").values_list("uuid", flat=True)]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_chunk_loses_nothing_and_doubles_nothing(project, settings):
    sent = _queue(project, settings)
    worker = _worker(chunk_events=2000)
    try:
        # Wait until at least one chunk is stored and the next one is in hand, then kill -9.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(worker.stderr.read().decode()[-2000:])
            if Event.objects.filter(name="work").exists() and _draining(project):
                break
            time.sleep(0.01)
        else:
            pytest.fail("the worker never got to a second chunk")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()

    stored = _stored()
    assert 0 < len(stored) < len(sent), "killed between the first and the last chunk"
    assert len(stored) == len(set(stored)), "an event was stored twice"
    # What is stored and what is still queued are exactly what was acknowledged.
    queued = sum(IngestQueueItem.objects.values_list("events", flat=True))
    assert len(stored) + queued == len(sent)

    queue_drain_all()

    stored = _stored()
    assert len(stored) == len(set(stored)) == len(sent)
    assert set(stored) == set(sent)


@pytest.mark.django_db(transaction=True)
def test_a_worker_stops_after_the_chunk_in_hand_on_sigterm(project, settings):
    sent = _queue(project, settings)
    worker = _worker(chunk_events=5000)
    deadline = time.monotonic() + 120
    while not _draining(project) and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.send_signal(signal.SIGTERM)
    _out, err = worker.communicate(timeout=120)

    assert worker.returncode == 0, err.decode()[-2000:]
    stored = _stored()
    assert len(stored) == len(set(stored))
    assert len(stored) % 5000 == 0 or len(stored) == len(sent), "only whole chunks are stored"
    assert len(stored) + sum(IngestQueueItem.objects.values_list("events", flat=True)) == len(sent)
