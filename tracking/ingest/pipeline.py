"""One batch from the wire to the database, set-based throughout.

`batch_check` is what an ingestion request does before it acknowledges (no
database); `events_store` is what the drain does with many checked batches at
once (tracking.ingest.batches); `event_batch_ingest` does both in one go.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from tracking import eventstore
from tracking.ingest import persons, rollup, sessions
from tracking.ingest.enrich import Device, Geo, geolocate, parse_user_agent, split_url, url_host
from tracking.ingest.sessions import SessionFacts
from tracking.ingest.validate import CleanEvent, Rejected, clean_event, parse_timestamp
from tracking.models import IngestRejection, Project
from tracking.signals import events_ingested
from tracking.traffic.bots import batch_is_bot
from tracking.traffic.filtering import project_rules

log = logging.getLogger(__name__)

MAX_BATCH = 1000
MAX_SKEW = timedelta(days=3650)
_PAYLOAD_KEEP = 2000


@dataclass
class RequestFacts:
    """What the HTTP request tells about the client, gathered by the view."""

    user_agent: str = ""
    ip: str | None = None
    country_header: str | None = None
    origin_host: str = ""
    # Server-side endpoints set this: their events are never bots (tracking.traffic.bots).
    server_side: bool = False


@dataclass(frozen=True)
class SpecialEvent:
    name: str
    person_id: int
    distinct_id: str
    timestamp: datetime
    properties: dict


@dataclass
class BatchResult:
    accepted: int = 0
    rejected: list[dict] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)


def clock_skew(sent_at: object, now: datetime) -> timedelta:
    """How far the client's clock is behind ours, from the batch's `sent_at`; 0 if unknown or absurd."""
    try:
        sent = parse_timestamp(sent_at)
    except Rejected:
        return timedelta(0)
    if sent is None:
        return timedelta(0)
    skew = now - sent
    return skew if abs(skew) < MAX_SKEW else timedelta(0)


def _truncate(raw: object) -> str:
    try:
        text = orjson.dumps(raw).decode()
    except (TypeError, orjson.JSONEncodeError):
        try:
            text = repr(raw)
        except RecursionError:  # nested deeper than repr goes (orjson parses up to 1024 levels)
            text = f"<{type(raw).__name__} nested too deeply to keep>"
    return text[:_PAYLOAD_KEEP].replace("\x00", "")


@dataclass
class CheckedBatch:
    """A batch after the checks that need no database: what to store, what to dead-letter, the answer."""

    result: BatchResult
    clean: list[CleanEvent]
    rejections: list[tuple[int, str, str]]  # (index, reason, truncated payload)


def batch_check(*, batch: list, sent_at: object, now: datetime) -> CheckedBatch:
    """Validate every event on its own; one bad event never sinks the rest."""
    skew = clock_skew(sent_at, now)
    result = BatchResult()
    clean: list[CleanEvent] = []
    rejections: list[tuple[int, str, str]] = []
    seen_uuids: set = set()
    for index, raw in enumerate(batch):
        try:
            event = clean_event(raw, index=index, now=now, skew=skew)
        except Rejected as error:
            result.rejected.append({"index": index, "error": str(error)})
            rejections.append((index, str(error)[:500], _truncate(raw)))
            continue
        result.accepted += 1
        if event.uuid in seen_uuids:
            continue  # the same event twice in one batch: store it once
        seen_uuids.add(event.uuid)
        clean.append(event)
    return CheckedBatch(result=result, clean=clean, rejections=rejections)


def event_batch_ingest(*, project: Project, batch: list, sent_at: object, facts: RequestFacts) -> BatchResult:
    """Validate and store one batch at once, without the queue (bulk loads and benchmarks)."""
    now = timezone.now()
    checked = batch_check(batch=batch, sent_at=sent_at, now=now)
    rejections = [
        IngestRejection(project=project, index=index, reason=reason, payload=payload)
        for index, reason, payload in checked.rejections
    ]
    per_session = session_facts(project, checked.clean, facts)
    checked.result.person_ids = events_store(
        project=project,
        events=checked.clean,
        sessions=per_session,
        rejections=rejections,
        now=now,
    )
    if checked.result.person_ids:
        # Outside the batch's transaction: every batch from a site updates this one row,
        # and holding its lock until the batch commits serialised them all.
        try:
            _record_source(project.pk, source_host(checked.clean, facts), len(checked.clean), now)
        except DatabaseError:  # the events are stored; the install check's counter can miss a batch
            log.warning("could not count a batch for the install check", exc_info=True)
    return checked.result


def session_facts(project: Project, events: list[CleanEvent], facts: RequestFacts) -> SessionFacts:
    """Device, geography, address, bot verdict and internal network of each session in one request."""
    device = _device_for(events, facts)
    ip = facts.ip if project.ip_handling == "store" else None
    geo_for = _geo_by_session(events, facts)
    is_bot = batch_is_bot(
        user_agent=_user_agent_for(events, facts),
        lib=events[0].properties.get("$lib") if events else None,
        server_side=facts.server_side,
    )
    # matched now, while the address is known: it is not kept unless the project stores IPs
    internal = project_rules(project).network_for(facts.ip)
    return SessionFacts(
        device=dict.fromkeys(geo_for, device),
        geo=geo_for,
        ip=dict.fromkeys(geo_for, ip),
        bot=dict.fromkeys(geo_for, is_bot),
        internal=dict.fromkeys(geo_for, internal),
    )


def events_store(
    *,
    project: Project,
    events: list[CleanEvent],
    sessions: SessionFacts,
    rejections: list[IngestRejection],
    now: datetime,
) -> list[int]:
    """Store checked events and their dead letters in one transaction; returns the touched person ids.

    Retried on a concurrent retry of the same events (unique uuid), a deadlock, or a
    person merged away meanwhile. Inside an outer transaction (the drain's chunk)
    each attempt is a savepoint. `events_ingested` is sent after the commit.
    """
    stored: list[int] = []
    special: list[SpecialEvent] = []
    for attempt in range(3):
        try:
            with transaction.atomic():
                if rejections:
                    IngestRejection.objects.bulk_create(rejections)
                # The first attempt writes optimistically: a uuid stored before (a retried
                # batch) fails the COPY on the unique index, and the next attempt skips it.
                stored, special = (
                    _store(project, events, sessions, now, dedupe=attempt > 0) if events else ([], [])
                )
            break
        except (IntegrityError, OperationalError, persons.PersonsMerged) as error:
            if attempt == 2 or not _retryable(error):
                raise
            log.info("retrying batch for project %s after %s", project.pk, type(error).__name__)
    if stored:
        person_ids = stored
        transaction.on_commit(
            lambda: events_ingested.send(
                sender=Project, project_id=project.pk, person_ids=person_ids, special_events=special
            )
        )
    return stored


def _retryable(error: Exception) -> bool:
    if isinstance(error, persons.PersonsMerged):
        return True
    cause = getattr(error, "__cause__", None)
    name = type(cause).__name__ if cause else ""
    return name in {"UniqueViolation", "DeadlockDetected", "SerializationFailure"}


# Events other apps react to as they arrive (interventions keep exposures current).
SPECIAL_PREFIXES = ("$nudge_", "$survey_", "$flag_called")


def _store(
    project: Project,
    events: list[CleanEvent],
    per_session: SessionFacts,
    now: datetime,
    *,
    dedupe: bool = True,
) -> tuple[list[int], list[SpecialEvent]]:
    """Write one batch's new events and their person/session effects.

    With `dedupe`, events whose uuid is already stored are skipped first; without
    it, such an event makes the COPY fail with a unique violation (retryable).
    Returns the touched person ids and the stored events that other apps react to.
    """
    if dedupe or eventstore.using_clickhouse():  # ClickHouse has no unique index to fail on
        already = eventstore.stored_uuids(project.pk, events)
        if already:
            events = [e for e in events if e.uuid not in already]
    if not events:
        return [], []
    mapping = persons.resolve_persons(project.pk, events)
    persons.apply_groups(project.pk, events, mapping)

    paths = [_url_path(e.url) if e.url else "" for e in events]
    # PostgreSQL: the events first, so rows every other batch also updates (its persons
    # and sessions, the ingest source) are locked only from here to the commit.
    # ClickHouse: the events last, so a failure before it leaves nothing to re-point.
    if not eventstore.using_clickhouse():
        _copy(project, events, mapping, now, paths, dedupe=dedupe)
        if not events:
            return [], []

    persons.update_persons(project.pk, events, mapping)
    sessions.upsert_sessions(project.pk, events, mapping, facts=per_session)
    # After update_persons has locked the persons' rows: a merge locks the person first
    # too, so the day rows are always taken second and batches never wait in a cycle.
    rollup.person_days_add(
        project.pk, project.zone, ((mapping[e.distinct_id], e.timestamp, e.name) for e in events)
    )

    touched = sorted({mapping[e.distinct_id] for e in events})
    if eventstore.using_clickhouse():
        eventstore.events_write(project.pk, events, mapping, now, paths)
    with connection.cursor() as cursor:
        # relies on the unique index person_touch_unique (project_id, person_id)
        cursor.execute(
            "INSERT INTO tracking_persontouch (project_id, person_id, touched_at)"
            " SELECT %s, unnest(%s::bigint[]), %s"
            " ON CONFLICT (project_id, person_id) DO UPDATE SET touched_at = EXCLUDED.touched_at",
            [project.pk, touched, now],
        )
    special = [
        SpecialEvent(e.name, mapping[e.distinct_id], e.distinct_id, e.timestamp, e.properties)
        for e in events
        if e.name.startswith(SPECIAL_PREFIXES)
    ]
    return touched, special


def _copy(
    project: Project,
    events: list[CleanEvent],
    mapping: dict[str, int],
    now: datetime,
    paths: list[str],
    *,
    dedupe: bool,
) -> None:
    if dedupe:
        eventstore.events_write(project.pk, events, mapping, now, paths)
        return
    try:
        # A savepoint: a uuid stored before (a client's retry) costs a second COPY,
        # not the whole batch (or the drain's whole chunk) done again.
        with transaction.atomic():
            eventstore.events_write(project.pk, events, mapping, now, paths)
    except IntegrityError as error:
        if not _retryable(error):
            raise
        already = eventstore.stored_uuids(project.pk, events)
        kept = [i for i, e in enumerate(events) if e.uuid not in already]
        if kept:
            eventstore.events_write(
                project.pk, [events[i] for i in kept], mapping, now, [paths[i] for i in kept]
            )
        events[:] = [events[i] for i in kept]
        paths[:] = [paths[i] for i in kept]


@functools.lru_cache(maxsize=8192)
def _url_path(url: str) -> str:
    # A site's events come from a few hundred pages: a drained chunk splits each once.
    return split_url(url)[1]


def _device_for(events: list[CleanEvent], facts: RequestFacts) -> Device:
    return parse_user_agent(_user_agent_for(events, facts)[:1000])


def _user_agent_for(events: list[CleanEvent], facts: RequestFacts) -> str:
    """The request's user agent: the first event's `$user_agent` property, else the header."""
    ua = facts.user_agent
    for e in events[:1]:
        override = e.properties.get("$user_agent")
        if isinstance(override, str) and override:
            ua = override
    return ua


def _geo_by_session(events: list[CleanEvent], facts: RequestFacts) -> dict[str, Geo]:
    geos: dict[str, Geo] = {}
    for e in events:
        if e.session_key and e.session_key not in geos:
            tz = e.properties.get("$timezone")
            geos[e.session_key] = geolocate(
                ip=facts.ip,
                country_header=facts.country_header,
                timezone_name=tz if isinstance(tz, str) else None,
            )
    return geos


def source_host(events: list[CleanEvent], facts: RequestFacts) -> str:
    """The host a request's events came from, for the install check."""
    return facts.origin_host or next((url_host(e.url) for e in events if e.url), "") or "(no origin)"


def _record_source(project_id: int, host: str, count: int, now: datetime) -> None:
    """Count events per sending host, for the install check on the settings page."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tracking_ingestsource (project_id, host, first_seen, last_seen, event_count)"
            " VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (project_id, host) DO UPDATE"
            " SET last_seen = EXCLUDED.last_seen, event_count = tracking_ingestsource.event_count + EXCLUDED.event_count",
            [project_id, host, now, now, count],
        )


def sources_record(project_id: int, counts: dict[str, int], now: datetime) -> None:
    """`_record_source` for each host of a drained chunk."""
    for host, count in sorted(counts.items()):
        _record_source(project_id, host, count, now)
