"""Keeping segments live.

After each ingested batch commits, `request_refresh` queues one refresh task per
project unless one is already queued (a flag flipped in segments_refreshstate,
so a burst of batches costs one task). The task takes the touched persons
(tracking.PersonTouch) and re-evaluates only them, in the same transaction that
deletes the touches: if the worker dies mid-refresh, nothing is lost and the
next run converges. A periodic pass recomputes segments whose time windows move
on their own ("no activity in 14 days").

A rank ("top 10% by purchases") depends on everyone: one person's new events can
move others in or out, so re-evaluating the touched persons cannot keep it
exact. Segments with a rank (directly or through a segment they name) are left
out of the per-person refresh and recomputed in full by the periodic pass, when
the project's data moved since they were computed (tracking.dataversion) or,
for a rank over a "last N days" window, as time passes. Between two passes
such a segment holds its members as of its last computation.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.dispatch import receiver
from django.utils import timezone
from django_q.tasks import async_task

from segments import services
from segments.compiler import segment_depends
from segments.definition import depends_on_everyone, depends_on_time
from segments.models import RefreshState, Segment, SegmentKind
from tracking.dataversion import data_version
from tracking.models import Project
from tracking.services.touches import persontouch_take
from tracking.signals import events_ingested

log = logging.getLogger(__name__)
CHUNK = 2000
LOCK_NAMESPACE = 7302  # pg_advisory_xact_lock(namespace, project id)


@receiver(events_ingested)
def _on_events_ingested(sender, project_id: int, person_ids: list[int], **kwargs) -> None:
    request_refresh(project_id)


def request_refresh(project_id: int) -> bool:
    """Queue a refresh for the project unless one is already waiting; True when this call queued it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pending FROM segments_refreshstate WHERE project_id = %s", [project_id])
        row = cursor.fetchone()
        if row and row[0]:
            return False
        cursor.execute(
            "INSERT INTO segments_refreshstate (project_id, pending, requested_at) VALUES (%s, true, now())"
            " ON CONFLICT (project_id) DO UPDATE SET pending = true, requested_at = now()"
            " WHERE segments_refreshstate.pending = false RETURNING project_id",
            [project_id],
        )
        queued = cursor.fetchone() is not None
    if queued:
        async_task("segments.tasks.refresh_project", project_id, task_name=f"refresh-{project_id}")
    return queued


def refresh_project(project_id: int) -> int:
    """Re-evaluate the persons touched since the last run; returns how many were processed."""
    # Clear the flag first: batches committing from now on queue the next run.
    RefreshState.objects.filter(project_id=project_id).update(pending=False)
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        return 0
    started, processed, conflicts = time.monotonic(), 0, 0
    while True:
        try:
            person_ids = _refresh_chunk(project)
        except IntegrityError:
            # A person of the chunk was merged away (deleted) by a concurrent $identify
            # after the chunk read it: nothing was written, the touches are back; go again.
            conflicts += 1
            if conflicts > 3:
                raise
            continue
        processed += len(person_ids)
        if len(person_ids) < CHUNK:
            break
    RefreshState.objects.filter(project_id=project_id).update(
        last_run_at=timezone.now(),
        last_run_ms=int((time.monotonic() - started) * 1000),
        last_run_persons=processed,
    )
    return processed


def _refresh_chunk(project: Project) -> list[int]:
    """Take up to CHUNK touched persons and re-evaluate them, in one transaction."""

    project_id = project.pk
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, project_id])
        person_ids = persontouch_take(project_id=project_id, limit=CHUNK)
        if person_ids:
            services.segments_refresh_persons(project=project, person_ids=person_ids)
    return person_ids


def _due(segment: Segment) -> bool:
    """Whether the periodic pass recomputes the segment: time moves it, or a rank does and data
    moved since, or it is a company segment and data moved since (a person leaving a company
    changes the company they left without touching it)."""
    if segment_depends(segment, depends_on_time):
        return True
    if not (segment.is_company or segment_depends(segment, depends_on_everyone)):
        return False
    _, changed_at = data_version(segment.project_id)
    return changed_at is not None and changed_at > segment.computed_at


def refresh_time_windows() -> int:
    """Recompute dynamic segments whose membership moves with time, or with everyone's data
    (ranks, company segments), at most every SEGMENT_TIME_REFRESH_SECONDS."""

    cutoff = timezone.now() - timezone.timedelta(seconds=settings.SEGMENT_TIME_REFRESH_SECONDS)
    recomputed = 0
    candidates = Segment.objects.filter(kind=SegmentKind.DYNAMIC, computed_at__lt=cutoff).select_related(
        "project", "model"
    )
    for segment in candidates.order_by("computed_at"):
        if _due(segment):
            try:
                services.segment_compute(segment=segment)
            except Exception:  # one broken segment must not stop the others
                log.exception("periodic recompute of segment %s failed", segment.pk)
                continue
            recomputed += 1
    return recomputed
