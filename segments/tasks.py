"""django-q2 tasks: thin, they take ids and call a service."""

from __future__ import annotations

from django.conf import settings

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
    if segment.history_built_at is None and settings.SEGMENT_HISTORY_DAYS > 0:
        history_request(segment)
    return size


def refresh_project(project_id: int) -> int:
    return refresh.refresh_project(project_id)


def refresh_time_windows() -> int:
    return refresh.refresh_time_windows()
