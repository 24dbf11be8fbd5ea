"""Draining the ingest queue: one project's oldest items at a time, in large chunks, exactly once.

A chunk is one transaction: lock the project (an advisory lock, so a project's
items are stored in arrival order by one worker at a time), lock its oldest
items (`FOR UPDATE SKIP LOCKED`), store them through their kind's handler,
delete them, commit. A worker killed mid-chunk rolls the whole chunk back: the
items are still queued and nothing of them was stored, so the next worker
stores them once. Event uuids make a client's retry idempotent on top.

An item that fails for a reason other than the database (a bug, data the
checks let through) would block its project forever; the chunk is then
stored item by item, and the failing item is dead-lettered (IngestRejection)
and removed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from tracking.dataversion import data_changed
from tracking.ingest.queue import QueuedItem, handler_for
from tracking.models import IngestRejection, Project
from web.outage import StorageUnavailable

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 7303  # pg_advisory_xact_lock(namespace, project id); segments.refresh uses 7302
CANDIDATES = 32  # projects looked at per chunk when the first ones are being drained by other workers
STATS_KEEP_SECONDS = 3600


class DrainLater(Exception):
    """A handler cannot store its items right now (storage unavailable): keep them queued, retry later."""


@dataclass(frozen=True)
class Drained:
    project_id: int
    items: int
    events: int
    oldest_received_at: datetime
    item_ids: tuple[int, ...]


def _lock_project(cursor, project_id: int | None, *, wait: bool) -> int | None:
    if project_id is not None:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, project_id])
            return project_id
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, project_id])
        return project_id if cursor.fetchone()[0] else None
    # The projects waiting longest first; relies on ingestqueue_project_id (project_id, id).
    cursor.execute(
        "SELECT project_id FROM tracking_ingestqueueitem GROUP BY project_id ORDER BY min(id) LIMIT %s",
        [CANDIDATES],
    )
    for (candidate,) in cursor.fetchall():
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, candidate])
        if cursor.fetchone()[0]:
            return candidate
    return None


def _claim(cursor, project_id: int, *, max_events: int, max_items: int) -> list[QueuedItem]:
    """Lock the project's oldest items, up to `max_events` events (at least one item)."""
    # relies on ingestqueue_project_id (project_id, id)
    cursor.execute(
        "SELECT id, events FROM tracking_ingestqueueitem WHERE project_id = %s ORDER BY id LIMIT %s",
        [project_id, max_items],
    )
    rows = cursor.fetchall()
    if not rows:
        return []
    last, total = rows[0][0], 0
    for item_id, events in rows:
        if total and total + events > max_events:
            break
        last, total = item_id, total + events
    cursor.execute(
        "SELECT id, kind, received_at, events, payload FROM tracking_ingestqueueitem"
        " WHERE project_id = %s AND id <= %s ORDER BY id FOR UPDATE SKIP LOCKED",
        [project_id, last],
    )
    return [QueuedItem(i, kind, at, n, bytes(payload)) for i, kind, at, n, payload in cursor.fetchall()]


def _dead_letter(project: Project, item: QueuedItem, error: Exception) -> None:
    log.exception("ingest queue item %s (%s) could not be stored; dead-lettered", item.id, item.kind)
    IngestRejection.objects.create(
        project=project,
        endpoint=item.kind[:32],
        reason=f"could not be stored: {type(error).__name__}: {error}"[:500],
        payload=item.payload[:2000].decode("utf-8", "replace").replace("\x00", ""),
    )


def _store(project: Project, items: list[QueuedItem]) -> None:
    """Hand consecutive items of one kind to that kind's handler, in arrival order."""
    for kind, run in groupby(items, key=lambda item: item.kind):
        handler = handler_for(kind)
        if handler is None:
            raise LookupError(f"no drain handler for {kind!r}")
        handler(project, list(run))


def _store_or_dead_letter(project: Project, items: list[QueuedItem]) -> None:
    try:
        with transaction.atomic():
            _store(project, items)
        return
    except StorageUnavailable as error:
        raise DrainLater(str(error)) from error  # the event store is away: the whole chunk waits
    except (DrainLater, OperationalError, InterfaceError):
        raise  # the database or storage is away: the whole chunk waits
    except Exception as error:
        if len(items) == 1:
            _dead_letter(project, items[0], error)
            return
        log.warning("a chunk of project %s failed (%s); storing it item by item", project.pk, error)
    for item in items:
        try:
            with transaction.atomic():
                _store(project, [item])
        except StorageUnavailable as error:
            raise DrainLater(str(error)) from error
        except (DrainLater, OperationalError, InterfaceError):
            raise
        except Exception as error:
            _dead_letter(project, item, error)


def queue_drain_chunk(
    *,
    project_id: int | None = None,
    max_events: int | None = None,
    max_items: int | None = None,
    wait: bool = False,
) -> Drained | None:
    """Store and delete one chunk of one project's oldest items; None when there was nothing to take.

    Without `project_id`, the project waiting longest that no other worker holds.
    With `wait`, wait for the project's lock instead of giving up.
    """
    max_events = max_events or settings.INGEST_DRAIN_CHUNK_EVENTS
    max_items = max_items or settings.INGEST_DRAIN_CHUNK_ITEMS
    with transaction.atomic(), connection.cursor() as cursor:
        locked = _lock_project(cursor, project_id, wait=wait)
        if locked is None:
            return None
        items = _claim(cursor, locked, max_events=max_events, max_items=max_items)
        if not items:
            return None
        project = Project.objects.filter(pk=locked).first()
        if project is not None:  # a deleted project's items go with it
            _store_or_dead_letter(project, items)
        ids = [item.id for item in items]
        cursor.execute("DELETE FROM tracking_ingestqueueitem WHERE id = ANY(%s)", [ids])
        drained = Drained(
            project_id=locked,
            items=len(items),
            events=sum(item.events for item in items),
            oldest_received_at=min(item.received_at for item in items),
            item_ids=tuple(ids),
        )
        if project is not None:
            data_changed(locked)
            cursor.execute(
                "INSERT INTO tracking_ingestdrained (project_id, drained_at, events, items, oldest_received_at)"
                " VALUES (%s, clock_timestamp(), %s, %s, %s)",
                [locked, drained.events, drained.items, drained.oldest_received_at],
            )
    return drained


def queue_drain_project(*, project_id: int) -> int:
    """Drain everything queued for one project now (INGEST_DRAIN_INLINE); returns the events stored.

    Waits for a worker holding the project. A failure is logged, not raised: the
    request was acknowledged and its items stay queued for the next drain.
    """
    total = 0
    try:
        while (drained := queue_drain_chunk(project_id=project_id, wait=True)) is not None:
            total += drained.events
    except (DatabaseError, DrainLater):
        log.exception("draining project %s inline failed; its items stay queued", project_id)
    return total


def queue_drain_all() -> int:
    """Drain until the queue is empty (management command `--until-empty`, tests, benchmarks)."""
    total = 0
    while (drained := queue_drain_chunk()) is not None:
        total += drained.events
    return total


def drained_stats_prune(*, now: datetime | None = None) -> None:
    """Forget drain figures older than an hour (only the last minute is reported)."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tracking_ingestdrained WHERE drained_at < %s",
            [now - timedelta(seconds=STATS_KEEP_SECONDS)],
        )


def queue_work(
    *,
    should_stop: Callable[[], bool],
    idle_seconds: float = 0.1,
    until_empty: bool = False,
    on_chunk: Callable[[Drained], None] | None = None,
) -> int:
    """The worker's loop: drain chunks until told to stop; returns the events stored.

    An unreachable database is waited out (the items stay queued); a chunk is
    finished before a stop is honoured.
    """
    total, pruned, backoff = 0, 0.0, 0.5
    while not should_stop():
        try:
            drained = queue_drain_chunk()
            backoff = 0.5
        except (OperationalError, InterfaceError, DrainLater) as error:
            log.warning("ingest drain waits: %s", error)
            connection.close()  # reconnect on the next try
            time.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
            continue
        if drained is not None:
            total += drained.events
            if on_chunk:
                on_chunk(drained)
            continue
        if until_empty:
            break
        if time.monotonic() - pruned > 60:
            pruned = time.monotonic()
            try:
                drained_stats_prune()
            except DatabaseError:
                log.warning("could not prune drain figures", exc_info=True)
        time.sleep(idle_seconds)
    return total
