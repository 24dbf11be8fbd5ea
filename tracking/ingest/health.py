"""How the ingest queue is doing: depth, oldest item, drain rate, and each project's lag.

Read by `GET /health/ingest` (monitoring, load balancers) and by the install check.
The queue is small (workers empty it within seconds), so these read it whole.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

RATE_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class ProjectLag:
    project_id: int
    waiting_items: int
    waiting_events: int
    lag_seconds: float  # age of the project's oldest waiting item; 0 when nothing waits
    recent_wait_seconds: float  # the longest an item of the last minute's chunks waited


@dataclass(frozen=True)
class QueueHealth:
    status: str  # "ok", "behind" (past half a limit) or "full" (ingestion answers 429)
    depth_items: int
    depth_events: int
    oldest_age_seconds: float
    drained_events_per_second: float  # over the last minute
    limits: dict
    projects: list[ProjectLag]

    def as_json(self, *, with_projects: bool) -> dict:
        data = asdict(self)
        if not with_projects:
            data.pop("projects")
        return data


def _status(events: int, age: float) -> str:
    max_events, max_age = settings.INGEST_QUEUE_MAX_EVENTS, settings.INGEST_QUEUE_MAX_AGE_SECONDS
    if (max_events and events >= max_events) or (max_age and age >= max_age):
        return "full"
    if (max_events and events >= max_events / 2) or (max_age and age >= max_age / 2):
        return "behind"
    return "ok"


def _lags(cursor, now: datetime, project_id: int | None) -> list[ProjectLag]:
    cursor.execute(
        "SELECT project_id, count(*), sum(events), min(received_at) FROM tracking_ingestqueueitem"
        " WHERE %s::bigint IS NULL OR project_id = %s GROUP BY project_id",
        [project_id, project_id],
    )
    waiting = {pid: (items, int(events), oldest) for pid, items, events, oldest in cursor.fetchall()}
    # relies on ingestdrained_project_at (project_id, -drained_at)
    cursor.execute(
        "SELECT project_id, max(extract(epoch FROM drained_at - oldest_received_at))"
        " FROM tracking_ingestdrained WHERE drained_at >= %s AND (%s::bigint IS NULL OR project_id = %s)"
        " GROUP BY project_id",
        [now - RATE_WINDOW, project_id, project_id],
    )
    recent = {pid: float(seconds) for pid, seconds in cursor.fetchall()}
    lags = []
    for pid in sorted(set(waiting) | set(recent)):
        items, events, oldest = waiting.get(pid, (0, 0, None))
        lags.append(
            ProjectLag(
                project_id=pid,
                waiting_items=items,
                waiting_events=events,
                lag_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
                recent_wait_seconds=round(recent.get(pid, 0.0), 3),
            )
        )
    return lags


def queue_health_get(*, now: datetime | None = None) -> QueueHealth:
    """The whole queue's figures and every project's lag."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        projects = _lags(cursor, now, None)
        cursor.execute(
            "SELECT coalesce(sum(events), 0) FROM tracking_ingestdrained WHERE drained_at >= %s",
            [now - RATE_WINDOW],
        )
        drained = int(cursor.fetchone()[0])
    events = sum(p.waiting_events for p in projects)
    oldest = max((p.lag_seconds for p in projects), default=0.0)
    return QueueHealth(
        status=_status(events, oldest),
        depth_items=sum(p.waiting_items for p in projects),
        depth_events=events,
        oldest_age_seconds=round(oldest, 3),
        drained_events_per_second=round(drained / RATE_WINDOW.total_seconds(), 1),
        limits={
            "max_events": settings.INGEST_QUEUE_MAX_EVENTS,
            "max_age_seconds": settings.INGEST_QUEUE_MAX_AGE_SECONDS,
        },
        projects=projects,
    )


def project_lag_get(*, project_id: int, now: datetime | None = None) -> ProjectLag:
    """One project's lag, for its install check."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        lags = _lags(cursor, now, project_id)
    return lags[0] if lags else ProjectLag(project_id, 0, 0, 0.0, 0.0)
