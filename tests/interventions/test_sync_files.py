"""A sync's daily file: exactly the segment's members, gzipped CSV in the configured storage, streamed."""

from __future__ import annotations

import csv
import gzip
import tracemalloc
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from interventions import sync_files, syncs
from interventions.models import SegmentSyncRun
from tests.interventions.syncs_helpers import enter, leave, members_in_bulk, people, static_segment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def _rows(path) -> list[dict]:
    with gzip.open(path, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_file_holds_exactly_the_segments_members(project, other_project, storage):
    segment = static_segment(project)
    stay, go = people(project, 3), people(project, 2, prefix="q")
    enter(segment, [*stay, *go])
    leave(segment, go)
    elsewhere = static_segment(other_project)
    enter(elsewhere, people(other_project, 2, prefix="o"))
    sync = syncs.sync_save(project=project, data={"segment": segment.pk, "daily_file": True})

    run = sync_files.sync_file_write(sync)

    assert run.status == SegmentSyncRun.Status.OK and run.rows == 3
    day = timezone.now().astimezone(project.zone).date()
    assert run.file_name == f"exports/{project.pk}/{segment.pk}/{day:%Y-%m-%d}.csv.gz"
    path = storage / run.file_name
    assert run.file_bytes == path.stat().st_size
    rows = _rows(path)
    assert [int(r["person_id"]) for r in rows] == sorted(p.pk for p in stay)
    assert {r["email"] for r in rows} == {"p0@x.io", "p1@x.io", "p2@x.io"}
    assert {r["distinct_ids"] for r in rows} == {"p-0", "p-1", "p-2"}
    sync.refresh_from_db()
    assert sync.last_file_at == run.started_at and sync.last_file_error == ""


def test_writing_again_the_same_day_replaces_the_days_file(project, storage):
    segment = static_segment(project)
    first = people(project, 2)
    enter(segment, first)
    sync = syncs.sync_save(project=project, data={"segment": segment.pk})
    one = sync_files.sync_file_write(sync)
    enter(segment, people(project, 1, prefix="n"))

    two = sync_files.sync_file_write(sync)

    assert two.file_name == one.file_name and len(_rows(storage / two.file_name)) == 3
    assert [r.pk for r in sync_files.sync_files(sync=sync)] == [two.pk]


@pytest.mark.vacuum_after("tracking_person", "segments_segmentmembership")
def test_two_hundred_thousand_members_are_written_in_constant_memory(project, storage):
    segment = static_segment(project)
    members_in_bulk(project, segment, 200_000)
    sync = syncs.sync_save(project=project, data={"segment": segment.pk})

    tracemalloc.start()
    try:
        run = sync_files.sync_file_write(sync)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert run.status == SegmentSyncRun.Status.OK and run.rows == 200_000
    with gzip.open(storage / run.file_name, "rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    assert lines == 200_000 + 1
    # the CSV is ~11 MB (1.5 MB peak measured): what writing holds at once is a few chunks
    assert peak < 8 * 1024 * 1024, peak


def test_a_sync_is_due_for_a_file_a_day_after_its_last(project):
    segment = static_segment(project)
    sync = syncs.sync_save(project=project, data={"segment": segment.pk})
    assert sync.pk in sync_files.files_due()
    sync_files.sync_file_write(sync)
    assert sync.pk not in sync_files.files_due()
    assert sync.pk not in sync_files.files_due(now=timezone.now() + timedelta(hours=23))
    assert sync.pk in sync_files.files_due(now=timezone.now() + timedelta(days=1, minutes=1))

    syncs.sync_save(project=project, data={"enabled": False}, sync=sync)
    assert sync.pk not in sync_files.files_due(now=timezone.now() + timedelta(days=2))


def test_a_failed_file_is_recorded_and_tried_again_an_hour_later(project, settings, storage):
    segment = static_segment(project)
    sync = syncs.sync_save(project=project, data={"segment": segment.pk})
    blocked = storage / "not-a-directory"
    blocked.write_text("")
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(blocked)}}}  # fmt: skip

    run = sync_files.sync_file_write(sync)

    assert run.status == SegmentSyncRun.Status.FAILED and "not-a-directory" in run.error
    sync.refresh_from_db()
    assert sync.last_file_at is None and sync.last_file_error == run.error
    assert sync.pk not in sync_files.files_due()
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert sync.pk in sync_files.files_due()


def test_a_run_cut_off_with_its_worker_is_marked_failed_at_the_next_check(project):
    from interventions.tasks import sync_files_due

    segment = static_segment(project)
    sync = syncs.sync_save(
        project=project,
        data={"segment": segment.pk, "daily_file": False, "webhook_url": "https://x.example/in"},
    )
    stuck = SegmentSyncRun.objects.create(
        project=project,
        sync=sync,
        kind=SegmentSyncRun.Kind.PUSH,
        started_at=timezone.now() - timedelta(minutes=61),
    )
    fresh = SegmentSyncRun.objects.create(
        project=project, sync=sync, kind=SegmentSyncRun.Kind.PUSH, started_at=timezone.now()
    )

    sync_files_due()

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == "failed" and "Interrupted" in stuck.error
    assert fresh.status == "running"
