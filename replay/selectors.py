"""Reads for replay: the filtered list of recordings, one recording, its chunks and timeline markers."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from replay.blobs import blob_read
from replay.models import Recording, RecordingChunk, RecordingRetentionRule
from segments.selectors import current_member
from tracking import elements as chain
from tracking.eventstore import activity
from tracking.eventstore.stored import StoredEvent
from tracking.models import Project, Session

SORTS = ("recent", "active")
# Events joined to a recording lie in its session; the session's events can start a
# little before the recorder loaded and go on after it stopped for inactivity.
SESSION_SLACK = timedelta(minutes=30)
MARKER_EVENTS = ("$pageview", "$autocapture", "$rageclick", "$dead_click")
MAX_MARKERS = 2000
OPTIONS_DAYS = 90


@dataclass(frozen=True)
class RecordingQuery:
    """Filters of the recordings list (page and API); every field optional."""

    session_key: str = ""
    person_ids: tuple[int, ...] = ()
    segment_id: int | None = None
    action_steps: tuple[dict, ...] | None = None
    browser: str = ""
    os: str = ""
    device_type: str = ""
    country: str = ""
    min_duration: int | None = None
    max_duration: int | None = None
    min_active: int | None = None
    max_active: int | None = None
    rage_clicks: bool = False
    dead_clicks: bool = False
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "recent"


def _day_start(day: date, project: Project) -> datetime:
    return datetime.combine(day, time.min, tzinfo=project.zone)


def recording_list(*, project: Project, query: RecordingQuery | None = None) -> QuerySet[Recording]:
    """The project's recordings matching `query`, newest (or most active) first."""
    query = query or RecordingQuery()
    recordings = Recording.objects.filter(project=project).select_related("person", "session")
    if query.session_key:
        recordings = recordings.filter(session_key=query.session_key)
    if query.person_ids:
        recordings = recordings.filter(person_id__in=query.person_ids)
    if query.segment_id is not None:
        recordings = recordings.filter(current_member(segment_id=query.segment_id))
    for name, value in (
        ("session__browser", query.browser),
        ("session__os", query.os),
        ("session__device_type", query.device_type),
        ("session__country", query.country),
    ):
        if value:
            recordings = recordings.filter(**{name: value})
    if query.min_duration is not None:
        recordings = recordings.filter(duration_seconds__gte=query.min_duration)
    if query.max_duration is not None:
        recordings = recordings.filter(duration_seconds__lte=query.max_duration)
    if query.min_active is not None:
        recordings = recordings.filter(active_seconds__gte=query.min_active)
    if query.max_active is not None:
        recordings = recordings.filter(active_seconds__lte=query.max_active)
    if query.rage_clicks:
        recordings = recordings.filter(Q(rage_click_count__gt=0) | Q(session__rageclick_count__gt=0))
    if query.dead_clicks:
        recordings = recordings.filter(session__dead_click_count__gt=0)
    if query.date_from:
        recordings = recordings.filter(started_at__gte=_day_start(query.date_from, project))
    if query.date_to:
        recordings = recordings.filter(started_at__lt=_day_start(query.date_to + timedelta(days=1), project))
    if query.action_steps is not None:
        # last: with ClickHouse the recordings left by every other filter are the candidates sent there
        recordings = activity.sessions_with_action(
            recordings, project_id=project.pk, steps=list(query.action_steps), slack=SESSION_SLACK
        )
    if query.sort == "active":
        return recordings.order_by("-active_seconds", "-started_at", "-pk")
    # relies on recording_project_started (project_id, started_at DESC)
    return recordings.order_by("-started_at", "-pk")


def recording_get(*, project: Project, recording_id: int) -> Recording:
    """The project's recording, or 404: another project's recording is as absent as a missing one."""
    recording = (
        Recording.objects.filter(project=project, pk=recording_id).select_related("person", "session").first()
    )
    if recording is None:
        raise Http404("No such recording")
    return recording


def chunk_list(*, recording: Recording) -> QuerySet[RecordingChunk]:
    return RecordingChunk.objects.filter(recording=recording).order_by("seq")


def chunk_get(*, recording: Recording, seq: int) -> RecordingChunk:
    chunk = RecordingChunk.objects.filter(recording=recording, seq=seq).first()
    if chunk is None:
        raise Http404("No such chunk")
    return chunk


def chunk_compressed(chunk: RecordingChunk) -> bytes:
    """The chunk's stored events: a gzip-compressed JSON array."""
    try:
        return blob_read(chunk.storage_path)
    except FileNotFoundError:
        raise Http404("The chunk's file is missing") from None


def chunk_json(chunk: RecordingChunk) -> bytes:
    """The chunk's events as JSON (a list of rrweb events)."""
    return gzip.decompress(chunk_compressed(chunk))


@dataclass(frozen=True)
class Marker:
    """A moment on the player's timeline, `offset_ms` after the recording starts."""

    offset_ms: int
    kind: str  # pageview | click | change | submit | rageclick | deadclick
    label: str
    timestamp: datetime


def _marker(event: StoredEvent, started_at: datetime, length_ms: int) -> Marker:
    marker = _marker_at(event, max(0, int((event.timestamp - started_at).total_seconds() * 1000)))
    if marker.offset_ms <= length_ms:
        return marker
    # noticed after the last recorded moment (a dead click is known seconds after the click):
    # it sits at the end of the timeline, and says so, rather than past it
    return Marker(length_ms, marker.kind, f"{marker.label} (after the recording ends)", marker.timestamp)


def _marker_at(event: StoredEvent, offset: int) -> Marker:
    if event.name == "$pageview":
        return Marker(offset, "pageview", event.path or event.url or "Page view", event.timestamp)
    target = ""
    if event.elements_chain:
        elements = chain.decode(event.elements_chain)
        if elements:
            first = elements[0]
            target = event.el_text or first.get("text") or first.get("tag", "")
    if event.name == "$rageclick":
        return Marker(offset, "rageclick", f"Rage click on {target or 'an element'}", event.timestamp)
    if event.name == "$dead_click":
        return Marker(offset, "deadclick", f"Dead click on {target or 'an element'}", event.timestamp)
    kind = str(event.properties.get("$event_type") or "click")
    kind = kind if kind in ("click", "change", "submit") else "click"
    return Marker(offset, kind, f"{kind.capitalize()} on {target or 'an element'}", event.timestamp)


def recording_markers(*, recording: Recording) -> list[Marker]:
    """Page views, clicks, changes, submits, rage and dead clicks of the recorded session, in time order."""
    events = activity.session_events(
        recording.project_id,
        session_key=recording.session_key,
        names=MARKER_EVENTS,
        start=recording.started_at - timedelta(minutes=1),
        end=recording.ended_at + timedelta(minutes=1),
        limit=MAX_MARKERS,
    )
    return [_marker(event, recording.started_at, recording.length_ms) for event in events]


def filter_options(*, project: Project) -> dict[str, list[str]]:
    """Browsers, operating systems, device types and countries seen in recorded sessions, for the filters."""
    # the last 90 days are enough to choose from; relies on session_project_started (project_id, started_at DESC)
    sessions = Session.objects.filter(
        project=project, has_recording=True, started_at__gte=timezone.now() - timedelta(days=OPTIONS_DAYS)
    )
    return {
        name: sorted(v for v in sessions.values_list(name, flat=True).distinct()[:200] if v)
        for name in ("browser", "os", "device_type", "country")
    }


def expired_recordings(*, project: Project, now: datetime) -> QuerySet[Recording]:
    """Recordings past the project's retention and not kept longer by a segment rule.

    A recording that ended more than `recording_retention_days` ago is expired
    unless a RecordingRetentionRule of a segment its person belongs to *now*
    still covers it (ended within that rule's `days`).
    """
    expired = Recording.objects.filter(
        project=project, ended_at__lt=now - timedelta(days=project.recording_retention_days)
    )
    for rule in RecordingRetentionRule.objects.filter(
        project=project, days__gt=project.recording_retention_days
    ):
        member = current_member(segment_id=rule.segment_id)
        expired = expired.exclude(Q(ended_at__gte=now - timedelta(days=rule.days)) & Q(member))
    return expired
