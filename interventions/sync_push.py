"""A sync's entries and exits, pushed to its webhook in signed batches.

The sync keeps who the receiver has been told is in (SegmentSyncMember). A
pass compares that with the segment's open membership periods, in person id
order: a member the receiver does not have is an entry (at the period's
`entered_at`); someone the receiver has who is no longer a member is an exit
(at the latest `exited_at`, or the pass's time when the person is gone). The
changes go out `batch_size` at a time; only after a 2xx does the batch's
change reach SegmentSyncMember, in one transaction with its log row. So the
cursor — the told state — never skips a change, and never repeats one except
when the process dies between the receiver's 2xx and that commit
(at-least-once; each change carries an id to deduplicate on).

A failed batch stops the pass and waits 1, 5, 30, 120 minutes, then every 360
(the webhook backoff). Each sync's pass is its own task with the webhook's
short timeout, so a receiver that hangs holds up only its own sync.

What counts as the start: the members present when the push starts (the sync
is made, or given a webhook URL) are pushed as entries when
`push_current_members` is on, so the receiver's list mirrors the segment; when
off they are taken as known. A segment not computed yet starts at the end of
its first computation: its first members are never "entries" then.
Between two passes only net changes show: someone who enters and leaves
within a minute is not pushed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django_q.tasks import async_task

from interventions.models import SegmentSync, SegmentSyncBatch, SegmentSyncRun
from interventions.webhooks import backoff_minutes, post_signed
from tracking.dataversion import data_version
from tracking.models import Person
from tracking.models.versions import DataVersion

EVENT = "segment.changes"
# A pass stops sending after this long; the next minute's pass goes on where the told state is.
PASS_SECONDS = 45
LEASE = timedelta(minutes=3)

# Entries: open periods of people the receiver does not have. Relies on membership_open_unique
# (segment_id, person_id WHERE exited_at IS NULL) for the person order and syncmember_sync_person.
_ENTRIES = """
    SELECT m.person_id, m.entered_at FROM segments_segmentmembership m
    WHERE m.segment_id = %s AND m.exited_at IS NULL AND m.person_id > %s
      AND NOT EXISTS (SELECT 1 FROM interventions_segmentsyncmember s
                      WHERE s.sync_id = %s AND s.person_id = m.person_id)
    ORDER BY m.person_id LIMIT %s
"""
# Exits: people the receiver has without an open period; the time is their last period's end,
# found through the membership's person index.
_EXITS = """
    SELECT s.person_id, (SELECT max(m.exited_at) FROM segments_segmentmembership m
                         WHERE m.person_id = s.person_id AND m.segment_id = %s)
    FROM interventions_segmentsyncmember s
    WHERE s.sync_id = %s AND s.person_id > %s
      AND NOT EXISTS (SELECT 1 FROM segments_segmentmembership m
                      WHERE m.segment_id = %s AND m.person_id = s.person_id AND m.exited_at IS NULL)
    ORDER BY s.person_id LIMIT %s
"""


@dataclass(frozen=True)
class Change:
    person_id: int
    change: str  # "entered" | "exited"
    at: datetime

    @property
    def id(self) -> str:
        """Stable across resends of the same change: receivers can deduplicate on it."""
        return f"{self.change}-{self.person_id}-{int(self.at.timestamp() * 1_000_000)}"


def pending_changes(sync: SegmentSync, *, after: int, limit: int, now: datetime) -> list[Change]:
    """The next `limit` changes after person id `after`, in person id order."""
    with connection.cursor() as cursor:
        cursor.execute(_ENTRIES, [sync.segment_id, after, sync.pk, limit])
        entries = [Change(pid, "entered", at) for pid, at in cursor.fetchall()]
        cursor.execute(_EXITS, [sync.segment_id, sync.pk, after, sync.segment_id, limit])
        exits = [Change(pid, "exited", at or now) for pid, at in cursor.fetchall()]
    return sorted([*entries, *exits], key=lambda c: c.person_id)[:limit]


def _start(sync: SegmentSync, *, now: datetime) -> bool:
    """Begin following the segment once it has members to follow; False while its first computation is due."""
    if sync.segment.computed_at is None:
        return False
    with transaction.atomic():
        if not sync.push_current_members:
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO interventions_segmentsyncmember (project_id, sync_id, person_id, entered_at)"
                    " SELECT %s, %s, person_id, entered_at FROM segments_segmentmembership"
                    " WHERE segment_id = %s AND exited_at IS NULL ON CONFLICT DO NOTHING",
                    [sync.project_id, sync.pk, sync.segment_id],
                )
        sync.push_started_at = now
        SegmentSync.objects.filter(pk=sync.pk).update(push_started_at=now)
    return True


def _payload(sync: SegmentSync, batch: SegmentSyncBatch, changes: list[Change]) -> dict:
    persons = {
        p.pk: p
        for p in Person.objects.filter(
            project_id=sync.project_id, pk__in=[c.person_id for c in changes]
        ).prefetch_related("distinct_ids")
    }

    def person(pid: int) -> dict:
        found = persons.get(pid)
        if found is None:  # merged into another person or erased since
            return {"id": pid, "distinct_ids": [], "properties": {}, "deleted": True}
        ids = sorted((d.pk, d.distinct_id) for d in found.distinct_ids.all())
        return {"id": pid, "distinct_ids": [d for _, d in ids], "properties": found.properties}

    return {
        "event": EVENT,
        "sync": {"id": sync.pk},
        "segment": {"id": sync.segment_id, "name": sync.segment.name},
        "batch": {"id": batch.pk, "count": len(changes), "entered": batch.entered, "exited": batch.exited},
        "changes": [
            {"id": c.id, "change": c.change, "at": c.at.isoformat(), "person": person(c.person_id)}
            for c in changes
        ],
    }


def _record(sync: SegmentSync, changes: list[Change]) -> None:
    """The receiver has these changes now: entries join the told state, exits leave it."""
    entered = [c for c in changes if c.change == "entered"]
    exited = [c.person_id for c in changes if c.change == "exited"]
    with connection.cursor() as cursor:
        if entered:
            cursor.execute(
                "INSERT INTO interventions_segmentsyncmember (project_id, sync_id, person_id, entered_at)"
                " SELECT %s, %s, unnest(%s::bigint[]), unnest(%s::timestamptz[])"
                " ON CONFLICT (sync_id, person_id) DO UPDATE SET entered_at = EXCLUDED.entered_at",
                [sync.project_id, sync.pk, [c.person_id for c in entered], [c.at for c in entered]],
            )
        if exited:
            cursor.execute(
                "DELETE FROM interventions_segmentsyncmember WHERE sync_id = %s AND person_id = ANY(%s::bigint[])",
                [sync.pk, exited],
            )


def _send(sync: SegmentSync, run: SegmentSyncRun, changes: list[Change]) -> SegmentSyncBatch:
    entered = sum(c.change == "entered" for c in changes)
    batch = SegmentSyncBatch.objects.create(
        project_id=sync.project_id, sync=sync, run=run, entered=entered, exited=len(changes) - entered,
        first_person_id=changes[0].person_id, last_person_id=changes[-1].person_id, sent_at=timezone.now(),
    )  # fmt: skip
    body = json.dumps(_payload(sync, batch, changes), separators=(",", ":"), sort_keys=True).encode()
    status, error, duration_ms = post_signed(
        sync.webhook_url,
        secret=sync.secret,
        body=body,
        headers={"Sightline-Event": EVENT, "Sightline-Delivery": f"batch-{batch.pk}"},
    )
    batch.status_code, batch.duration_ms = status, duration_ms
    batch.delivered = status is not None and 200 <= status < 300
    batch.error = "" if batch.delivered else (error or f"HTTP {status}")
    with transaction.atomic():
        if batch.delivered:
            _record(sync, changes)
        batch.save(update_fields=["status_code", "duration_ms", "delivered", "error"])
    return batch


def sync_push(sync: SegmentSync, *, now: datetime | None = None) -> SegmentSyncRun | None:
    """One pass: push what changed since the receiver was last told, until done, a failure, or PASS_SECONDS.

    Returns the run, or None when there was nothing to push (no run is logged then).
    """
    now = now or timezone.now()
    if sync.push_started_at is None and not _start(sync, now=now):
        return None
    version = data_version(sync.project_id)[0]
    if sync.checked_version == version:
        return None  # membership has not moved since the last complete pass
    deadline = time.monotonic() + PASS_SECONDS
    run, position, complete, failed = None, 0, False, None
    while time.monotonic() < deadline:
        changes = pending_changes(sync, after=position, limit=sync.batch_size, now=now)
        if not changes:
            complete = True
            break
        if run is None:
            run = SegmentSyncRun.objects.create(
                project_id=sync.project_id, sync=sync, kind=SegmentSyncRun.Kind.PUSH, started_at=now
            )
        batch = _send(sync, run, changes)
        run.batches += 1
        if not batch.delivered:
            failed = batch
            break
        run.rows += len(changes)
        position = changes[-1].person_id
    updates: dict = {}
    if failed is not None:
        failures = sync.push_failures + 1
        updates = {"push_failures": failures, "last_push_error": failed.error[:500],
                   "next_push_at": timezone.now() + timedelta(minutes=backoff_minutes(failures))}  # fmt: skip
    else:
        updates = {"push_failures": 0, "last_push_error": "", "next_push_at": None}
        if complete:
            updates["checked_version"] = version
    if run is not None and run.rows:
        updates["last_pushed_at"] = timezone.now()
    SegmentSync.objects.filter(pk=sync.pk).update(**updates)
    for name, value in updates.items():
        setattr(sync, name, value)
    if run is not None:
        run.status = SegmentSyncRun.Status.FAILED if failed else SegmentSyncRun.Status.OK
        run.error = failed.error[:500] if failed else ""
        run.finished_at = timezone.now()
        run.save()
    return run


def push_claimed(sync_id: int) -> SegmentSyncRun | None:
    """Run a pass for the sync unless another is under way (a lease on the sync row)."""
    now = timezone.now()
    claimed = (
        SegmentSync.objects.filter(pk=sync_id, enabled=True)
        .exclude(webhook_url="")
        .filter(Q(push_lease_until__isnull=True) | Q(push_lease_until__lt=now))
        .update(push_lease_until=now + LEASE)
    )
    if not claimed:
        return None
    try:
        sync = SegmentSync.objects.select_related("project", "segment").get(pk=sync_id)
        return sync_push(sync)
    finally:
        SegmentSync.objects.filter(pk=sync_id).update(push_lease_until=None)


def pushes_due(*, now: datetime | None = None) -> list[int]:
    """Enabled syncs with a webhook, not waiting for a retry or running, whose segment may have moved."""
    now = now or timezone.now()
    version = Subquery(DataVersion.objects.filter(project_id=OuterRef("project_id")).values("version")[:1])
    return list(
        SegmentSync.objects.filter(enabled=True)
        .exclude(webhook_url="")
        .filter(Q(next_push_at__isnull=True) | Q(next_push_at__lte=now))
        .filter(Q(push_lease_until__isnull=True) | Q(push_lease_until__lt=now))
        .annotate(version=version)
        .filter(
            Q(push_started_at__isnull=True)
            | Q(checked_version__isnull=True)
            | Q(version__isnull=True)
            | ~Q(checked_version=F("version"))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def queue_pushes_due() -> int:
    """Queue one pass per due sync (run every minute)."""
    due = pushes_due()
    for sync_id in due:
        async_task("interventions.tasks.push_sync", sync_id, task_name=f"sync-push-{sync_id}")
    return len(due)
