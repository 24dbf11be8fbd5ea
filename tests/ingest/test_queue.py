"""The ingest queue without the inline drain: a request is acknowledged once appended, a drain stores it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.ingest.conftest import event
from tracking.ingest.drain import LOCK_NAMESPACE, queue_drain_all, queue_drain_chunk
from tracking.ingest.queue import _handlers, handler_register, pressure_forget
from tracking.models import (
    Event,
    IngestDrained,
    IngestQueueItem,
    IngestRejection,
    IngestSource,
    Person,
    PersonDistinctId,
    Session,
)


@pytest.fixture
def queued(settings):
    """Requests are appended and acknowledged; nothing drains until the test says so."""
    settings.INGEST_DRAIN_INLINE = False
    pressure_forget()


@pytest.fixture
def probe():
    """A drain handler of a test-only kind that records what it was given."""
    seen: list[tuple[int, list[int]]] = []
    gate = {"delay": 0.0, "fail_on": None}

    def handler(project, items):
        for item in items:
            if gate["fail_on"] is not None and item.payload == gate["fail_on"]:
                raise ValueError("this item cannot be stored")
        seen.append((project.pk, [item.id for item in items]))
        time.sleep(gate["delay"])

    handler_register("probe", handler)
    yield seen, gate
    _handlers.pop("probe", None)


def _enqueue(project, n: int, *, kind: str = "probe", events: int = 1, payload: bytes = b"x") -> list[int]:
    now = timezone.now()
    items = IngestQueueItem.objects.bulk_create(
        IngestQueueItem(project=project, kind=kind, received_at=now, events=events, payload=payload)
        for _ in range(n)
    )
    return [item.pk for item in items]


@pytest.mark.django_db
def test_a_batch_is_acknowledged_once_appended_and_stored_by_the_drain(send, project, queued):
    response = send([event(), event("signed_up", plan="pro"), {"event": 1}])

    assert response.status_code == 200
    assert response.json()["accepted"] == 2
    assert [r["index"] for r in response.json()["rejected"]] == [2]
    assert IngestQueueItem.objects.filter(project=project, kind="batch", events=2).count() == 1
    assert not Event.objects.exists() and not IngestRejection.objects.exists()

    assert queue_drain_all() == 2

    assert sorted(Event.objects.values_list("name", flat=True)) == ["$pageview", "signed_up"]
    assert IngestRejection.objects.get().index == 2, "the malformed event ends in a dead letter"
    assert Session.objects.get().browser == "Chrome"
    assert IngestSource.objects.get(project=project).event_count == 2
    assert not IngestQueueItem.objects.exists(), "a drained item is deleted"
    assert IngestDrained.objects.get().events == 2


@pytest.mark.django_db
def test_the_same_batch_sent_twice_is_stored_once(send, project, queued):
    batch = [event(), event("clicked")]
    assert send(batch).json()["accepted"] == 2
    assert send(batch).json()["accepted"] == 2
    queue_drain_all()
    assert send(batch, gzip_body=True).json()["accepted"] == 2  # again, after the first was stored
    queue_drain_all()

    assert Event.objects.filter(project=project).count() == 2
    assert Session.objects.get().event_count == 2


@pytest.mark.parametrize("chunk_events", [1, 5000], ids=["a chunk per batch", "one chunk"])
@pytest.mark.django_db
def test_an_identify_and_the_events_after_it_keep_their_order(send, project, queued, settings, chunk_events):
    settings.INGEST_DRAIN_CHUNK_EVENTS = chunk_events
    send([event("$pageview", "anon-7"), event("viewed_pricing", "anon-7")])
    send([event("$identify", "user@acme.test", **{"$anon_distinct_id": "anon-7", "$set": {"plan": "pro"}})])
    send([event("upgraded", "user@acme.test"), event("$pageview", "anon-7")])

    queue_drain_all()

    person = Person.objects.get(project=project)
    assert person.is_identified and person.properties["plan"] == "pro"
    assert set(PersonDistinctId.objects.values_list("distinct_id", flat=True)) == {"anon-7", "user@acme.test"}
    assert set(Event.objects.values_list("person_id", flat=True)) == {person.pk}
    assert Event.objects.count() == 5


@pytest.mark.django_db
def test_a_project_is_drained_in_arrival_order_in_chunks(project, probe, settings):
    seen, _ = probe
    ids = _enqueue(project, 7, events=10)
    settings.INGEST_DRAIN_CHUNK_EVENTS = 30

    while queue_drain_chunk() is not None:
        pass

    assert [chunk for _, chunk in seen] == [ids[0:3], ids[3:6], ids[6:7]]


@pytest.mark.django_db
def test_an_item_that_cannot_be_stored_is_dead_lettered_without_blocking_its_project(project, probe):
    seen, gate = probe
    good = _enqueue(project, 2, payload=b"fine")
    bad = _enqueue(project, 1, payload=b"poison")
    later = _enqueue(project, 1, payload=b"fine")
    gate["fail_on"] = b"poison"

    queue_drain_all()

    stored = [i for _, chunk in seen for i in chunk]
    assert stored == [*good, *later]
    dead = IngestRejection.objects.get(project=project)
    assert dead.endpoint == "probe" and "cannot be stored" in dead.reason and dead.payload == "poison"
    assert not IngestQueueItem.objects.filter(pk__in=bad).exists()


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_take_disjoint_chunks(project, other_project, probe):
    seen, gate = probe
    mine, theirs = _enqueue(project, 5), _enqueue(other_project, 5)
    gate["delay"] = 1.0  # both chunks are in progress at the same time
    results = []

    def drain():
        try:
            results.append(queue_drain_chunk())
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    chunks = sorted((set(r.item_ids) for r in results), key=min)
    assert chunks == [set(mine), set(theirs)]
    assert sorted(p for p, _ in seen) == sorted([project.pk, other_project.pk])
    assert not IngestQueueItem.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_second_drain_never_takes_a_project_another_drain_holds(project, probe):
    seen, gate = probe
    ids = _enqueue(project, 4)
    gate["delay"] = 1.0
    first: list = []
    worker = threading.Thread(target=lambda: (first.append(queue_drain_chunk()), connection.close()))
    worker.start()
    deadline = time.monotonic() + 10
    while not _locked_rows() and time.monotonic() < deadline:
        time.sleep(0.02)

    assert queue_drain_chunk() is None, "the project's items are being drained"
    worker.join()
    assert set(first[0].item_ids) == set(ids) and len(seen) == 1


def _locked_rows() -> int:
    with connection.cursor() as cursor:
        # pg_locks lists the whole server's locks: only this test database's count
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [LOCK_NAMESPACE],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_full_queue_answers_429_with_retry_after_and_appends_nothing(send, project, queued, settings):
    settings.INGEST_QUEUE_MAX_EVENTS = 3
    settings.INGEST_RETRY_AFTER_SECONDS = 7
    assert send([event(), event(), event()]).status_code == 200
    pressure_forget()

    refused = send([event()])

    assert refused.status_code == 429
    assert refused["Retry-After"] == "7"
    assert refused.json()["error"] == "busy"
    assert IngestQueueItem.objects.count() == 1
    queue_drain_all()
    pressure_forget()
    assert send([event()]).status_code == 200, "accepted again once drained"


@pytest.mark.django_db
def test_a_queue_whose_oldest_item_is_too_old_answers_429(send, project, queued, settings, probe):
    settings.INGEST_QUEUE_MAX_AGE_SECONDS = 60
    IngestQueueItem.objects.create(
        project=project,
        kind="probe",
        received_at=timezone.now() - timedelta(seconds=90),
        events=1,
        payload=b"",
    )

    refused = send([event()])

    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "oldest" in refused.json()["detail"]


@pytest.mark.django_db
def test_the_inline_drain_stores_the_batch_before_the_answer(send, project):
    # The setting tests and single-process runs use: the append happens first all the same.
    assert send([event()]).status_code == 200
    assert Event.objects.count() == 1
    assert not IngestQueueItem.objects.exists()
    assert IngestDrained.objects.get().items == 1
