"""Reads for segments."""

from __future__ import annotations

from django.db.models import QuerySet

from segments.models import Segment, SegmentMembership, SegmentSizeSnapshot
from tracking.models import Project


def segment_list(*, project: Project) -> QuerySet[Segment]:
    return (
        Segment.objects.filter(project=project).select_related("model", "frozen_from").order_by("name", "pk")
    )


def segment_get(*, project: Project, segment_id: int) -> Segment:
    """The segment if it belongs to the project; raises Segment.DoesNotExist (-> 404) otherwise."""
    return Segment.objects.select_related("project", "model").get(project=project, pk=segment_id)


def member_list(*, segment: Segment) -> QuerySet[SegmentMembership]:
    # relies on membership_open_unique (segment_id, person_id) WHERE exited_at IS NULL
    return (
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True)
        .select_related("person", "person__company")
        .prefetch_related("person__distinct_ids")
        .order_by("person_id")
    )


def person_segment_list(*, project: Project, person_id: int) -> QuerySet[SegmentMembership]:
    """A person's current memberships (relies on membership_person_open)."""
    return (
        SegmentMembership.objects.filter(project=project, person_id=person_id, exited_at__isnull=True)
        .select_related("segment")
        .order_by("segment__name")
    )


def person_segment_history(*, project: Project, person_id: int) -> QuerySet[SegmentMembership]:
    return (
        SegmentMembership.objects.filter(project=project, person_id=person_id)
        .select_related("segment")
        .order_by("-entered_at")
    )


def size_history(*, segment: Segment, days: int = 90) -> QuerySet[SegmentSizeSnapshot]:
    return SegmentSizeSnapshot.objects.filter(segment=segment).order_by("-date")[:days]
