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
from segments.selectors import last_exit_sql, open_members_sql
from tracking.dataversion import data_version
from tracking.models.versions import DataVersion

EVENT = "segment.changes"
# A pass stops sending after this long; the next minute's pass goes on where the told state is.
PASS_SECONDS = 45
LEASE = timedelta(minutes=3)

# A pass walks person ids in windows of at most WINDOW rows of either side (the open periods,
# the told state), so it reads each row about once however the changes are spread:
# a batch never rescans what the batches before it passed over.
WINDOW = 5000
# The segment's members come from segments.selectors (open_members_sql, last_exit_sql), as
# `{members}` and `{last_exit}` below; both sides are read in person id order, index only
# (membership_open_unique there, syncmember_sync_person here).
_MEMBERS_AHEAD = """
    SELECT person_id FROM ({members}) m WHERE person_id > %s
    ORDER BY person_id OFFSET %s LIMIT 1
"""
_TOLD_AHEAD = """
    SELECT person_id FROM interventions_segmentsyncmember
    WHERE sync_id = %s AND person_id > %s
    ORDER BY person_id OFFSET %s LIMIT 1
"""
# Both sides of each anti-join carry the window's bounds (redundant with the equality), so
# whatever join the planner picks — index probes or a hash of the other side — reads only
# the window, never the whole segment or told state.
# Entries: open periods of people the receiver does not have.
_ENTRIES = """
    SELECT m.person_id, m.entered_at FROM ({members}) m
    WHERE m.person_id > %s AND m.person_id <= %s
      AND NOT EXISTS (SELECT 1 FROM interventions_segmentsyncmember s
                      WHERE s.sync_id = %s AND s.person_id = m.person_id
                        AND s.person_id > %s AND s.person_id <= %s)
    ORDER BY m.person_id LIMIT %s
"""
# Exits: people the receiver has without an open period; the time is their last period's end,
# found through the membership's person index.
_EXITS = """
    SELECT s.person_id, {last_exit}, s.entered_at
    FROM interventions_segmentsyncmember s
    WHERE s.sync_id = %s AND s.person_id > %s AND s.person_id <= %s
      AND NOT EXISTS (SELECT 1 FROM ({members}) m
                      WHERE m.person_id = s.person_id AND m.person_id > %s AND m.person_id <= %s)
    ORDER BY s.person_id LIMIT %s
"""
# Without push_current_members, the members when the push starts count as told.
_TOLD_ALREADY = """
    INSERT INTO interventions_segmentsyncmember (project_id, sync_id, person_id, entered_at)
    SELECT %s, %s, m.person_id, m.entered_at FROM ({members}) m ON CONFLICT DO NOTHING
"""
LAST_ID = 2**63 - 1


@dataclass(frozen=True)
class Change:
    person_id: int
    change: str  # "entered" | "exited"
    at: datetime
    since: datetime  # when the membership this change opens or closes began

    @property
    def id(self) -> str:
        """Names the change by its person and membership: the same on every resend, to deduplicate on."""
        return f"{self.change}-{self.person_id}-{int(self.since.timestamp() * 1_000_000)}"


def _window_end(cursor, sync: SegmentSync, after: int) -> int:
    """The person id WINDOW rows past `after` on the nearer side; LAST_ID when both end sooner."""
    members, members_params = open_members_sql(segment_id=sync.segment_id)
    ends = []
    for statement, params in (
        (_MEMBERS_AHEAD.format(members=members), [*members_params, after, WINDOW]),
        (_TOLD_AHEAD, [sync.pk, after, WINDOW]),
    ):
        cursor.execute(statement, params)
        row = cursor.fetchone()
        if row is not None:
            ends.append(row[0])
    return min(ends, default=LAST_ID)


def pending_changes(sync: SegmentSync, *, after: int, limit: int, now: datetime) -> list[Change]:
    """The next `limit` changes after person id `after`, in person id order."""
    changes: list[Change] = []
    members, members_params = open_members_sql(segment_id=sync.segment_id)
    last_exit, last_exit_params = last_exit_sql(segment_id=sync.segment_id, person="s.person_id")
    entries_sql = _ENTRIES.format(members=members)
    exits_sql = _EXITS.format(members=members, last_exit=last_exit)
    with connection.cursor() as cursor:
        while len(changes) < limit and after < LAST_ID:
            end = _window_end(cursor, sync, after)
            wanted = limit - len(changes)
            cursor.execute(entries_sql, [*members_params, after, end, sync.pk, after, end, wanted])
            entries = [Change(pid, "entered", at, at) for pid, at in cursor.fetchall()]
            cursor.execute(
                exits_sql,
                [*last_exit_params, sync.pk, after, end, *members_params, after, end, wanted],
            )
            exits = [Change(pid, "exited", at or now, since) for pid, at, since in cursor.fetchall()]
            changes += sorted([*entries, *exits], key=lambda c: c.person_id)[:wanted]
            after = end
    return changes


def _start(sync: SegmentSync, *, now: datetime) -> bool:
    """Begin following the segment once it has members to follow; False while its first computation is due."""
    if sync.segment.computed_at is None:
        return False
    with transaction.atomic():
        if not sync.push_current_members:
            members, members_params = open_members_sql(segment_id=sync.segment_id)
            with connection.cursor() as cursor:
                cursor.execute(
                    _TOLD_ALREADY.format(members=members), [sync.project_id, sync.pk, *members_params]
                )
        sync.push_started_at = now
        SegmentSync.objects.filter(pk=sync.pk).update(push_started_at=now)
    return True


# The batch's persons with their distinct ids (oldest first), by primary key and the distinct
# ids' person index: one statement however large the batch.
_PERSONS = """
    SELECT p.id, p.properties,
           coalesce((SELECT array_agg(d.distinct_id ORDER BY d.id) FROM tracking_persondistinctid d
                     WHERE d.person_id = p.id), '{}')
    FROM tracking_person p WHERE p.project_id = %s AND p.id = ANY(%s::bigint[])
"""


def _payload(sync: SegmentSync, batch: SegmentSyncBatch, changes: list[Change]) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(_PERSONS, [sync.project_id, [c.person_id for c in changes]])
        persons = {
            # Django reads jsonb as text (its JSONField decodes it; a raw cursor does not)
            pid: {"id": pid, "distinct_ids": list(ids), "properties": json.loads(properties)}
            for pid, properties, ids in cursor.fetchall()
        }
    # merged into another person or erased since
    gone = {"distinct_ids": [], "properties": {}, "deleted": True}
    return {
        "event": EVENT,
        "sync": {"id": sync.pk},
        "segment": {"id": sync.segment_id, "name": sync.segment.name},
        "batch": {"id": batch.pk, "count": len(changes), "entered": batch.entered, "exited": batch.exited},
        "changes": [
            {"id": c.id, "change": c.change, "at": c.at.isoformat(),
             "person": persons.get(c.person_id) or {"id": c.person_id, **gone}}
            for c in changes
        ],
    }  # fmt: skip


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
