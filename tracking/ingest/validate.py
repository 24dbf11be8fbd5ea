"""Per-event validation: a bad event is rejected alone, with a reason."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from tracking import elements as chain
from web.text import is_valid_text

MAX_NAME = 200
MAX_DISTINCT_ID = 200
MAX_SESSION_ID = 200
MAX_PROPERTIES_BYTES = 64 * 1024
# `$pathname` is cut to this (at a character boundary): PostgreSQL keeps it in an index
# entry (tracking.Event.pathname), and an entry holds at most 2,704 bytes.
MAX_PATHNAME_BYTES = 1000
FUTURE_TOLERANCE = timedelta(minutes=5)
OLDEST = timedelta(days=366 * 2)

# Properties lifted into columns or person updates, not kept in the properties blob.
_LIFTED = ("$elements", "$set", "$set_once")


class Rejected(ValueError):
    pass


# A compatible endpoint (PostHog, Segment) that cannot translate one event puts
# `{UNTRANSLATABLE: "why", "payload": <the event as sent>}` in its place, so the
# event is rejected and dead-lettered alone, at its own index.
UNTRANSLATABLE = "$untranslatable"


def untranslatable(reason: str, payload: object) -> dict:
    return {UNTRANSLATABLE: reason, "payload": payload}


@dataclass
class CleanEvent:
    index: int
    uuid: uuidlib.UUID
    name: str
    distinct_id: str
    session_key: str
    timestamp: datetime
    properties: dict
    properties_json: bytes = b"{}"
    url: str = ""
    elements: list[dict] = field(default_factory=list)
    elements_chain: str = ""
    set_props: dict | None = None
    set_once_props: dict | None = None
    # The target element's text and link, kept so the drain needs no element list.
    el_text: str = ""
    href: str = ""
    # When the request was acknowledged (the drain stores events later than that).
    received_at: datetime | None = None


def parse_timestamp(value: object) -> datetime | None:
    """ISO 8601 string or epoch milliseconds -> aware datetime; None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Rejected("timestamp must be an ISO 8601 string or epoch milliseconds")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000, tz=_utc())
        except (OverflowError, OSError, ValueError):
            raise Rejected("timestamp is out of range") from None
    if not isinstance(value, str) or len(value) > 40:
        raise Rejected("timestamp must be an ISO 8601 string or epoch milliseconds")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Rejected(f"timestamp {value[:40]!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_utc())
    return parsed


def _utc():
    return UTC


def _unstorable(error: Exception) -> str:
    """Why orjson could not serialise a value, in words for the sender."""
    if "recursion" in str(error).lower():
        return "are nested too deeply (at most 254 levels)"
    return "contain text that is not valid Unicode"


def _check_text(text: str, what: str) -> str:
    if not is_valid_text(text):
        raise Rejected(f"{what} is not valid Unicode (lone surrogate)")
    return text


def _string_id(value: object, what: str, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Rejected(f"{what} must be a string")
    text = str(value).strip()
    if not text:
        raise Rejected(f"{what} is empty")
    if len(text) > limit:
        raise Rejected(f"{what} is longer than {limit} characters")
    if "\x00" in text:
        raise Rejected(f"{what} contains a NUL character")
    return _check_text(text, what)


def _utf8_prefix(text: str, limit: int) -> str:
    """`text` itself when it fits in `limit` bytes of UTF-8, else its longest prefix that does."""
    size = 0
    for i, char in enumerate(text):
        size += 1 if char < "\x80" else len(char.encode("utf-8", "surrogatepass"))
        if size > limit:
            return text[:i]
    return text


def _strip_nul(value: object, depth: int = 0) -> object:
    """PostgreSQL jsonb cannot hold U+0000; drop it rather than the event."""
    if depth > 20:
        raise Rejected("properties are nested too deeply")
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): _strip_nul(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nul(v, depth + 1) for v in value]
    return value


def clean_event(raw: object, *, index: int, now: datetime, skew: timedelta) -> CleanEvent:
    """Validate one wire event; raise Rejected with a reason the client can act on."""
    if not isinstance(raw, dict):
        raise Rejected("event must be a JSON object")
    if UNTRANSLATABLE in raw:
        reason = raw[UNTRANSLATABLE]
        raise Rejected(reason[:500] if isinstance(reason, str) else "event could not be translated")
    name = raw.get("event")
    if not isinstance(name, str) or not name.strip():
        raise Rejected("event must be a non-empty string")
    if len(name) > MAX_NAME:
        raise Rejected(f"event name is longer than {MAX_NAME} characters")
    if "\x00" in name:
        raise Rejected("event name contains a NUL character")
    _check_text(name, "event name")
    distinct_id = _string_id(raw.get("distinct_id"), "distinct_id", MAX_DISTINCT_ID)

    raw_uuid = raw.get("uuid")
    if raw_uuid is None:
        event_uuid = uuidlib.uuid4()
    else:
        try:
            event_uuid = uuidlib.UUID(str(raw_uuid)) if isinstance(raw_uuid, str) else None
        except ValueError:
            event_uuid = None
        if event_uuid is None:
            raise Rejected("uuid must be a UUID string")

    properties = raw.get("properties", {})
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise Rejected("properties must be a JSON object")

    session = raw.get("session_id", properties.get("$session_id"))
    session_key = "" if session in (None, "") else _string_id(session, "session_id", MAX_SESSION_ID)

    timestamp = parse_timestamp(raw.get("timestamp"))
    if timestamp is None:
        timestamp = now
    else:
        try:
            timestamp = timestamp + skew
        except OverflowError:
            raise Rejected("timestamp is out of range") from None
    if timestamp > now + FUTURE_TOLERANCE:
        properties = {**properties, "$timestamp_clamped": True}
        timestamp = now
    if timestamp < now - OLDEST:
        raise Rejected("timestamp is more than two years in the past")

    elements: list[dict] = []
    if "$elements" in properties:
        try:
            elements = chain.normalize(properties["$elements"])
        except ValueError as error:
            raise Rejected(str(error)) from None
    set_props = properties.get("$set")
    set_once_props = properties.get("$set_once")
    for key, value in (("$set", set_props), ("$set_once", set_once_props)):
        if value is not None and not isinstance(value, dict):
            raise Rejected(f"{key} must be a JSON object")
        if value:
            try:
                orjson.dumps(value)
            except (TypeError, orjson.JSONEncodeError) as error:
                raise Rejected(f"{key} {_unstorable(error)}") from None
    if any(key in properties for key in _LIFTED):
        properties = {k: v for k, v in properties.items() if k not in _LIFTED}

    pathname = properties.get("$pathname")
    if isinstance(pathname, dict | list):
        raise Rejected("$pathname must be a string")
    if isinstance(pathname, str) and len(pathname) * 4 > MAX_PATHNAME_BYTES:
        cut = _utf8_prefix(pathname, MAX_PATHNAME_BYTES)
        if cut is not pathname:
            properties = {**properties, "$pathname": cut}

    try:
        blob = orjson.dumps(properties)
    except (TypeError, orjson.JSONEncodeError) as error:
        # lone surrogates, absurd nesting: not storable in PostgreSQL, reject this event only
        raise Rejected(f"properties {_unstorable(error)}") from None
    if b"\\u0000" in blob:
        properties = _strip_nul(properties)
        blob = orjson.dumps(properties)
    if len(blob) > MAX_PROPERTIES_BYTES:
        raise Rejected(f"properties exceed {MAX_PROPERTIES_BYTES} bytes")

    url = properties.get("$current_url") or ""
    url = _check_text(url, "$current_url")[:2000] if isinstance(url, str) else ""
    elements_chain = _check_text(chain.encode(elements), "$elements") if elements else ""
    return CleanEvent(
        index=index,
        uuid=event_uuid,
        name=name,
        distinct_id=distinct_id,
        session_key=session_key,
        timestamp=timestamp,
        properties=properties,
        properties_json=blob,
        url=url,
        elements=elements,
        elements_chain=elements_chain,
        el_text=chain.target_text(elements) if elements else "",
        href=chain.target_href(elements) if elements else "",
        set_props=_strip_nul(set_props) if set_props else None,
        set_once_props=_strip_nul(set_once_props) if set_once_props else None,
    )
