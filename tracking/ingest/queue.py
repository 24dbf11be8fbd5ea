"""The durable ingest queue: acknowledge a request once its checked payload is appended, store it later.

Every ingestion endpoint checks its request without the database, then calls
`queue_append` (events through `batch_enqueue`): one INSERT, committed before the
answer, so an acknowledged request survives any crash after it. Workers
(`manage.py ingest_worker`, tracking.ingest.drain) store the queue's items in
large chunks. Each kind of item has a handler registered with `handler_register`;
replay registers the recordings' one, so tracking never imports it.

Backpressure: when the queue holds more events than INGEST_QUEUE_MAX_EVENTS, or
its oldest item is older than INGEST_QUEUE_MAX_AGE_SECONDS, `queue_append` raises
QueueFull and the endpoint answers 429 with Retry-After. A queue that cannot be
written (the database is down) raises OperationalError: the endpoint answers 503.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from tracking.ingest.batches import batch_encode
from tracking.ingest.pipeline import BatchResult, RequestFacts, batch_check
from tracking.models import Project

log = logging.getLogger(__name__)

KIND_BATCH = "batch"


class QueueFull(Exception):
    """The queue is past its depth or age limit: the client should retry after `retry_after` seconds."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class QueuedItem:
    """One item as a drain handler receives it."""

    id: int
    kind: str
    received_at: datetime
    events: int
    payload: bytes


# kind -> handler(project, items), called inside the drain's chunk transaction.
Handler = Callable[[Project, list[QueuedItem]], None]
_handlers: dict[str, Handler] = {}


def handler_register(kind: str, handler: Handler) -> None:
    """Name the function that stores a kind of item (called from an AppConfig.ready)."""
    _handlers[kind] = handler


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


# --- backpressure -----------------------------------------------------------------

_PRESSURE_SECONDS = 1.0  # how long one process trusts its last look at the queue
_pressure_lock = threading.Lock()
_pressure: tuple[float, int, float] = (-1e9, 0, 0.0)  # (looked at, events, oldest age in seconds)


def _queue_pressure() -> tuple[int, float]:
    """(events waiting, age of the oldest item in seconds), looked up at most once a second per process."""
    global _pressure
    now = time.monotonic()
    looked, events, age = _pressure
    if now - looked < _PRESSURE_SECONDS:
        return events, age
    with connection.cursor() as cursor:
        # The sum reads the whole (small, constantly emptied) table; the oldest
        # item is the first of the primary key.
        cursor.execute(
            "SELECT coalesce(sum(events), 0),"
            " coalesce(extract(epoch FROM now() - (SELECT received_at FROM tracking_ingestqueueitem"
            "                                      ORDER BY id LIMIT 1)), 0)"
            " FROM tracking_ingestqueueitem"
        )
        events, age = cursor.fetchone()
    events, age = int(events), float(age)
    with _pressure_lock:
        _pressure = (now, events, age)
    return events, age


def pressure_forget() -> None:
    """Look at the queue again on the next append (tests, and after a drain in the same process)."""
    global _pressure
    _pressure = (-1e9, 0, 0.0)


def queue_check_pressure() -> None:
    """Raise QueueFull when the queue is past a configured limit."""
    max_events, max_age = settings.INGEST_QUEUE_MAX_EVENTS, settings.INGEST_QUEUE_MAX_AGE_SECONDS
    if not max_events and not max_age:
        return
    events, age = _queue_pressure()
    if max_events and events >= max_events:
        raise QueueFull(f"{events} events are waiting to be stored", settings.INGEST_RETRY_AFTER_SECONDS)
    if max_age and age >= max_age:
        raise QueueFull(
            f"the oldest waiting event arrived {int(age)} s ago", settings.INGEST_RETRY_AFTER_SECONDS
        )


# --- appending ----------------------------------------------------------------------


def queue_append(*, project_id: int, kind: str, events: int, payload: bytes, received_at: datetime) -> int:
    """Append one checked request to the queue: one INSERT, committed before it returns; returns its id.

    Raises QueueFull past the limits. With INGEST_DRAIN_INLINE the project's queue
    is drained right after the append (tests and single-process runs).
    """
    if kind not in _handlers:
        raise ValueError(f"no drain handler for {kind!r}")
    queue_check_pressure()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tracking_ingestqueueitem (project_id, kind, received_at, events, payload)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            [project_id, kind, received_at, events, payload],
        )
        item_id = cursor.fetchone()[0]
    if settings.INGEST_DRAIN_INLINE:
        from tracking.ingest.drain import queue_drain_project

        queue_drain_project(project_id=project_id)
    return item_id


def batch_enqueue(*, project: Project, batch: list, sent_at: object, facts: RequestFacts) -> BatchResult:
    """Check an event batch without the database, append it to the queue, answer.

    Every endpoint that receives events reaches this through
    `tracking.ingest.accept.batch_accept`, with the request's events in the wire
    format of docs/wire-protocol.md. Events malformed on their own are reported in
    `rejected` and dead-lettered by the drain; the rest are stored by the drain.
    """
    now = timezone.now()
    checked = batch_check(batch=batch, sent_at=sent_at, now=now)
    if checked.clean or checked.rejections:
        queue_append(
            project_id=project.pk,
            kind=KIND_BATCH,
            events=len(checked.clean),
            payload=batch_encode(clean=checked.clean, rejections=checked.rejections, facts=facts),
            received_at=now,
        )
    return checked.result
