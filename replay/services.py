"""Writes for replay: storing chunks, linking recordings to sessions and persons, deleting, retention."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from replay import selectors
from replay.blobs import blob_delete, blob_write, chunk_path, compress
from replay.metadata import Totals, chunk_stats
from replay.models import Recording, RecordingChunk, RecordingRetentionRule
from replay.sanitize import sanitize_events
from tracking.models import Person, PersonDistinctId, Project, Session

log = logging.getLogger(__name__)

# A recording larger than this (stored, compressed) takes no more chunks: at the
# recorder's usual 20-100 kB a minute that is many hours, so only a runaway page
# or a forged flood reaches it.
MAX_RECORDING_BYTES = 100 * 1024 * 1024
LINK_WINDOW = timedelta(days=1)
LINK_BATCH = 200
DELETE_BATCH = 500


class RecordingFull(Exception):
    """The recording reached MAX_RECORDING_BYTES."""


class UnstorableEvents(ValueError):
    """Events that cannot be written back as JSON (nesting too deep)."""


@dataclass(frozen=True)
class ChunkResult:
    stored: bool
    recording_id: int | None = None


def _serialise(events: list[dict]) -> bytes:
    try:
        return orjson.dumps(events)
    except orjson.JSONEncodeError:
        pass
    # orjson stops at 255 levels of nesting and at 64-bit integers; a deep DOM can
    # go past the first, a forged body past the second.
    try:
        return json.dumps(events, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, TypeError, RecursionError) as error:
        raise UnstorableEvents(str(error)[:200]) from None


def _moment(epoch_ms: int, skew: timedelta) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC) + skew


def recording_chunk_ingest(
    *,
    project: Project,
    session_key: str,
    distinct_id: str,
    seq: int,
    events: list[dict],
    skew: timedelta = timedelta(0),
) -> ChunkResult:
    """Sanitise a chunk, write it to storage and index it; idempotent per (recording, seq).

    The recording row is locked while its chunk is written, so chunks of one
    session are stored one at a time and a retried chunk is recognised. A
    failure after the blob was written removes the blob again: no file without
    its row.
    """
    try:
        events, cleaning = sanitize_events(events)
    except RecursionError:
        raise UnstorableEvents("the events are nested too deeply") from None
    if not events:
        return ChunkResult(stored=False)
    stats = chunk_stats(events)
    blob = compress(_serialise(events))
    first, last = _moment(stats.first_ms, skew), _moment(stats.last_ms, skew)
    written: list[str] = []
    try:
        with transaction.atomic():
            recording, _ = Recording.objects.get_or_create(
                project=project,
                session_key=session_key,
                defaults={"distinct_id": distinct_id, "started_at": first, "ended_at": last},
            )
            recording = Recording.objects.select_for_update().get(pk=recording.pk)
            if RecordingChunk.objects.filter(recording=recording, seq=seq).exists():
                return ChunkResult(stored=False, recording_id=recording.pk)
            if recording.size_bytes + len(blob) > MAX_RECORDING_BYTES:
                raise RecordingFull()
            path = blob_write(
                chunk_path(
                    project_id=project.pk, created_at=recording.created_at, session_key=session_key, seq=seq
                ),
                blob,
            )
            written.append(path)
            RecordingChunk.objects.create(
                project=project,
                recording=recording,
                seq=seq,
                first_timestamp=first,
                last_timestamp=last,
                event_count=stats.event_count,
                size_bytes=len(blob),
                storage_path=path,
                click_count=stats.click_count,
                rage_click_count=stats.rage_click_count,
                active_seconds=stats.active_seconds,
                active_first_second=stats.active_first_second,
                active_last_second=stats.active_last_second,
                page_count=stats.page_count,
                first_href=stats.first_href,
                last_href=stats.last_href,
                sanitized=cleaning.changed,
                stop_reason=stats.stop_reason,
            )
            _link(recording)
            _recompute(recording)
            recording.save()
    except BaseException:
        for path in written:
            blob_delete(path)
        raise
    return ChunkResult(stored=True, recording_id=recording.pk)


# A recording's figures from its chunk rows (replay.metadata's definitions): a second or a
# page that straddles two chunks (the next active or paged chunk starts where the one before ended)
# counts once. One statement over the chunks (chunk_recording_seq), whatever their number: a long
# recording takes a chunk every few seconds, and each arrival recomputes.
_FIGURES = """
    WITH c AS (SELECT * FROM replay_recordingchunk WHERE recording_id = %s),
    active AS (
        SELECT active_seconds, active_first_second = lag(active_last_second) OVER (ORDER BY seq) AS straddles
        FROM c WHERE active_seconds > 0
    ),
    paged AS (
        SELECT seq, page_count, first_href, lag(last_href) OVER (ORDER BY seq) AS previous_href
        FROM c WHERE page_count > 0
    )
    SELECT min(first_timestamp), max(last_timestamp), sum(size_bytes), count(*), bool_or(sanitized),
           sum(click_count), sum(rage_click_count),
           (SELECT coalesce(sum(active_seconds - CASE WHEN straddles THEN 1 ELSE 0 END), 0) FROM active),
           (SELECT coalesce(sum(page_count - CASE WHEN previous_href <> '' AND first_href = previous_href
                                                  THEN 1 ELSE 0 END), 0) FROM paged),
           coalesce((SELECT first_href FROM paged WHERE first_href <> '' ORDER BY seq LIMIT 1), ''),
           coalesce((SELECT stop_reason FROM c WHERE stop_reason <> '' ORDER BY seq DESC LIMIT 1), '')
    FROM c
"""


@dataclass(frozen=True)
class RecordingFigures:
    started_at: datetime
    ended_at: datetime
    size_bytes: int
    chunk_count: int
    sanitized: bool
    totals: Totals


def recording_figures(recording_id: int) -> RecordingFigures:
    """The figures of a recording (with at least one chunk) from its chunk rows."""
    with connection.cursor() as cursor:
        cursor.execute(_FIGURES, [recording_id])
        started, ended, size, count, sanitized, clicks, rage, active, pages, first_url, stop = (
            cursor.fetchone()
        )
    totals = Totals(
        active_seconds=int(active),
        page_count=int(pages),
        click_count=int(clicks),
        rage_click_count=int(rage),
        first_url=first_url,
        stop_reason=stop,
    )
    return RecordingFigures(started, ended, int(size), count, sanitized, totals)


def _recompute(recording: Recording) -> None:
    figures = recording_figures(recording.pk)
    totals = figures.totals
    recording.started_at = figures.started_at
    recording.ended_at = figures.ended_at
    # whole seconds, rounded up: a recording is at least as long as the seconds it was active in
    recording.duration_seconds = math.ceil((recording.ended_at - recording.started_at).total_seconds())
    recording.active_seconds = min(totals.active_seconds, max(recording.duration_seconds, 1))
    recording.page_count = totals.page_count
    recording.click_count = totals.click_count
    recording.rage_click_count = totals.rage_click_count
    recording.first_url = totals.first_url
    recording.stop_reason = totals.stop_reason
    recording.size_bytes = figures.size_bytes
    recording.chunk_count = figures.chunk_count
    recording.sanitized = figures.sanitized


def _link(recording: Recording) -> bool:
    """Attach the recording to its session and person once they exist; marks the session as recorded."""
    changed = False
    if recording.session_id is None:
        # relies on session_project_key (project_id, session_key)
        session = (
            Session.objects.filter(project_id=recording.project_id, session_key=recording.session_key)
            .values("id", "person_id", "has_recording")
            .first()
        )
        if session is not None:
            recording.session_id = session["id"]
            recording.person_id = session["person_id"]
            changed = True
            if not session["has_recording"]:
                Session.objects.filter(pk=session["id"]).update(has_recording=True)
    elif recording.person_id is None:
        recording.person_id = (
            Session.objects.filter(pk=recording.session_id).values_list("person_id", flat=True).first()
        )
        changed = recording.person_id is not None
    if recording.person_id is None:
        recording.person_id = (
            PersonDistinctId.objects.filter(
                project_id=recording.project_id, distinct_id=recording.distinct_id
            )
            .values_list("person_id", flat=True)
            .first()
        )
        changed = changed or recording.person_id is not None
    return changed


def recordings_link(*, project_id: int, now: datetime | None = None) -> int:
    """Link this project's recent recordings that still lack their session or person (after an event batch).

    Chunks can arrive before the session's first events, and merging persons
    unlinks a recording from the merged-away person; both settle here.
    """
    since = (now or timezone.now()) - LINK_WINDOW
    # This runs after every event batch, and almost always finds nothing: a bare
    # probe costs a fraction of the ORM query below in the ingest worker.
    # relies on recording_unlinked (project_id, created_at) WHERE session or person IS NULL
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM replay_recording WHERE project_id = %s AND created_at >= %s"
            " AND (session_id IS NULL OR person_id IS NULL) LIMIT 1",
            [project_id, since],
        )
        if cursor.fetchone() is None:
            return 0
    pending = Recording.objects.filter(project_id=project_id, created_at__gte=since).filter(
        Q(session__isnull=True) | Q(person__isnull=True)
    )[:LINK_BATCH]
    linked = 0
    for recording in pending:
        if _link(recording):
            recording.save(update_fields=["session", "person", "updated_at"])
            linked += 1
    return linked


def recordings_delete(recordings: QuerySet[Recording]) -> int:
    """Delete recordings with their chunk rows; the chunk files go once the transaction commits.

    Files are removed by the `post_delete` receiver of RecordingChunk (see
    replay.signals), so every deletion path — this one, a project's or a
    session's cascade — leaves no file behind.
    """
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(recordings.order_by().values_list("pk", flat=True)[:DELETE_BATCH])
            if not ids:
                return deleted
            session_ids = list(
                Recording.objects.filter(pk__in=ids, session__isnull=False).values_list(
                    "session_id", flat=True
                )
            )
            Recording.objects.filter(pk__in=ids).delete()
            Session.objects.filter(pk__in=session_ids).update(has_recording=False)
        deleted += len(ids)


def recordings_delete_for_person(*, person: Person) -> int:
    """Every recording of a person: linked to them, to one of their sessions, or sent under one of their ids."""
    distinct_ids = list(person.distinct_ids.values_list("distinct_id", flat=True))
    session_keys = Session.objects.filter(project_id=person.project_id, person=person).values("session_key")
    recordings = Recording.objects.filter(project_id=person.project_id).filter(
        Q(person=person) | Q(session_key__in=session_keys) | Q(distinct_id__in=distinct_ids)
    )
    return recordings_delete(recordings)


def recordings_expire(*, now: datetime | None = None) -> int:
    """Delete every project's expired recordings (rows and files). The scheduled retention task."""
    now = now or timezone.now()
    deleted = 0
    projects = Project.objects.filter(Exists(Recording.objects.filter(project=OuterRef("pk")))).only(
        "pk", "recording_retention_days"
    )
    for project in projects:
        deleted += recordings_delete(selectors.expired_recordings(project=project, now=now))
    if deleted:
        log.info("retention deleted %s recordings", deleted)
    return deleted


def retention_rule_save(*, project: Project, segment, days: int) -> RecordingRetentionRule:
    """Keep recordings of the segment's members `days` days (replacing the segment's previous rule)."""
    rule = RecordingRetentionRule.objects.filter(
        project=project, segment=segment
    ).first() or RecordingRetentionRule(project=project, segment=segment)
    rule.days = days
    rule.full_clean()
    rule.save()
    return rule


def retention_rule_delete(*, rule: RecordingRetentionRule) -> None:
    rule.delete()
