"""Writes of a segment's scheduled export (SegmentSync): create and edit, the secret, run now, delete.

A sync writes the segment's full member list to storage once a day
(interventions.sync_files) and pushes its entries and exits to a webhook in
signed batches (interventions.sync_push); either or both.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from interventions.models import SegmentSync, SegmentSyncMember, SegmentSyncRun
from segments.models import Segment
from tracking.models import Project

MAX_BATCH_SIZE = 10_000
# No run takes this long (a push pass stops after a minute, a file task is stopped after
# five): one still "running" past it was cut off with its worker.
INTERRUPTED_AFTER = timedelta(hours=1)
FIELDS = ("daily_file", "webhook_url", "batch_size", "push_current_members", "enabled")


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def _bool(data: dict, name: str) -> bool:
    value = data[name]
    if not isinstance(value, bool):
        raise ValidationError({name: ["true or false."]})
    return value


def _clean(project: Project, sync: SegmentSync, data: dict) -> None:
    if "segment" in data or sync.pk is None:
        value = data.get("segment")
        segment = (
            Segment.objects.filter(project=project, pk=value).first()
            if isinstance(value, int) and not isinstance(value, bool)
            else None
        )
        if segment is None:
            raise ValidationError({"segment": ["Pick a segment of this project."]})
        if sync.pk is not None and segment.pk != sync.segment_id:
            raise ValidationError({"segment": ["A sync keeps its segment; make a new sync for another one."]})
        sync.segment = segment
    for name in ("daily_file", "push_current_members", "enabled"):
        if name in data:
            setattr(sync, name, _bool(data, name))
    if "webhook_url" in data:
        url = data["webhook_url"]
        if url is None:
            url = ""
        if not isinstance(url, str):
            raise ValidationError({"webhook_url": ["An http:// or https:// URL, or empty for none."]})
        url = url.strip()
        if url and not url.startswith(("http://", "https://")):
            raise ValidationError({"webhook_url": ["An http:// or https:// URL, or empty for none."]})
        sync.webhook_url = url
    if "batch_size" in data:
        size = data["batch_size"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH_SIZE:
            raise ValidationError({"batch_size": [f"A whole number from 1 to {MAX_BATCH_SIZE:,}."]})
        sync.batch_size = size
    if not (sync.daily_file or sync.webhook_url):
        raise ValidationError({"daily_file": ["Write a daily file, push to a webhook, or both."]})
    if sync.webhook_url and sync.segment.is_company:
        raise ValidationError(
            {"webhook_url": ["Entries and exits are pushed for segments of people; for companies, "
                             "use the daily file or a webhook on the segment (Interventions → Webhooks)."]}
        )  # fmt: skip


@transaction.atomic
def sync_save(*, project: Project, data: dict, sync: SegmentSync | None = None, user=None) -> SegmentSync:
    """Create or change a sync. A new webhook URL starts the push afresh: the new receiver was told nothing."""
    creating = sync is None
    sync = sync or SegmentSync(project=project, secret=_new_secret(), created_by=user)
    url_before = "" if creating else SegmentSync.objects.get(pk=sync.pk).webhook_url
    _clean(project, sync, data)
    sync.full_clean(exclude=["project", "segment", "created_by"])
    if not creating and sync.webhook_url != url_before:
        sync_push_reset(sync=sync)
    sync.save()
    if creating or sync.enabled:
        transaction.on_commit(lambda: sync_run_now(sync=sync, file=creating and sync.daily_file))
    return sync


def sync_push_reset(*, sync: SegmentSync) -> None:
    """Forget what the receiver was told: the next pass starts the push as a new sync would."""
    SegmentSyncMember.objects.filter(sync=sync).delete()
    sync.push_started_at = None
    sync.checked_version = None
    sync.push_failures = 0
    sync.next_push_at = None
    sync.last_push_error = ""


def sync_rotate_secret(*, sync: SegmentSync) -> str:
    """A new signing secret (the old one stops verifying at once); returned so it can be shown once."""
    sync.secret = _new_secret()
    sync.save(update_fields=["secret", "updated_at"])
    return sync.secret


def sync_run_now(*, sync: SegmentSync, file: bool = True) -> list[str]:
    """Queue a member-list file (when the sync writes one and `file`) and a push pass now, retry wait or not."""
    queued = []
    if file and sync.daily_file:
        async_task("interventions.tasks.write_sync_file", sync.pk, task_name=f"sync-file-{sync.pk}")
        queued.append("file")
    if sync.webhook_url and sync.enabled:
        SegmentSync.objects.filter(pk=sync.pk).update(next_push_at=None, checked_version=None)
        async_task("interventions.tasks.push_sync", sync.pk, task_name=f"sync-push-{sync.pk}")
        queued.append("push")
    return queued


def sync_delete(*, sync: SegmentSync) -> None:
    """Delete the sync with its run and batch logs; files already written stay in storage."""
    sync.delete()


def sync_runs_close_interrupted() -> int:
    """Mark runs whose worker died mid-way as failed, so the log does not show them running forever."""
    return SegmentSyncRun.objects.filter(
        status=SegmentSyncRun.Status.RUNNING, started_at__lt=timezone.now() - INTERRUPTED_AFTER
    ).update(
        status=SegmentSyncRun.Status.FAILED, error="Interrupted: the worker stopped before the run ended."
    )
