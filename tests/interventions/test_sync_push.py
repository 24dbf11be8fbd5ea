"""A sync's entries and exits reach a real receiver in signed batches; the told state never skips or repeats."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from interventions import sync_push, syncs, webhooks
from interventions.models import SegmentSyncBatch, SegmentSyncMember, SegmentSyncRun
from interventions.webhooks import verify
from segments.services import segment_create
from tests.ingest.conftest import event
from tests.interventions.syncs_helpers import Receiver, enter, leave, people, static_segment

pytestmark = pytest.mark.django_db

PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


@pytest.fixture(autouse=True, params=[2, sync_push.WINDOW], ids=["small-windows", "default-window"])
def window(request, monkeypatch):
    """Each test also walks person ids two rows at a time: batches then span many windows."""
    monkeypatch.setattr(sync_push, "WINDOW", request.param)
    return request.param


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(), delay=0.0):
        made.append(Receiver(list(statuses), delay))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _sync(project, segment, url, **data):
    return syncs.sync_save(
        project=project,
        data={"segment": segment.pk, "daily_file": False, "webhook_url": url, **data},
    )


def _changes(server) -> list[tuple[str, int]]:
    return [(c["change"], c["person"]["id"]) for body in server.bodies for c in body["changes"]]


def test_entries_go_out_in_batches_of_the_configured_size_signed(project, receiver):
    server = receiver()
    segment = static_segment(project)
    members = people(project, 7)
    enter(segment, members)
    sync = _sync(project, segment, server.url, batch_size=3)

    run = sync_push.push_claimed(sync.pk)

    assert run.status == SegmentSyncRun.Status.OK and (run.rows, run.batches) == (7, 3)
    assert [b["batch"]["count"] for b in server.bodies] == [3, 3, 1]
    assert _changes(server) == [("entered", p.pk) for p in sorted(members, key=lambda p: p.pk)]
    for headers, body in server.received:
        assert verify(sync.secret, headers["Sightline-Signature"], body)
        assert headers["Sightline-Event"] == "segment.changes"
    first = server.bodies[0]
    assert first["segment"] == {"id": segment.pk, "name": segment.name}
    assert first["batch"]["id"] == SegmentSyncBatch.objects.order_by("pk").first().pk
    change = first["changes"][0]
    person = min(members, key=lambda p: p.pk)
    assert change["person"] == {"id": person.pk, "distinct_ids": ["p-0"], "properties": {"email": "p0@x.io"}}
    assert (
        change["at"] == SegmentSyncMember.objects.get(sync=sync, person_id=person.pk).entered_at.isoformat()
    )
    assert SegmentSyncMember.objects.filter(sync=sync).count() == 7
    sync.refresh_from_db()
    assert sync.last_pushed_at is not None and sync.push_failures == 0


def test_exits_and_new_entries_follow_with_their_times(project, receiver):
    server = receiver()
    segment = static_segment(project)
    members = people(project, 4)
    enter(segment, members)
    sync = _sync(project, segment, server.url)
    sync_push.push_claimed(sync.pk)
    left_at = timezone.now() - timedelta(seconds=30)
    leave(segment, members[:2], at=left_at)
    newcomer = people(project, 1, prefix="n")
    enter(segment, newcomer)

    sync_push.push_claimed(sync.pk)

    last = server.bodies[-1]["changes"]
    assert [(c["change"], c["person"]["id"]) for c in last] == [
        ("exited", members[0].pk), ("exited", members[1].pk), ("entered", newcomer[0].pk)
    ]  # fmt: skip
    assert last[0]["at"] == left_at.isoformat()
    assert set(SegmentSyncMember.objects.filter(sync=sync).values_list("person_id", flat=True)) == {
        members[2].pk, members[3].pk, newcomer[0].pk
    }  # fmt: skip


def test_after_a_failed_batch_the_next_pass_neither_skips_nor_repeats(project, receiver):
    server = receiver([200, 500])
    segment = static_segment(project)
    members = people(project, 8)
    enter(segment, members)
    sync = _sync(project, segment, server.url, batch_size=3)

    failed = sync_push.push_claimed(sync.pk)

    assert failed.status == SegmentSyncRun.Status.FAILED and (failed.rows, failed.batches) == (3, 2)
    assert failed.error == "HTTP 500"
    sync.refresh_from_db()
    assert sync.push_failures == 1 and sync.last_push_error == "HTTP 500"
    assert sync.next_push_at > timezone.now() and sync.pk not in sync_push.pushes_due()
    assert SegmentSyncMember.objects.filter(sync=sync).count() == 3

    with time_machine.travel(timezone.now() + timedelta(minutes=webhooks.BACKOFF_MINUTES[0], seconds=5)):
        assert sync.pk in sync_push.pushes_due()
        done = sync_push.push_claimed(sync.pk)

    assert done.status == SegmentSyncRun.Status.OK and done.rows == 5
    delivered = [
        (c["change"], c["person"]["id"])
        for body, status in zip(server.bodies, [200, 500, 200, 200], strict=True)
        if status == 200
        for c in body["changes"]
    ]
    assert delivered == [("entered", p.pk) for p in sorted(members, key=lambda p: p.pk)]
    assert [b["changes"] for b in server.bodies[1:2]] == [b["changes"] for b in server.bodies[2:3]]
    sync.refresh_from_db()
    assert sync.push_failures == 0 and sync.next_push_at is None and sync.last_push_error == ""
    logged = list(
        SegmentSyncBatch.objects.filter(sync=sync).order_by("pk").values_list("delivered", "status_code")
    )
    assert logged == [(True, 200), (False, 500), (True, 200), (True, 200)]


def test_nothing_moved_means_no_request_and_no_run(project, receiver):
    server = receiver()
    segment = static_segment(project)
    enter(segment, people(project, 2))
    sync = _sync(project, segment, server.url)
    sync_push.push_claimed(sync.pk)
    assert sync.pk not in sync_push.pushes_due()

    assert sync_push.push_claimed(sync.pk) is None
    assert len(server.received) == 1 and SegmentSyncRun.objects.filter(sync=sync).count() == 1


def test_without_current_members_only_later_changes_are_pushed(project, receiver):
    server = receiver()
    segment = static_segment(project)
    before = people(project, 3)
    enter(segment, before)
    sync = _sync(project, segment, server.url, push_current_members=False)
    assert sync_push.push_claimed(sync.pk) is None and server.received == []

    later = people(project, 1, prefix="l")
    enter(segment, later)
    leave(segment, before[:1])
    sync_push.push_claimed(sync.pk)

    assert _changes(server) == [("exited", before[0].pk), ("entered", later[0].pk)]


def test_a_dynamic_segments_first_computation_and_live_entries(project, send, on_commit, receiver):
    server = receiver()
    send([event("$identify", "ann", **{"$set": {"plan": "pro"}})])
    with on_commit():
        segment = segment_create(project=project, name="Pro", definition=PRO)
    sync = _sync(project, segment, server.url, push_current_members=False)
    sync_push.push_claimed(sync.pk)
    assert server.received == []  # ann was there when the sync started

    with on_commit():
        send(
            [
                event("$identify", "bea", **{"$set": {"plan": "pro"}}),
                event("$identify", "ann", **{"$set": {"plan": "free"}}),
            ]
        )
    sync_push.push_claimed(sync.pk)

    changes = server.bodies[-1]["changes"]
    assert [(c["change"], c["person"]["distinct_ids"]) for c in sorted(changes, key=lambda c: c["change"])] == [
        ("entered", ["bea"]), ("exited", ["ann"])
    ]  # fmt: skip


def test_a_person_merged_away_still_leaves(project, receiver):
    server = receiver()
    segment = static_segment(project)
    members = people(project, 2)
    enter(segment, members)
    sync = _sync(project, segment, server.url)
    sync_push.push_claimed(sync.pk)
    gone = members[0].pk
    members[0].delete()  # its periods go with it
    enter(segment, [])

    sync_push.push_claimed(sync.pk)

    (change,) = server.bodies[-1]["changes"]
    assert change["change"] == "exited" and change["person"] == {
        "id": gone, "distinct_ids": [], "properties": {}, "deleted": True
    }  # fmt: skip


def test_a_receiver_that_hangs_holds_up_only_its_own_sync(project, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.2)
    slow, fast = receiver(delay=2.0), receiver()
    segment = static_segment(project)
    enter(segment, people(project, 2))
    hung = _sync(project, segment, slow.url)
    fine = _sync(project, segment, fast.url)
    assert sync_push.pushes_due() == [hung.pk, fine.pk]

    assert sync_push.queue_pushes_due() == 2  # tasks run inline here: one after the other

    hung.refresh_from_db()
    assert hung.push_failures == 1 and "timed out" in hung.last_push_error
    assert len(fast.bodies) == 1 and fast.bodies[0]["batch"]["count"] == 2
    assert SegmentSyncMember.objects.filter(sync=hung).count() == 0


def test_changing_the_webhook_url_starts_the_push_afresh(project, receiver):
    first, second = receiver(), receiver()
    segment = static_segment(project)
    enter(segment, people(project, 2))
    sync = _sync(project, segment, first.url)
    sync_push.push_claimed(sync.pk)

    syncs.sync_save(project=project, data={"webhook_url": second.url}, sync=sync)
    sync_push.push_claimed(sync.pk)

    assert _changes(first) == _changes(second) and len(_changes(second)) == 2


def test_sparse_changes_across_the_id_range_arrive_together(project, receiver):
    server = receiver()
    segment = static_segment(project)
    members = people(project, 20)
    enter(segment, members)
    sync = _sync(project, segment, server.url, batch_size=10)
    sync_push.push_claimed(sync.pk)
    assert [b["batch"]["count"] for b in server.bodies] == [10, 10]
    leave(segment, [members[3], members[17]])
    newcomer = people(project, 1, prefix="n")
    enter(segment, newcomer)

    sync_push.push_claimed(sync.pk)

    assert len(server.bodies) == 3 and _changes(server)[20:] == [
        ("exited", members[3].pk), ("exited", members[17].pk), ("entered", newcomer[0].pk)
    ]  # fmt: skip


def test_a_change_keeps_its_id_when_it_is_sent_again(project, receiver):
    server = receiver([200, 500])
    segment = static_segment(project)
    members = people(project, 2)
    enter(segment, members)
    sync = _sync(project, segment, server.url)
    sync_push.push_claimed(sync.pk)
    leave(segment, members[:1])

    sync_push.push_claimed(sync.pk)  # answered 500
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        sync_push.push_claimed(sync.pk)

    failed, resent = server.bodies[1]["changes"], server.bodies[2]["changes"]
    assert failed == resent and failed[0]["change"] == "exited"
    entered = server.bodies[0]["changes"][0]
    assert failed[0]["id"].split("-")[2] == entered["id"].split("-")[2]  # the membership it closes
