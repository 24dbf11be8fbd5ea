"""Live refresh: incremental equals full, windows expire, entries and exits are recorded and signalled.

The tests that read events run with events in PostgreSQL and in ClickHouse.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from segments.models import RefreshState, Segment, SegmentMembership, SegmentSizeSnapshot
from segments.refresh import refresh_project, refresh_time_windows
from segments.services import segment_compute, segment_create
from segments.signals import membership_changed
from tests.ingest.conftest import event
from tracking.models import PersonTouch

pytestmark = pytest.mark.django_db

ACTIVE = {
    "match": "all",
    "conditions": [
        {
            "type": "behavior",
            "event": {"name": "$pageview"},
            "count": {"operator": "gte", "value": 2},
            "window": {"last_days": 7},
        }
    ],
}


def _members(segment) -> set[str]:
    return set(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
            "person__distinct_ids__distinct_id", flat=True
        )
    )


@pytest.fixture
def signals():
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    membership_changed.connect(receiver)
    yield received
    membership_changed.disconnect(receiver)


def test_a_new_event_moves_a_person_in_without_a_manual_refresh(
    events_backend, send, project, on_commit, signals
):
    with on_commit():
        segment = segment_create(project=project, name="Active", definition=ACTIVE)
    send([event(distinct_id="a")])
    assert _members(segment) == set()
    with on_commit():  # the batch's commit queues the refresh, which runs inline in tests
        send([event(distinct_id="a")])
    assert _members(segment) == {"a"}
    assert signals[-1]["entered"] and signals[-1]["segment_id"] == segment.pk and not signals[-1]["initial"]
    assert not PersonTouch.objects.filter(project=project).exists()
    assert RefreshState.objects.get(project=project).pending is False


def test_incremental_refresh_equals_a_full_recomputation(events_backend, send, project, on_commit):
    t = datetime.now(UTC)
    with on_commit():
        segment = segment_create(project=project, name="Active", definition=ACTIVE)
    batches = [
        [
            event(distinct_id=f"u{i % 7}", timestamp=(t - timedelta(days=i % 10, minutes=i)).isoformat())
            for i in range(j, j + 9)
        ]
        for j in range(0, 45, 9)
    ]
    for batch in batches:
        with on_commit():
            send(batch)
    incremental = _members(segment)
    segment_compute(segment=segment)
    assert _members(segment) == incremental
    assert SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).count() == len(
        incremental
    )


def test_an_identify_merge_counts_the_anonymous_events_for_the_identified_person(
    events_backend, send, project, on_commit
):
    with on_commit():
        segment = segment_create(project=project, name="Active", definition=ACTIVE)
    with on_commit():
        send([event(distinct_id="anon-9")])
    with on_commit():
        send([event(distinct_id="ann@example.com")])
    assert _members(segment) == set()
    with on_commit():
        send([event("$identify", "ann@example.com", **{"$anon_distinct_id": "anon-9"})])
    assert "ann@example.com" in _members(segment)
    incremental = _members(segment)
    segment_compute(segment=segment)
    assert _members(segment) == incremental


def test_a_window_expires_without_new_events(events_backend, send, project, on_commit, settings):
    settings.SEGMENT_TIME_REFRESH_SECONDS = 10
    start = datetime.now(UTC)
    send([event(distinct_id="a"), event(distinct_id="a")])
    with on_commit():
        segment = segment_create(project=project, name="Active", definition=ACTIVE)
    assert _members(segment) == {"a"}
    with time_machine.travel(start + timedelta(days=8), tick=False), on_commit():
        assert refresh_time_windows() == 1
    assert _members(segment) == set()
    closed = SegmentMembership.objects.get(segment=segment)
    assert closed.exited_at >= start + timedelta(days=8)


def test_the_periodic_pass_leaves_timeless_segments_alone(project, on_commit, settings):
    settings.SEGMENT_TIME_REFRESH_SECONDS = 10
    with on_commit():
        segment_create(
            project=project,
            name="Pro",
            definition={
                "match": "all",
                "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
            },
        )
    with time_machine.travel(datetime.now(UTC) + timedelta(days=1)):
        assert refresh_time_windows() == 0


def test_a_worker_that_dies_mid_refresh_loses_nothing(events_backend, send, project, on_commit, monkeypatch):
    with on_commit():
        segment = segment_create(project=project, name="Active", definition=ACTIVE)
    send([event(distinct_id="a"), event(distinct_id="a")])  # touches recorded; no refresh ran
    import segments.services as services

    def crash(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "segments_refresh_persons", crash)
    with pytest.raises(RuntimeError):
        refresh_project(project.pk)
    assert PersonTouch.objects.filter(project=project).count() == 1  # rolled back with the failed run
    monkeypatch.undo()
    refresh_project(project.pk)
    assert _members(segment) == {"a"}


def test_size_snapshots_record_entries_and_exits(events_backend, send, project, on_commit):
    send([event(distinct_id="a"), event(distinct_id="a"), event(distinct_id="b"), event(distinct_id="b")])
    with on_commit():
        segment = segment_create(project=project, name="Active", definition=ACTIVE)
    snapshot = SegmentSizeSnapshot.objects.get(segment=segment)
    assert (snapshot.size, snapshot.entered, snapshot.exited) == (2, 2, 0)
    segment.definition = {
        "match": "all",
        "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "none"}],
    }
    segment.save()
    segment_compute(segment=segment)
    snapshot.refresh_from_db()
    assert (snapshot.size, snapshot.entered, snapshot.exited) == (0, 2, 2)
    assert Segment.objects.get(pk=segment.pk).size == 0


def test_the_daily_rollup_follows_ingestion_merges_and_time_zone_changes(
    send, project, alice_client, on_commit
):
    from tracking.ingest.rollup import person_days_rebuild
    from tracking.models import PersonDay

    t = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    send(
        [
            event(distinct_id="anon", timestamp=t.isoformat()),
            event(distinct_id="anon", timestamp=(t + timedelta(hours=1)).isoformat()),
        ]
    )
    send([event(distinct_id="user", timestamp=(t + timedelta(days=2)).isoformat())])
    assert sorted(PersonDay.objects.values_list("day", "events")) == [
        (datetime(2026, 11, 20).date(), 1), (datetime(2026, 11, 21).date(), 1), (datetime(2026, 11, 22).date(), 1),
    ]  # fmt: skip
    send(
        [
            event(
                "$identify",
                "user",
                timestamp=(t + timedelta(days=2)).isoformat(),
                **{"$anon_distinct_id": "anon"},
            )
        ]
    )
    assert PersonDay.objects.values("person_id").distinct().count() == 1
    assert sum(PersonDay.objects.values_list("events", flat=True)) == 4
    before = sorted(PersonDay.objects.values_list("day", "events"))
    person_days_rebuild(project.pk)
    assert (
        sorted(PersonDay.objects.values_list("day", "events")) == before
    )  # kept exactly as a rebuild makes it
    project.timezone = "Asia/Tokyo"
    project.save()
    person_days_rebuild(project.pk)
    # 23:30 and 00:30 UTC on the 20th/21st are both the 21st in Tokyo
    assert (datetime(2026, 11, 21).date(), 2) in PersonDay.objects.values_list("day", "events")
