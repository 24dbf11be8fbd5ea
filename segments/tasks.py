"""django-q2 tasks: thin, they take ids and call a service."""

from __future__ import annotations

from segments import refresh
from segments.models import Segment
from segments.services import segment_compute


def compute_segment(segment_id: int) -> int | None:
    segment = Segment.objects.select_related("project", "model").filter(pk=segment_id).first()
    if segment is None or not segment.is_dynamic:
        return None
    return segment_compute(segment=segment).size


def refresh_project(project_id: int) -> int:
    return refresh.refresh_project(project_id)


def refresh_time_windows() -> int:
    return refresh.refresh_time_windows()
