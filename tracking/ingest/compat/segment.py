"""Segment's HTTP Tracking API: `/v1/track`, `identify`, `page`, `screen`, `group`, `alias`, `batch`.

The write key comes as the HTTP Basic user (`Authorization: Basic base64(key:)`,
what analytics-python, analytics-node and analytics.js send) or as `writeKey`
in the body. analytics.js also posts to the one-letter paths `/v1/t`, `/v1/p`,
`/v1/i`, `/v1/g`, `/v1/a`, `/v1/s` and batches to `/v1/b`.

Mapping onto Sightline's wire events:

- track: the event keeps its name, `properties` are its properties;
- page / screen: `$pageview` / `$screen`, with `$current_url`, `$pathname`,
  `$referrer`, `$title` from the page properties or `context.page`;
- identify: `$identify` (with `$anon_distinct_id` when the anonymous id is
  known) whose `traits` become person traits (`$set`);
- group: `$groupidentify`, `groupId` the company key, `traits` its traits;
- alias: `$identify` joining `previousId` to `userId`.

The distinct id is `userId` when present, else `anonymousId`. A `messageId`
that is not a UUID (analytics.js sends `ajs-next-…`) becomes a stable UUID, so
retries stay idempotent.
"""

from __future__ import annotations

import base64
import binascii
import uuid as uuidlib
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse

from tracking.ingest.accept import batch_accept
from tracking.ingest.compat.body import read_compat_payload
from tracking.ingest.http import error_response, ingest_endpoint, json_response, project_for_key
from tracking.ingest.validate import untranslatable
from web.text import is_valid_text

TYPES = ("track", "identify", "page", "screen", "group", "alias")
SHORT_PATHS = {"t": "track", "i": "identify", "p": "page", "s": "screen", "g": "group", "a": "alias"}
_MESSAGE_NAMESPACE = uuidlib.UUID("6f1c1d52-7b0e-4a53-9e07-2c2f3c1b5d10")


class Untranslated(ValueError):
    pass


def write_key_from_header(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return decoded.partition(":")[0] or None


def _object(message: dict, key: str) -> dict:
    value = message.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Untranslated(f"{key} must be a JSON object")
    return value


def _id(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        return None
    return str(value)


def _event_uuid(message_id: object) -> str | None:
    if not isinstance(message_id, str) or not message_id or not is_valid_text(message_id):
        return None  # the server makes one up: such a message cannot be told apart from its retry
    try:
        return str(uuidlib.UUID(message_id))
    except ValueError:
        return str(uuidlib.uuid5(_MESSAGE_NAMESPACE, message_id[:500]))


def _context_properties(context: dict) -> dict:
    """What Sightline reads from Segment's `context`: page, user agent, time zone, library."""
    properties: dict = {}
    page = context.get("page")
    if isinstance(page, dict):
        _page_properties(properties, page)
    for source, target in (("userAgent", "$user_agent"), ("timezone", "$timezone")):
        if isinstance(context.get(source), str):
            properties[target] = context[source]
    library = context.get("library")
    if isinstance(library, dict) and isinstance(library.get("name"), str):
        properties["$lib"] = library["name"]
        if isinstance(library.get("version"), str):
            properties["$lib_version"] = library["version"]
    return properties


def _page_properties(properties: dict, page: dict) -> None:
    url = page.get("url")
    if isinstance(url, str) and url:
        properties["$current_url"] = url
        properties.setdefault("$pathname", urlsplit(url).path or "/")
    for source, target in (("path", "$pathname"), ("referrer", "$referrer"), ("title", "$title")):
        if isinstance(page.get(source), str) and page[source]:
            properties[target] = page[source]


def translate_message(message: object, *, kind: str | None = None) -> dict:
    """One Segment message -> one Sightline wire event."""
    if not isinstance(message, dict):
        raise Untranslated("message must be a JSON object")
    kind = kind or message.get("type")
    if kind not in TYPES:
        raise Untranslated(f"type must be one of {', '.join(TYPES)}")
    context = _object(message, "context")
    user_id = _id(message.get("userId"))
    anonymous_id = _id(message.get("anonymousId"))
    distinct_id = user_id or anonymous_id
    properties = _context_properties(context)

    if kind == "track":
        name = message.get("event")
        if not isinstance(name, str) or not name.strip():
            raise Untranslated("track needs an event name")
        properties.update(_object(message, "properties"))
    elif kind in ("page", "screen"):
        name = "$pageview" if kind == "page" else "$screen"
        page_props = _object(message, "properties")
        properties.update(page_props)
        _page_properties(properties, page_props)
        if isinstance(message.get("name"), str):
            properties["$screen_name" if kind == "screen" else "$page_name"] = message["name"]
        if isinstance(message.get("category"), str):
            properties["$page_category"] = message["category"]
    elif kind == "identify":
        name = "$identify" if user_id else "$set"
        traits = _object(message, "traits") or _object(context, "traits")
        properties["$set"] = traits
        if user_id and anonymous_id and anonymous_id != user_id:
            properties["$anon_distinct_id"] = anonymous_id
    elif kind == "group":
        group_id = _id(message.get("groupId"))
        if group_id is None:
            raise Untranslated("group needs a groupId")
        name = "$groupidentify"
        properties.update(
            {"$group_type": "company", "$group_key": group_id, "$group_set": _object(message, "traits")}
        )
    else:  # alias
        previous = _id(message.get("previousId"))
        if previous is None or user_id is None:
            raise Untranslated("alias needs previousId and userId")
        name = "$identify"
        properties["$anon_distinct_id"] = previous
    if distinct_id is None:
        raise Untranslated("userId or anonymousId is required")
    group_id = _id(context.get("groupId"))
    if group_id is not None and kind != "group":
        properties.setdefault("$groups", {"company": group_id})

    event: dict = {"event": name, "distinct_id": distinct_id, "properties": properties}
    timestamp = message.get("timestamp") or message.get("originalTimestamp")
    if timestamp not in (None, ""):
        event["timestamp"] = timestamp
    event_uuid = _event_uuid(message.get("messageId"))
    if event_uuid:
        event["uuid"] = event_uuid
    return event


def translate_messages(messages: list, *, kind: str | None = None) -> list[dict]:
    out = []
    for message in messages:
        try:
            out.append(translate_message(message, kind=kind))
        except Untranslated as error:
            out.append(untranslatable(str(error), message))
    return out


def _accept(request: HttpRequest, kind: str | None) -> HttpResponse:
    payload = read_compat_payload(request)
    if not isinstance(payload, dict):
        return error_response(400, "invalid request", "The body must be a JSON object.")
    if kind is None:
        messages = payload.get("batch")
        if not isinstance(messages, list):
            return error_response(400, "invalid batch", "batch must be a list of messages.")
        shared = payload.get("context")
        if isinstance(shared, dict):  # a batch-level context applies to each message without one
            messages = [
                {**m, "context": {**shared, **m.get("context", {})}}
                if isinstance(m, dict) and isinstance(m.get("context", {}), dict)
                else m
                for m in messages
            ]
    else:
        messages = [payload]
    key = write_key_from_header(request) or payload.get("writeKey")
    if key is None and messages and isinstance(messages[0], dict):
        key = messages[0].get("writeKey")
    project = project_for_key(key)
    if project is None:
        return error_response(
            401, "invalid write key", "Unknown write key: use the project's public key as the write key."
        )
    outcome = batch_accept(
        request=request,
        project=project,
        events=translate_messages(messages, kind=kind),
        sent_at=payload.get("sentAt"),
    )
    if not outcome.ok:
        return error_response(outcome.status, outcome.error, outcome.detail, outcome.headers)
    if kind is not None and outcome.rejected:
        # one message per request: its rejection is the request's
        return error_response(400, "invalid message", outcome.rejected[0]["error"])
    return json_response({"success": True, **outcome.answer()})


def endpoint(kind: str | None):
    """The view for one message type (None: `/v1/batch`)."""

    @ingest_endpoint
    def view(request: HttpRequest) -> HttpResponse:
        return _accept(request, kind)

    view.__name__ = f"segment_{kind or 'batch'}"
    view.__qualname__ = view.__name__
    return view
