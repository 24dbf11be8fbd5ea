"""PostHog's capture protocol: `/e/`, `/i/v0/e/`, `/capture/`, `/batch/`, `/track/`.

Request shapes the official clients send (all POST, gzip/base64/form bodies
are unwrapped by `compat.body`):

- posthog-js: a JSON array of events (or one event) at `/e/` or `/i/v0/e/`,
  `?compression=gzip-js` (gzip) or `base64` (form `data=`), `?_=<client epoch ms>`;
  each event carries `properties.token` and `properties.distinct_id`.
- posthog-python / posthog-node: `{"api_key", "batch": [events], "sent_at"}` at
  `/batch/`, optionally `Content-Encoding: gzip`; events carry `distinct_id`.
- Older and mobile clients: `{"api_key" | "token", "event", "distinct_id", …}`
  (one event), `{"data": [...]}`, or the `token` in the query string.

Each event becomes one Sightline wire event, in order (so rejections keep their
index); `translate_event` raises `Untranslated` for one that cannot be.
"""

from __future__ import annotations

import math
import time

from django.http import HttpRequest, HttpResponse

from tracking.ingest.accept import batch_accept
from tracking.ingest.compat.body import read_compat_payload
from tracking.ingest.compat.posthog_elements import elements_from_chain, elements_from_posthog
from tracking.ingest.http import error_response, ingest_endpoint, json_response, project_for_key
from tracking.ingest.validate import untranslatable

# Properties that are transport, not data: the key must not be stored with every event.
_TRANSPORT = ("token", "api_key", "distinct_id", "$elements_chain")


class Untranslated(ValueError):
    pass


def _events_of(payload: object) -> tuple[list, object, object]:
    """(events, key from the envelope, sent_at) of any capture shape; ValueError when none fits."""
    if isinstance(payload, list):
        return payload, None, None
    if not isinstance(payload, dict):
        raise ValueError("The body must be a JSON object or array of events.")
    key = payload.get("api_key") or payload.get("token")
    sent_at = payload.get("sent_at")
    for field in ("batch", "data"):
        value = payload.get(field)
        if isinstance(value, list):
            return value, key, sent_at
        if isinstance(value, dict):
            return [value], key, sent_at
    if "event" in payload:
        return [payload], key, sent_at
    raise ValueError("Send an event, a list of events, or {api_key, batch: [events]}.")


def key_of(events: list, envelope_key: object, request: HttpRequest) -> object:
    """The project key: the envelope's, else the query string's, else the first event's."""
    if envelope_key:
        return envelope_key
    for name in ("token", "api_key"):
        if request.GET.get(name):
            return request.GET[name]
    for event in events[:1]:
        if isinstance(event, dict):
            properties = event.get("properties")
            if isinstance(properties, dict) and properties.get("token"):
                return properties["token"]
            return event.get("api_key") or event.get("token")
    return None


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _merge_traits(properties: dict, raw: dict, key: str) -> None:
    top = raw.get(key)
    if top is None:
        return
    if not isinstance(top, dict):
        raise Untranslated(f"{key} must be a JSON object")
    inner = properties.get(key)
    properties[key] = {**top, **inner} if isinstance(inner, dict) else top


def translate_event(raw: object, *, sent_at_ms: float | None = None) -> dict:
    """One PostHog event -> one Sightline wire event (docs/wire-protocol.md)."""
    if not isinstance(raw, dict):
        raise Untranslated("event must be a JSON object")
    properties = raw.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise Untranslated("properties must be a JSON object")
    properties = dict(properties)
    name = raw.get("event")
    if name == "$snapshot":
        raise Untranslated("$snapshot events are recordings: send them to /s/")
    distinct_id = raw.get("distinct_id")
    if distinct_id in (None, ""):
        distinct_id = properties.get("distinct_id", raw.get("$distinct_id"))
    _merge_traits(properties, raw, "$set")
    _merge_traits(properties, raw, "$set_once")

    if name == "$create_alias":
        # alias(previous_id, distinct_id): both ids become one person, as an identify does.
        alias = properties.get("alias")
        if not isinstance(alias, str | int) or isinstance(alias, bool) or str(alias) == "":
            raise Untranslated("$create_alias needs properties.alias")
        properties["$anon_distinct_id"] = str(distinct_id) if distinct_id is not None else None
        distinct_id = str(alias)
        name = "$identify"
    elif name == "$feature_flag_called":
        # Sightline's name for a flag exposure: it keeps the flag's exposures current
        name = "$flag_called"
        properties.setdefault("$flag", properties.get("$feature_flag"))
        properties.setdefault("$flag_response", properties.get("$feature_flag_response"))
    elif name == "$pageleave" or name == "$pageview":
        # posthog-js reports the previous page's time and scroll on the next view or leave
        duration = properties.get("$prev_pageview_duration")
        if name == "$pageleave" and "$time_on_page" not in properties and _finite(duration):
            properties["$time_on_page"] = duration
        scroll = properties.get("$prev_pageview_max_scroll_percentage")
        if name == "$pageleave" and "$scroll_depth" not in properties and _finite(scroll):
            properties["$scroll_depth"] = round(max(0.0, min(1.0, scroll)) * 100)

    if "$elements" in properties:
        try:
            properties["$elements"] = elements_from_posthog(properties["$elements"])
        except ValueError as error:
            raise Untranslated(str(error)) from None
    elif "$elements_chain" in properties:
        try:
            properties["$elements"] = elements_from_chain(properties["$elements_chain"])
        except ValueError as error:
            raise Untranslated(str(error)) from None
    for key in _TRANSPORT:
        properties.pop(key, None)

    timestamp = raw.get("timestamp")
    offset = raw.get("offset")
    if timestamp in (None, "") and _finite(offset):
        base = sent_at_ms if sent_at_ms is not None else time.time() * 1000
        timestamp = base - offset
    event: dict = {"event": name, "distinct_id": distinct_id, "properties": properties}
    if timestamp not in (None, ""):
        event["timestamp"] = timestamp
    if raw.get("uuid") is not None:
        event["uuid"] = raw["uuid"]
    return event


def translate_events(events: list, *, sent_at_ms: float | None = None) -> list[dict]:
    """Every event translated in place of the original; an untranslatable one becomes a rejection."""
    out = []
    for raw in events:
        try:
            out.append(translate_event(raw, sent_at_ms=sent_at_ms))
        except Untranslated as error:
            out.append(untranslatable(str(error), raw))
    return out


def _sent_at(envelope: object, request: HttpRequest) -> tuple[object, float | None]:
    """The client's send time: the body's `sent_at`, else posthog-js's `?_=<epoch ms>`."""
    if envelope:
        return envelope, None
    value = request.GET.get("_", "")
    if value.isdecimal() and len(value) <= 15:
        return int(value), float(value)
    return None, None


@ingest_endpoint
def capture(request: HttpRequest) -> HttpResponse:
    payload = read_compat_payload(request)
    try:
        events, envelope_key, envelope_sent_at = _events_of(payload)
    except ValueError as error:
        return error_response(400, "invalid batch", str(error))
    project = project_for_key(key_of(events, envelope_key, request))
    if project is None:
        return error_response(
            401, "invalid api_key", "Unknown project key: use the project's public key as the api key."
        )
    sent_at, sent_at_ms = _sent_at(envelope_sent_at, request)
    outcome = batch_accept(
        request=request,
        project=project,
        events=translate_events(events, sent_at_ms=sent_at_ms),
        sent_at=sent_at,
    )
    if not outcome.ok:
        return error_response(outcome.status, outcome.error, outcome.detail, outcome.headers)
    return json_response({"status": 1, **outcome.answer()})
