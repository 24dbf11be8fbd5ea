"""A sync's daily file: the segment's full member list, gzipped CSV, in the default storage.

The rows come from segments.exports (PostgreSQL's COPY, chunk by chunk) and
go through gzip into a temporary file, which the storage then reads in
chunks: the filesystem under .data by default, S3 when SIGHTLINE_S3_BUCKET is
set (config/settings.py). Memory stays flat whatever the segment's size.
The file of a day is `exports/<project>/<segment>/<YYYY-MM-DD>.csv.gz` (the
day in the project's time zone); writing it again the same day replaces it.
"""

from __future__ import annotations

import gzip
import logging
import tempfile
from datetime import datetime, timedelta

from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from interventions.models import SegmentSync, SegmentSyncRun
from segments.exports import members_stream

log = logging.getLogger(__name__)
EVERY = timedelta(days=1)
# A failed or interrupted file is tried again after this long, not at every check.
RETRY_AFTER = timedelta(hours=1)
FLUSH_BYTES = 256 * 1024


def file_name(sync: SegmentSync, *, now: datetime) -> str:
    day = now.astimezone(sync.project.zone).date()
    return f"exports/{sync.project_id}/{sync.segment_id}/{day:%Y-%m-%d}.csv.gz"


class _RecordCounter:
    """Counts CSV records as the bytes go by: a newline ends one unless it is inside quotes.

    Inside quotes means after an odd number of quote characters (an escaped quote, `""`,
    toggles twice), so the count is the file's own, whatever its fields hold.
    """

    def __init__(self) -> None:
        self.records = 0
        self.quoted = False

    def feed(self, chunk: bytes) -> None:
        if not self.quoted and b'"' not in chunk:
            self.records += chunk.count(b"\n")
            return
        for i, part in enumerate(chunk.split(b'"')):
            if i:
                self.quoted = not self.quoted
            if not self.quoted:
                self.records += part.count(b"\n")


def _write_members(sync: SegmentSync, target) -> int:
    """Gzip the member CSV into `target`; returns how many members it holds (its records but the header)."""
    counter = _RecordCounter()
    with gzip.GzipFile(fileobj=target, mode="wb", mtime=0) as archive:
        pending = bytearray()
        for chunk in members_stream(sync.segment, "csv"):
            pending += chunk
            if len(pending) >= FLUSH_BYTES:
                counter.feed(pending)
                archive.write(pending)
                pending.clear()
        counter.feed(pending)
        archive.write(pending)
    return max(counter.records - 1, 0)


def sync_file_write(sync: SegmentSync, *, now: datetime | None = None) -> SegmentSyncRun:
    """Write today's member list file; the run records its name, rows and bytes, or what went wrong."""
    now = now or timezone.now()
    run = SegmentSyncRun.objects.create(
        project_id=sync.project_id, sync=sync, kind=SegmentSyncRun.Kind.FILE, started_at=now
    )
    name = file_name(sync, now=now)
    try:
        with tempfile.TemporaryFile() as target:
            rows = _write_members(sync, target)
            size = target.tell()
            target.seek(0)
            if default_storage.exists(name):
                default_storage.delete(name)
            saved = default_storage.save(name, File(target, name=name))
    except Exception as exc:  # storage or database: recorded on the run, tried again later
        log.exception("member list file of sync %s failed", sync.pk)
        run.status, run.error = SegmentSyncRun.Status.FAILED, (str(exc) or type(exc).__name__)[:500]
        sync.last_file_error = run.error
    else:
        run.status, run.rows, run.file_name, run.file_bytes = SegmentSyncRun.Status.OK, rows, saved, size
        sync.last_file_at, sync.last_file_error = now, ""
    run.finished_at = timezone.now()
    run.save()
    SegmentSync.objects.filter(pk=sync.pk).update(
        last_file_at=sync.last_file_at, last_file_error=sync.last_file_error
    )
    return run


def files_due(*, now: datetime | None = None) -> list[int]:
    """Syncs whose last file is a day old (or missing) and that have not tried within RETRY_AFTER."""
    now = now or timezone.now()
    recent = SegmentSyncRun.objects.filter(kind=SegmentSyncRun.Kind.FILE, started_at__gt=now - RETRY_AFTER)
    return list(
        SegmentSync.objects.filter(enabled=True, daily_file=True)
        .filter(Q(last_file_at__isnull=True) | Q(last_file_at__lte=now - EVERY))
        .exclude(pk__in=recent.values("sync_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def queue_files_due() -> int:
    """Queue one task per due file, so a large segment's file delays no other (run every 10 minutes)."""
    due = files_due()
    for sync_id in due:
        async_task("interventions.tasks.write_sync_file", sync_id, task_name=f"sync-file-{sync_id}")
    return len(due)


def sync_files(*, sync: SegmentSync, limit: int = 60) -> list[SegmentSyncRun]:
    """The files in storage, newest first: a day written twice is its latest run (relies on syncrun_sync_kind_started)."""
    runs = SegmentSyncRun.objects.filter(
        sync=sync, kind=SegmentSyncRun.Kind.FILE, status=SegmentSyncRun.Status.OK
    ).order_by("-started_at", "-pk")
    files: dict[str, SegmentSyncRun] = {}
    for run in runs.iterator(chunk_size=200):
        files.setdefault(run.file_name, run)
        if len(files) >= limit:
            break
    return list(files.values())
