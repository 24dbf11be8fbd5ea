"""`POST /i/v1/recording` — see docs/wire-protocol.md ("Recording").

`{"api_key", "session_id", "distinct_id", "seq", "events": [rrweb events], "sent_at"?}`,
gzip-compressed or not, under the same size limits as `/i/v1/batch`. Anything
malformed is answered with a 4xx naming the problem; nothing here answers 500.
A checked chunk is appended to the ingest queue and acknowledged; the drain
stores it (replay.queue).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from replay.queue import KIND_RECORDING, recording_encode
from replay.sampling import session_sampled
from replay.services import UnstorableEvents
from tracking.ingest.accept import opted_out
from tracking.ingest.body import read_json
from tracking.ingest.http import (
    error_response,
    ingest_endpoint,
    json_response,
    origin_allowed,
    project_for_key,
)
from tracking.ingest.pipeline import clock_skew
from tracking.ingest.queue import queue_append
from tracking.ingest.ratelimit import rate_limited
from web.text import is_valid_text

MAX_EVENTS = 20_000
MAX_SEQ = 2**31 - 1
MAX_ID = 200
# Epoch milliseconds from 2000 to 2100: anything else is not a browser clock.
MIN_TIMESTAMP_MS = 946_684_800_000
MAX_TIMESTAMP_MS = 4_102_444_800_000


@dataclass
class ChunkError(Exception):
    status: int
    error: str
    detail: str


@dataclass(frozen=True)
class Chunk:
    session_id: str
    distinct_id: str
    seq: int
    events: list[dict]


def _identifier(payload: dict, name: str) -> str:
    value = payload.get(name)
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_ID
        or "\x00" in value
        or not is_valid_text(value)
    ):
        raise ChunkError(
            400, f"invalid {name}", f"{name} must be a non-empty string of at most {MAX_ID} characters."
        )
    return value.strip()


def _check_event(event: Any, index: int) -> None:
    if not isinstance(event, dict):
        raise ChunkError(400, "invalid event", f"events[{index}] is not an object.")
    kind = event.get("type")
    if isinstance(kind, bool) or not isinstance(kind, int):
        raise ChunkError(
            400, "invalid event", f"events[{index}].type must be an rrweb event type (an integer)."
        )
    timestamp = event.get("timestamp")
    if (
        isinstance(timestamp, bool)
        or not isinstance(timestamp, int | float)
        or not math.isfinite(timestamp)
        or not MIN_TIMESTAMP_MS <= timestamp <= MAX_TIMESTAMP_MS
    ):
        raise ChunkError(400, "invalid event", f"events[{index}].timestamp must be epoch milliseconds.")


def parse_chunk(payload: dict) -> Chunk:
    """The chunk's fields, validated; raises ChunkError (a 4xx) for anything else."""
    session_id = _identifier(payload, "session_id")
    distinct_id = _identifier(payload, "distinct_id")
    seq = payload.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise ChunkError(400, "invalid seq", f"seq must be an integer from 0 to {MAX_SEQ}.")
    events = payload.get("events")
    if not isinstance(events, list) or not events:
        raise ChunkError(400, "invalid events", "events must be a non-empty list of rrweb events.")
    if len(events) > MAX_EVENTS:
        raise ChunkError(413, "too many events", f"Send at most {MAX_EVENTS} events per request.")
    for index, event in enumerate(events):
        _check_event(event, index)
    return Chunk(session_id=session_id, distinct_id=distinct_id, seq=seq, events=events)


@ingest_endpoint
def recording(request: HttpRequest) -> HttpResponse:
    payload = read_json(request)
    if not isinstance(payload, dict):
        return error_response(
            400, "invalid recording", "The body must be a JSON object with api_key and events."
        )
    project = project_for_key(payload.get("api_key"))
    if project is None:
        return error_response(
            401, "invalid api_key", "Unknown project key; copy it from the project's settings."
        )
    if not origin_allowed(project, request):
        return error_response(
            403, "origin not allowed", "Add this site's origin to the project's allowed origins."
        )
    if project.respect_dnt and opted_out(request):
        return json_response({"stored": False, "reason": "do not track"})
    if not project.recording_enabled:
        return error_response(403, "recording disabled", "This project does not record sessions.")
    try:
        chunk = parse_chunk(payload)
    except ChunkError as problem:
        return error_response(problem.status, problem.error, problem.detail)
    if not session_sampled(
        project_id=project.pk, session_id=chunk.session_id, rate=project.recording_sample_rate
    ):
        return error_response(
            403, "session not sampled", "This session is outside the project's recording sample."
        )
    # A chunk counts as one event against the project's rate: it is one request.
    if rate_limited(project_id=project.pk, limit=project.ingest_rate_limit, events=1):
        return error_response(
            429, "rate limited", "Too many requests for this project.", {"Retry-After": "1"}
        )
    now = timezone.now()
    try:
        encoded = recording_encode(
            session_id=chunk.session_id,
            distinct_id=chunk.distinct_id,
            seq=chunk.seq,
            events=chunk.events,
            skew=clock_skew(payload.get("sent_at"), now),
        )
    except UnstorableEvents as problem:
        return error_response(400, "invalid events", str(problem))
    # Stored by the ingest drain (replay.queue): a chunk past the recording's size
    # limit, or a seq stored before, is found there and dead-lettered or skipped.
    queue_append(project_id=project.pk, kind=KIND_RECORDING, events=1, payload=encoded, received_at=now)
    return json_response({"stored": True})
