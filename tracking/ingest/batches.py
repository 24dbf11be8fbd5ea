"""Event batches in the ingest queue: their encoding, and the drain handler that stores many at once.

A queued batch holds the events as `batch_check` left them (validated, clock
corrected, element chain encoded), so the drain never validates twice:

    {"f": [user agent, ip, country header, origin host, server side],
     "r": [[index, reason, payload], ...],                    dead letters
     "e": [[uuid, name, distinct id, session, timestamp µs, url, element text, href,
            element chain, $set, $set_once, received µs, properties], ...]}

The properties are the bytes validation already serialised, spliced in as they are.
"""

from __future__ import annotations

import uuid as uuidlib
from datetime import UTC, datetime, timedelta

import orjson
from django.utils import timezone

from tracking.ingest.pipeline import RequestFacts, events_store, session_facts, source_host, sources_record
from tracking.ingest.sessions import SessionFacts
from tracking.ingest.validate import CleanEvent
from tracking.models import IngestRejection, Project

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICRO


def _moment(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _safe(text: str) -> str:
    # A dead letter's reason or payload may quote a lone surrogate the sender sent.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def batch_encode(
    *, clean: list[CleanEvent], rejections: list[tuple[int, str, str]], facts: RequestFacts
) -> bytes:
    """The queue payload of one checked batch."""
    received = _micros(clean[0].received_at) if clean and clean[0].received_at else None
    fragment = orjson.Fragment
    document = {
        "f": [facts.user_agent[:1000], facts.ip, facts.country_header, facts.origin_host, facts.server_side],
        "r": rejections,
        "e": [
            [
                str(e.uuid),
                e.name,
                e.distinct_id,
                e.session_key,
                _micros(e.timestamp),
                e.url,
                e.el_text,
                e.href,
                e.elements_chain,
                e.set_props,
                e.set_once_props,
                received,
                fragment(e.properties_json),
            ]
            for e in clean
        ],
    }
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:
        document["r"] = [[index, _safe(reason), _safe(payload)] for index, reason, payload in rejections]
        document["f"] = [_safe(v) if isinstance(v, str) else v for v in document["f"]]
        return orjson.dumps(document)


def batch_decode(payload: bytes, received_at: datetime) -> tuple[list[CleanEvent], list, RequestFacts]:
    """A queued batch back to checked events, dead letters and request facts."""
    document = orjson.loads(payload)
    ua, ip, country, origin, *rest = document["f"]  # server_side came later: older items lack it
    events = [
        CleanEvent(
            index=index,
            uuid=uuidlib.UUID(row[0]),
            name=row[1],
            distinct_id=row[2],
            session_key=row[3],
            timestamp=_moment(row[4]),
            properties=row[12],
            properties_json=orjson.dumps(row[12]),
            url=row[5],
            el_text=row[6],
            href=row[7],
            elements_chain=row[8],
            set_props=row[9],
            set_once_props=row[10],
            received_at=received_at,
        )
        for index, row in enumerate(document["e"])
    ]
    facts = RequestFacts(
        user_agent=ua or "",
        ip=ip,
        country_header=country,
        origin_host=origin or "",
        server_side=bool(rest and rest[0]),
    )
    return events, document["r"], facts


def batches_store(project: Project, items: list) -> None:
    """Drain handler for "batch" items: every batch of the chunk through the pipeline at once.

    Persons, identify merges, groups, sessions and rollups are resolved once for
    the whole chunk, in arrival order, and the events written with one COPY.
    An event sent twice (a client's retry) is stored once.
    """
    events: list[CleanEvent] = []
    rejections: list[IngestRejection] = []
    per_session = SessionFacts()
    hosts: dict[str, int] = {}
    seen: set = set()
    for item in items:
        clean, dead, facts = batch_decode(item.payload, item.received_at)
        rejections.extend(
            IngestRejection(project_id=project.pk, index=index, reason=reason, payload=payload)
            for index, reason, payload in dead
        )
        fresh = [e for e in clean if e.uuid not in seen]
        if not fresh:
            continue
        seen.update(e.uuid for e in fresh)
        per_session.keep_first(session_facts(project, fresh, facts))  # a session keeps its first request's
        host = source_host(fresh, facts)
        hosts[host] = hosts.get(host, 0) + len(fresh)
        events.extend(fresh)
    now = timezone.now()
    stored = events_store(
        project=project,
        events=events,
        sessions=per_session,
        rejections=rejections,
        now=now,
    )
    if stored:
        sources_record(project.pk, hosts, max(item.received_at for item in items))
