"""Reads for a segment's scheduled exports: the list, a sync's runs and batches."""

from __future__ import annotations

from django.db.models import QuerySet

from interventions.models import SegmentSync, SegmentSyncBatch, SegmentSyncMember, SegmentSyncRun
from tracking.models import Project


def sync_list(*, project: Project, segment_id: int | None = None) -> QuerySet[SegmentSync]:
    syncs = SegmentSync.objects.filter(project=project).select_related("segment")
    if segment_id is not None:
        syncs = syncs.filter(segment_id=segment_id)
    return syncs.order_by("-created_at", "-pk")


def run_list(*, sync: SegmentSync) -> QuerySet[SegmentSyncRun]:
    # relies on syncrun_sync_kind_started when filtered by kind; a sync has few runs a day otherwise
    return SegmentSyncRun.objects.filter(sync=sync).order_by("-started_at", "-pk")


def batch_list(*, sync: SegmentSync) -> QuerySet[SegmentSyncBatch]:
    # relies on syncbatch_sync_sent (sync_id, sent_at DESC)
    return SegmentSyncBatch.objects.filter(sync=sync).order_by("-sent_at", "-pk")


def told_count(*, sync: SegmentSync) -> int:
    """How many people the receiver has been told are in (relies on syncmember_sync_person)."""
    return SegmentSyncMember.objects.filter(sync=sync).count()
