"""django-q2 tasks: thin, they take ids and call a service."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from segments import refresh
from segments.history_jobs import history_request
from segments.models import Segment
from segments.services import segment_compute


def compute_segment(segment_id: int) -> int | None:
    """Compute the members now; then, for a new or changed definition, queue the rebuild of its history."""
    segment = Segment.objects.select_related("project", "model").filter(pk=segment_id).first()
    if segment is None or not segment.is_dynamic:
        return None
    size = segment_compute(segment=segment).size
    # membership history is reconstructed for segments of people (company segments keep theirs from now on)
    if not segment.is_company and segment.history_built_at is None and settings.SEGMENT_HISTORY_DAYS > 0:
        history_request(segment)
    return size


def refresh_project(project_id: int) -> int:
    return refresh.refresh_project(project_id)


def refresh_time_windows() -> int:
    recomputed = refresh.refresh_time_windows()
    if settings.SEGMENT_HISTORY_DAYS > 0:
        history_backfill()
    return recomputed


def history_backfill(limit: int = 10) -> int:
    """Queue the history rebuild of computed dynamic segments that have none (made before it existed)."""
    from jobs.models import ACTIVE, Job
    from segments.history_jobs import KIND
    from segments.models import SegmentKind

    # running, or tried today (failed or cancelled: not retried every minute)
    recent = Job.objects.filter(kind=KIND).filter(
        Q(status__in=ACTIVE) | Q(created_at__gte=timezone.now() - timedelta(days=1))
    )
    busy = recent.values_list("params__segment_id", flat=True)
    waiting = (
        Segment.objects.filter(
            kind=SegmentKind.DYNAMIC, computed_at__isnull=False, history_built_at__isnull=True
        )
        .exclude(subject="company")
        .exclude(pk__in=list(busy))
        .select_related("project", "model")
        .order_by("pk")[:limit]
    )
    for segment in waiting:
        history_request(segment)
    return len(waiting)
