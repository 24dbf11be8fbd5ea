"""django-q2 tasks: thin, they take ids and call a service."""

from __future__ import annotations

from segments.models import Segment


def compute_segment(segment_id: int) -> int | None:
    from segments.services import segment_compute

    segment = Segment.objects.select_related("project", "model").filter(pk=segment_id).first()
    if segment is None or not segment.is_dynamic:
        return None
    return segment_compute(segment=segment).size


def refresh_project(project_id: int) -> int:
    from segments.refresh import refresh_project as run

    return run(project_id)


def refresh_time_windows() -> int:
    from segments.refresh import refresh_time_windows as run

    return run()
