"""posthog-js session recordings: `POST /s/`, and the remote config that turns them on.

posthog-js first reads its remote config (`GET /array/<token>/config`, or the
script form `config.js`); when it has a `sessionRecording` object the recorder
starts and posts `$snapshot` events to `/s/` (gzip-js compressed):

    [{"event": "$snapshot", "properties": {"$snapshot_data": [rrweb events], "$session_id": "…",
      "$window_id": "…", "distinct_id": "…", "token": "pk_…"}}]

Each request becomes one chunk per session, stored like a `/i/v1/recording` chunk
(sanitised, with the same checks and limits) so it plays in Sightline's viewer.
posthog-js gzips the bulky parts of some rrweb events (marked `"cv": "2024-10"`);
they are expanded here under the decompression limit. Inputs are masked on the
server as well: typed text and `value` attributes become asterisks (all inputs
when the project masks inputs, which is the default; password fields always).

A chunk's `seq` is its first event's offset in milliseconds from the session's
start (posthog-js session ids are UUIDv7, which carry that time), so a retried
request is stored once and chunks keep their order.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from replay.ingest import MAX_SEQ, ChunkError, parse_chunk
from replay.queue import KIND_RECORDING, recording_encode
from replay.sampling import session_sampled
from replay.services import UnstorableEvents
from tracking.ingest.accept import opted_out
from tracking.ingest.body import BodyError, decompress
from tracking.ingest.compat.body import read_compat_payload
from tracking.ingest.compat.posthog import key_of
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
from tracking.models import Project

COMPRESSED_VERSION = "2024-10"
_MASKED_TAGS = {"input", "textarea", "select"}
_EPOCH_2024_MS = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)


# --- posthog-js's event compression -----------------------------------------------


def _inflate(value: object) -> object:
    """A latin-1 string of gzip bytes (posthog-js's compressed field) -> its JSON value."""
    if not isinstance(value, str):
        return value
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raise ChunkError(400, "invalid events", "A compressed rrweb field is not a byte string.") from None
    try:
        return orjson.loads(decompress(raw))
    except BodyError as error:
        raise ChunkError(error.status, "invalid events", error.detail or error.error) from None
    except orjson.JSONDecodeError:
        raise ChunkError(400, "invalid events", "A compressed rrweb field is not JSON.") from None


def uncompress_event(event: object) -> object:
    if not isinstance(event, dict) or event.get("cv") != COMPRESSED_VERSION:
        return event
    event = {k: v for k, v in event.items() if k != "cv"}
    data = event.get("data")
    if event.get("type") == 2:
        event["data"] = _inflate(data)
    elif event.get("type") == 3 and isinstance(data, dict):
        fields = (
            ("texts", "attributes", "removes", "adds") if data.get("source") == 0 else ("adds", "removes")
        )
        event["data"] = {**data, **{f: _inflate(data[f]) for f in fields if f in data}}
    return event


# --- masking -------------------------------------------------------------------------


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _stars(value: object) -> object:
    return "*" * min(len(value), 100) if isinstance(value, str) else value


class _Masker:
    """Masks typed text in one session's chunk; remembers which node ids are inputs, and passwords."""

    def __init__(self, *, all_inputs: bool) -> None:
        self.all_inputs = all_inputs
        self.inputs: set[int | str] = set()
        self.passwords: set[int | str] = set()

    def _masks(self, node_id: object) -> bool:
        if not isinstance(node_id, int | str):
            return False
        return node_id in self.passwords or (self.all_inputs and node_id in self.inputs)

    def node(self, node: object, depth: int = 0, inside_textarea: bool = False) -> None:
        if not isinstance(node, dict) or depth > 500:
            return
        if inside_textarea and node.get("type") == 3 and self.all_inputs:  # the textarea's text
            node["textContent"] = _stars(node.get("textContent"))
        tag = node.get("tagName")
        tag = tag.lower() if isinstance(tag, str) else ""
        attributes = node.get("attributes")
        attributes = attributes if isinstance(attributes, dict) else {}
        node_id = node.get("id")
        if tag in _MASKED_TAGS and isinstance(node_id, int | str):
            self.inputs.add(node_id)
            kind = attributes.get("type")
            if isinstance(kind, str) and kind.lower() == "password":
                self.passwords.add(node_id)
            if "value" in attributes and self._masks(node_id):
                attributes["value"] = _stars(attributes["value"])
        for child in _list(node.get("childNodes")):
            self.node(child, depth + 1, inside_textarea or tag == "textarea")

    def event(self, event: dict) -> None:
        data = event.get("data")
        if not isinstance(data, dict):
            return
        if event.get("type") == 2:
            self.node(data.get("node"))
        elif event.get("type") == 3 and data.get("source") == 0:
            for add in _list(data.get("adds")):
                if isinstance(add, dict):
                    self.node(add.get("node"))
            for change in _list(data.get("attributes")):
                if isinstance(change, dict) and isinstance(change.get("attributes"), dict):
                    attrs = change["attributes"]
                    if "value" in attrs and (self.all_inputs or self._masks(change.get("id"))):
                        attrs["value"] = _stars(attrs["value"])
            for text in _list(data.get("texts")):
                if isinstance(text, dict) and self._masks(text.get("id")):
                    text["value"] = _stars(text.get("value"))
        elif event.get("type") == 3 and data.get("source") == 5:  # Input
            if self.all_inputs or self._masks(data.get("id")):
                data["text"] = _stars(data.get("text"))


def mask_inputs(events: list, *, all_inputs: bool) -> list:
    masker = _Masker(all_inputs=all_inputs)
    for event in events:
        if isinstance(event, dict):
            masker.event(event)
    return events


# --- chunks --------------------------------------------------------------------------


def _session_start_ms(session_id: str) -> int:
    try:
        parsed = uuid.UUID(session_id)
    except ValueError:
        return _EPOCH_2024_MS
    if parsed.version != 7:
        return _EPOCH_2024_MS
    return parsed.int >> 80


def chunk_seq(session_id: str, events: list) -> int:
    """The first event's offset from the session's start, in ms (deciseconds since 2024 without a UUIDv7)."""
    stamps = [
        e["timestamp"]
        for e in events
        if isinstance(e, dict)
        and isinstance(e.get("timestamp"), int | float)
        and not isinstance(e["timestamp"], bool)
        and math.isfinite(e["timestamp"])
    ]
    first = int(min(stamps)) if stamps else 0
    start = _session_start_ms(session_id)
    offset = first - start
    if start == _EPOCH_2024_MS:
        offset //= 100
    return max(0, min(MAX_SEQ, offset))


def chunks_of(payload: object) -> list[dict]:
    """`$snapshot` events -> one `/i/v1/recording`-shaped chunk per session, in order of arrival."""
    if isinstance(payload, dict):
        payload = payload.get("batch", payload.get("data", [payload]))
    if not isinstance(payload, list) or not payload:
        raise ChunkError(400, "invalid recording", "Send a list of $snapshot events.")
    sessions: dict[str, dict] = {}
    for index, item in enumerate(payload[:1000]):
        properties = item.get("properties") if isinstance(item, dict) else None
        if not isinstance(properties, dict) or item.get("event") != "$snapshot":
            raise ChunkError(400, "invalid recording", f"[{index}] is not a $snapshot event with properties.")
        data = properties.get("$snapshot_data")
        data = data if isinstance(data, list) else [data]
        session_id = properties.get("$session_id")
        distinct_id = properties.get("distinct_id", item.get("distinct_id"))
        key = session_id if isinstance(session_id, str) else ""
        chunk = sessions.setdefault(key, {"session_id": session_id, "distinct_id": distinct_id, "events": []})
        chunk["events"].extend(uncompress_event(event) for event in data)
    for chunk in sessions.values():
        if isinstance(chunk["session_id"], str):
            chunk["seq"] = chunk_seq(chunk["session_id"], chunk["events"])
    return list(sessions.values())


@ingest_endpoint
def snapshots(request: HttpRequest) -> HttpResponse:
    payload = read_compat_payload(request)
    events = payload if isinstance(payload, list) else [payload]
    envelope_key = payload.get("api_key") or payload.get("token") if isinstance(payload, dict) else None
    project = project_for_key(key_of(events, envelope_key, request))
    if project is None:
        return error_response(
            401, "invalid api_key", "Unknown project key: use the project's public key as the api key."
        )
    if not origin_allowed(project, request):
        return error_response(
            403, "origin not allowed", "Add this site's origin to the project's allowed origins."
        )
    if project.respect_dnt and opted_out(request):
        return json_response({"status": 1, "stored": False, "reason": "do not track"})
    if not project.recording_enabled:
        return error_response(403, "recording disabled", "This project does not record sessions.")
    try:
        chunks = [parse_chunk(chunk) for chunk in chunks_of(payload)]
    except ChunkError as problem:
        return error_response(problem.status, problem.error, problem.detail)
    value = request.GET.get("_", "")
    now = timezone.now()
    skew = clock_skew(int(value) if value.isdecimal() and len(value) <= 15 else None, now)
    queued = []
    for chunk in chunks:
        if not session_sampled(
            project_id=project.pk, session_id=chunk.session_id, rate=project.recording_sample_rate
        ):
            return error_response(
                403, "session not sampled", "This session is outside the project's recording sample."
            )
        if rate_limited(project_id=project.pk, limit=project.ingest_rate_limit, events=1):
            return error_response(
                429, "rate limited", "Too many requests for this project.", {"Retry-After": "1"}
            )
        try:
            queued.append(
                recording_encode(
                    session_id=chunk.session_id,
                    distinct_id=chunk.distinct_id,
                    seq=chunk.seq,
                    events=mask_inputs(chunk.events, all_inputs=project.recording_mask_inputs),
                    skew=skew,
                )
            )
        except UnstorableEvents as problem:
            return error_response(400, "invalid events", str(problem))
    # Stored by the ingest drain (replay.queue), as /i/v1/recording's chunks are: a chunk
    # past the recording's size limit, or a seq stored before, is found there.
    for encoded in queued:
        queue_append(project_id=project.pk, kind=KIND_RECORDING, events=1, payload=encoded, received_at=now)
    return json_response({"status": 1, "accepted": len(queued)})


# --- remote config ---------------------------------------------------------------------


def remote_config(project: Project) -> dict:
    """What posthog-js reads at start: compression, endpoints, and whether to record (and how to mask)."""
    recording: dict | bool = False
    if project.recording_enabled:
        recording = {
            "endpoint": "/s/",
            "recorderVersion": "v2",
            "consoleLogRecordingEnabled": False,
            # the sample is decided per session on the server (replay.sampling)
            "sampleRate": None,
            "minimumDurationMilliseconds": None,
            "linkedFlag": None,
            "networkPayloadCapture": None,
            "urlTriggers": [],
            "urlBlocklist": [],
            "eventTriggers": [],
            "masking": {
                "maskAllInputs": project.recording_mask_inputs,
                "maskTextSelector": "*" if project.recording_mask_all_text else None,
            },
        }
    return {
        "token": project.public_key,
        "supportedCompression": ["gzip", "gzip-js"],
        "hasFeatureFlags": True,
        "analytics": {"endpoint": "/e/"},
        "autocapture_opt_out": False,
        "elementsChainAsString": False,
        "capturePerformance": False,
        "autocaptureExceptions": False,
        "captureDeadClicks": False,
        "heatmaps": False,
        "surveys": False,
        "productTours": False,
        "defaultIdentifiedOnly": True,
        "siteApps": [],
        "sessionRecording": recording,
    }


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def config(request: HttpRequest, token: str) -> HttpResponse:
    project = project_for_key(token)
    if project is None:
        return _cors(error_response(404, "unknown token", "No project has this public key."))
    return _cors(json_response(remote_config(project)))


@require_GET
def config_script(request: HttpRequest, token: str) -> HttpResponse:
    """The script form posthog-js loads first: it leaves the config where posthog-js looks for it."""
    project = project_for_key(token)
    if project is None:
        return _cors(HttpResponse("", status=404, content_type="text/javascript"))
    key = orjson.dumps(project.public_key).decode()
    body = orjson.dumps({"config": remote_config(project), "siteApps": []}).decode()
    script = f"(window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{{}})[{key}]={body};"
    return _cors(HttpResponse(script, content_type="text/javascript; charset=utf-8"))
