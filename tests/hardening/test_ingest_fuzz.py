"""Anything at all thrown at the public `/i/v1/` endpoints: never a 5xx.

Bodies come from hypothesis and from a table of values known to be hostile:
malformed JSON, invalid UTF-8, lone surrogate escapes, NUL, NaN and Infinity
tokens, absurd nesting, wrong types in every field, huge strings and numbers,
impossible timestamps, gzip flags on bodies that are not gzip, empty bodies,
arrays and scalars where objects belong. A 503 would mean the database is
down, which it is not here, so every answer must be below 500. In a batch,
every rejected event is dead-lettered with its index and reason, and the good
events around it are stored.

The tests are transactional: the pipeline's own transaction is the outermost
one, so its after-commit work (exposures, recording links, segment refresh
requests) runs inside the request, as it does in production.
"""

from __future__ import annotations

import copy
import gzip
import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import Client
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.ingest.conftest import UA_CHROME
from tests.replay import rrweb
from tracking.eventstore import explore
from tracking.models import Event, IngestRejection, Project

pytestmark = pytest.mark.django_db(transaction=True)

SIGHTLINE_ENDPOINTS = ("/i/v1/batch", "/i/v1/decide", "/i/v1/recording")
# The PostHog- and Segment-compatible endpoints (tracking/ingest/compat, interventions and replay)
COMPAT_ENDPOINTS = ("/e/", "/batch/", "/v1/batch", "/v1/track", "/flags/?v=2", "/decide/?v=3", "/s/")
ENDPOINTS = SIGHTLINE_ENDPOINTS + COMPAT_ENDPOINTS
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
# Where a serialised body gets raw bytes that are not UTF-8.
BAD_BYTES_SLOT = "\u2603BAD\u2603"
_RAW_SLOT = "\u2603RAW\u2603"


def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def nested_value(depth: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


@dataclass(frozen=True)
class Raw:
    """JSON text put into a body as it is: what json.dumps cannot write (bad bytes, 10,000 levels)."""

    text: bytes


# --- values -----------------------------------------------------------------

HOSTILE: list[bytes] = [
    b'"\\ud800"', b'"x\\udfffy"', b'"\\udc00\\ud800"', b'"\xff\xfe"', b'"\xed\xa0\x80"', b'"\xc3"', b'"\\u0000"',
    b'"a\\u0000b"', b'"\xc2\xb2"', b'"99999999999999999999"', b"99999999999999999999", b"9223372036854775808",
    b"-9223372036854775809", b"1e400", b"-1e400", b"NaN", b"Infinity", b"-Infinity", b"1.5", b"-1", b"0", b"null",
    b"true", b"false", b'""', b'"   "', b"[]", b"{}", b"[1]", b'{"a": {"b": []}}', b'"NaN"', b'"1e309"',
    b'"2026-02-30T00:00:00"', b'"' + "é".encode() * 70_000 + b'"', nested(300).encode(), nested(1_000).encode(),
    nested(10_000).encode(), ('{"a":' * 1_000 + "1" + "}" * 1_000).encode(),
]  # fmt: skip
# What has broken ingestion before, drawn about as often as everything else together.
notorious = st.sampled_from([
    "\ud800", "x\udfffy", "\x00", "a\x00b", "²", "99999999999999999999", 2**63, -(2**63) - 1, 10**30, float("nan"),
    float("inf"), -float("inf"), "", " ", [], {}, [[]], {"a": {"b": []}}, BAD_BYTES_SLOT, nested_value(300),
    nested_value(300, {}),
])  # fmt: skip
awkward_text = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(categories=["Cs", "Cc", "Cf", "Co", "Nd", "No", "Zs"]), max_size=8),
    st.sampled_from([
        "١٢٣", "\U0001d7d7", "-1", "1e309", "NaN", "null", "true", "[]", "{}", "pk_", "$identify", "\u202e", "\ufeff",
        "<script>alert(1)</script>", "' OR 1=1 --", "%s%s%s", "{0}", "../../etc/passwd",
    ]),
)  # fmt: skip
huge_text = st.integers(min_value=1_000, max_value=120_000).map(lambda n: "é" * n)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 2**31, 2**63 - 1, 1e308, -0.0]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, awkward_text),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(awkward_text, inner, max_size=4),
    max_leaves=10,
)
anything = st.one_of(notorious, json_values, huge_text)
timestamps = st.one_of(
    anything,
    st.datetimes(timezones=st.none() | st.just(UTC)).map(lambda d: d.isoformat()),
    st.integers(min_value=-(10**16), max_value=10**16),
    st.sampled_from([
        "2026-11-29T10:00:00Z", "2026-11-29T10:00:00z", "2026-11-29", "0001-01-01T00:00:00", "9999-12-31T23:59:59.999999+14:00",
        "2026-13-45T99:99:99", "2026-11-29T10:00:00+25:00", "-2026-01-01", "1" * 40, "1" * 41, 1e20, -1e20, 253402300800000,
    ]),
)  # fmt: skip


def _maybe(valid: st.SearchStrategy, wrong: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly right, so that the wrong values elsewhere get past the first checks."""
    return st.one_of(valid, valid, wrong)


# --- fields -----------------------------------------------------------------

SPECIAL_EVENTS = [
    "$pageview", "$pageleave", "$autocapture", "$rageclick", "$dead_click", "$identify", "$groupidentify",
    "$survey_response", "$survey_shown", "$survey_dismissed", "$survey_held_out", "$nudge_shown", "$nudge_clicked",
    "$nudge_dismissed", "$nudge_held_out", "$flag_called",
]  # fmt: skip
SPECIAL_PROPERTIES = [
    "$elements", "$set", "$set_once", "$anon_distinct_id", "$group_key", "$group_set", "$survey", "$survey_id",
    "$answers", "$nudge_id", "$flag", "$flag_response", "$current_url", "$pathname", "$referrer", "$timezone",
    "$user_agent", "$session_id", "$time_on_page", "$scroll_depth", "$event_type", "$timestamp_clamped",
]  # fmt: skip
# The event a property means something to.
PROPERTY_EVENTS = {
    "$anon_distinct_id": "$identify", "$group_key": "$groupidentify", "$group_set": "$groupidentify",
    "$survey": "$survey_response", "$survey_id": "$survey_response", "$answers": "$survey_response",
    "$nudge_id": "$nudge_shown", "$flag": "$flag_called", "$flag_response": "$flag_called",
    "$elements": "$autocapture", "$event_type": "$autocapture",
}  # fmt: skip
EVENT_FIELDS: list[tuple] = [
    (), ("uuid",), ("event",), ("distinct_id",), ("timestamp",), ("session_id",), ("properties",),
    *[("properties", key) for key in SPECIAL_PROPERTIES], ("properties", "plain"),
    ("properties", "$elements", 0), ("properties", "$elements", 0, "tag"), ("properties", "$elements", 0, "id"),
    ("properties", "$elements", 0, "attrs"), ("properties", "$elements", 0, "attrs", "href"),
    ("properties", "$elements", 0, "classes"), ("properties", "$elements", 0, "classes", 0),
    ("properties", "$elements", 0, "text"), ("properties", "$elements", 0, "nth_child"),
    ("properties", "$set", "plan"), ("properties", "$set_once", "plan"), ("properties", "$answers", "score"),
    ("properties", "$group_set", "name"),
]  # fmt: skip
_H1 = ("events", 1, "data", "node", "childNodes", 1, "childNodes", 1, "childNodes", 0)
FIELDS: dict[str, list[tuple]] = {
    "/i/v1/batch": [("api_key",), ("sent_at",), ("batch",), *[("batch", 0, *field) for field in EVENT_FIELDS]],
    "/i/v1/decide": [("api_key",), ("distinct_id",), ("session_id",)],
    "/i/v1/recording": [
        ("api_key",), ("session_id",), ("distinct_id",), ("seq",), ("sent_at",), ("events",), ("events", 0),
        ("events", 0, "type"), ("events", 0, "timestamp"), ("events", 0, "data"), ("events", 0, "data", "href"),
        ("events", 1, "data", "node"), ("events", 1, "data", "node", "childNodes"), (*_H1, "attributes"),
        (*_H1, "tagName"), (*_H1, "childNodes"), (*_H1, "id"), ("events", 2, "data", "x"), ("events", 2, "data", "source"),
        ("events", 2, "data", "type"), ("events", 3, "data", "tag"), ("events", 3, "data", "payload"),
        ("events", 3, "data", "payload", "href"), ("events", 4, "data", "adds"), ("events", 4, "data", "attributes"),
    ],
    "/e/": [
        (0,), (0, "event"), (0, "uuid"), (0, "timestamp"), (0, "offset"), (0, "$set"), (0, "$set_once"), (0, "properties"),
        (0, "properties", "token"), (0, "properties", "distinct_id"), (0, "properties", "$elements"),
        (0, "properties", "$elements", 0), (0, "properties", "$elements", 0, "tag_name"),
        (0, "properties", "$elements", 0, "attr__id"), (0, "properties", "$elements", 0, "classes"),
        (0, "properties", "$elements", 0, "nth_child"), (0, "properties", "$elements_chain"),
        (0, "properties", "$groups"), (0, "properties", "$prev_pageview_max_scroll_percentage"),
    ],
    "/batch/": [("api_key",), ("sent_at",), ("batch",), ("data",)],
    "/v1/batch": [("writeKey",), ("sentAt",), ("batch",), ("context",)],
    "/v1/track": [
        ("writeKey",), ("event",), ("userId",), ("anonymousId",), ("messageId",), ("timestamp",), ("properties",),
        ("context",), ("context", "page"), ("context", "page", "url"), ("context", "groupId"), ("context", "library"),
        ("integrations",),
    ],
    "/flags/?v=2": [("token",), ("distinct_id",), ("groups",), ("person_properties",)],
    "/decide/?v=3": [("api_key",), ("distinct_id",)],
    "/s/": [
        (0,), (0, "event"), (0, "properties"), (0, "properties", "token"), (0, "properties", "$session_id"),
        (0, "properties", "distinct_id"), (0, "properties", "$snapshot_data"), (0, "properties", "$snapshot_data", 0),
        (0, "properties", "$snapshot_data", 1, "data"), (0, "properties", "$snapshot_data", 1, "cv"),
        (0, "properties", "$snapshot_data", 2, "data", "adds"),
    ],
}  # fmt: skip
_chunks = itertools.count()


def base_event(field: tuple = ()) -> dict:
    """A good event of the kind the field matters to."""
    name = PROPERTY_EVENTS.get(field[1], "$pageview") if len(field) > 1 else "$pageview"
    return {
        "uuid": str(uuid.uuid4()), "event": name, "distinct_id": "fuzz-1", "session_id": "fuzz-session",
        "timestamp": datetime.now(UTC).isoformat(),
        "properties": {
            "$current_url": "https://shop.test/pricing", "$event_type": "click", "$anon_distinct_id": "fuzz-anon",
            "$elements": [{"tag": "button", "attrs": {"href": "/buy"}, "classes": ["cta"], "text": "Buy", "nth_child": 1}],
            "$set": {"plan": "pro"}, "$set_once": {"plan": "free"}, "$group_key": "fuzz-co", "$group_set": {"name": "Co"},
            "$survey": "nps", "$answers": {"score": 9}, "$nudge_id": 1, "$flag": "new-nav", "$timezone": "Europe/Paris",
        },
    }  # fmt: skip


def good_event() -> dict:
    return {**base_event(), "distinct_id": "good-1", "session_id": "good-session"}


def base_payload(endpoint: str, field: tuple, project: Project) -> dict:
    """A body the endpoint accepts, made for `field` to be spoilt."""
    now = datetime.now(UTC)
    if endpoint == "/i/v1/batch":
        event = base_event(field[2:]) if field[:1] == ("batch",) and len(field) > 2 else good_event()
        return {"api_key": project.public_key, "sent_at": now.isoformat(), "batch": [event]}
    if endpoint == "/i/v1/decide":
        return {
            "api_key": project.public_key,
            "distinct_id": "fuzz-1",
            "session_id": sampled_session(project),
        }
    if endpoint in COMPAT_ENDPOINTS:
        return compat_payload(endpoint, field, project)
    t = rrweb.now_ms()
    h1 = rrweb.element("h1", {"class": "title"}, [rrweb.text("Hello")])
    events = [
        rrweb.meta(t), rrweb.full_snapshot(t + 1, h1), rrweb.click(t + 2), rrweb.navigated(t + 3, "https://app.example/next"),
        rrweb.mutation(t + 4, adds=[rrweb.add(1, rrweb.element("p"))], attributes=[{"id": 5, "attributes": {"src": "x"}}]),
    ]  # fmt: skip
    return {"api_key": project.public_key, "session_id": sampled_session(project), "distinct_id": "fuzz-1",
            "seq": next(_chunks), "sent_at": now.isoformat(), "events": events}  # fmt: skip


def compat_payload(endpoint: str, field: tuple, project: Project) -> object:
    """A body a PostHog or Segment client would send to the endpoint."""
    key, now = project.public_key, datetime.now(UTC).isoformat()
    if endpoint == "/e/":
        elements = [{"tag_name": "button", "attr__id": "buy", "classes": ["cta"], "$el_text": "Buy", "nth_child": 1},
                    {"tag_name": "body"}]  # fmt: skip
        return [{
            "uuid": str(uuid.uuid4()), "event": "$autocapture", "timestamp": now, "offset": 10, "$set": {"plan": "pro"},
            "$set_once": {"plan": "free"},
            "properties": {"token": key, "distinct_id": "fuzz-1", "$elements": elements, "$elements_chain": "a:text=\"x\"",
                           "$groups": {"company": "fuzz-co"}, "$prev_pageview_max_scroll_percentage": 0.5},
        }]  # fmt: skip
    if endpoint == "/batch/":
        return {
            "api_key": key,
            "sent_at": now,
            "batch": [{"event": "paid", "distinct_id": "fuzz-1"}],
            "data": [],
        }
    message = {
        "type": "track", "event": "Paid", "userId": "fuzz-1", "anonymousId": "fuzz-anon", "messageId": "m-1",
        "timestamp": now, "properties": {"total": 1}, "integrations": {},
        "context": {"page": {"url": "https://shop.test/"}, "groupId": "fuzz-co", "library": {"name": "x"}},
    }  # fmt: skip
    if endpoint == "/v1/batch":
        return {
            "writeKey": key,
            "sentAt": now,
            "context": {},
            "batch": [message, {**message, "type": "group", "groupId": "co"}],
        }
    if endpoint == "/v1/track":
        return {**message, "writeKey": key}
    if endpoint == "/flags/?v=2":
        return {"token": key, "distinct_id": "fuzz-1", "groups": {}, "person_properties": {}}
    if endpoint == "/decide/?v=3":
        return {"api_key": key, "distinct_id": "fuzz-1"}
    t = rrweb.now_ms()
    snapshot_data = [rrweb.meta(t), rrweb.full_snapshot(t + 1, rrweb.element("input", {"value": "x"})),
                     rrweb.mutation(t + 2, adds=[rrweb.add(1, rrweb.element("p"))])]  # fmt: skip
    return [{"event": "$snapshot", "properties": {
        "token": key, "$session_id": sampled_session(project), "distinct_id": "fuzz-1", "$snapshot_data": snapshot_data,
    }}]  # fmt: skip


def sampled_session(project: Project) -> str:
    """A session id inside the project's recording sample, so recording chunks get past the sample."""
    from replay.sampling import session_sampled

    rate = project.recording_sample_rate
    return next(
        f"fuzz-{n}"
        for n in itertools.count()
        if session_sampled(project_id=project.pk, session_id=f"fuzz-{n}", rate=rate)
    )


# --- bodies -----------------------------------------------------------------


def serialise(payload: object, *, ascii_only: bool = True) -> bytes:
    """JSON as a sloppy client might write it: NaN and Infinity tokens, \\ud800 escapes or raw UTF-8, bad bytes."""
    text = json.dumps(payload, ensure_ascii=ascii_only, allow_nan=True)
    data = text.encode("utf-8", errors="surrogatepass")
    slot = BAD_BYTES_SLOT.encode() if not ascii_only else json.dumps(BAD_BYTES_SLOT)[1:-1].encode()
    return data.replace(slot, b"\xff\xfe\xc3\x28\xed\xa0\x80")


def spoilt(payload: dict, field: tuple, value: object, *, ascii_only: bool = True) -> bytes:
    """The payload with `value` at `field` (a Raw value goes in as its bytes), serialised."""
    payload = copy.deepcopy(payload)
    if not field:
        return value.text if isinstance(value, Raw) else serialise(value, ascii_only=ascii_only)
    target = payload
    for step in field[:-1]:
        target = target[step]
    target[field[-1]] = _RAW_SLOT if isinstance(value, Raw) else value
    body = serialise(payload, ascii_only=ascii_only)
    if isinstance(value, Raw):
        slot = json.dumps(_RAW_SLOT, ensure_ascii=ascii_only).encode()
        body = body.replace(slot, value.text)
    return body


@st.composite
def framings(draw: st.DrawFn) -> dict:
    """How the body travels: content type, and gzip said, done, or both, or neither."""
    return {
        "content_type": draw(st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""])),
        "gzip": draw(st.sampled_from(["none", "header", "query", "header-only", "query-only", "truncated"])),
    }  # fmt: skip


def post(client: Client, path: str, body: bytes, framing: dict | None = None, **headers: str) -> HttpResponse:
    framing = framing or {"content_type": "text/plain", "gzip": "none"}
    query = ""
    mode = framing["gzip"]
    if mode in ("header", "query", "truncated"):
        body = gzip.compress(body)
    if mode == "truncated":
        body = body[: max(1, len(body) // 2)]
    if mode in ("header", "header-only", "truncated"):
        headers["HTTP_CONTENT_ENCODING"] = "gzip"
    if mode in ("query", "query-only"):
        query = ("&" if "?" in path else "?") + "compression=gzip"
    return client.post(
        path + query, data=body, content_type=framing["content_type"], HTTP_USER_AGENT=UA_CHROME, **headers
    )


raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", errors="surrogatepass")),
    st.sampled_from([
        b"", b" ", b"\n\t ", b"null", b"1", b"-1e999", b'"pk_"', b"[]", b"[{}]", b"{}", b"{", b"}", b'{"api_key"',
        b"\xef\xbb\xbf{}", b"\x1f\x8b", b"\x1f\x8b\x08\x00\x00\x00\x00\x00", b"NaN", b"Infinity", b"[NaN]",
        b'{"api_key": "pk_x", "batch": "\\ud800"}', b'{"a": 1, "a": 2}', b"\xff\xfe{\x00}\x00",
        nested(10_000).encode(), ('{"a":' * 10_000 + "1" + "}" * 10_000).encode(), nested(1_100).encode(),
    ]),
)  # fmt: skip


# --- fixtures ---------------------------------------------------------------


@pytest.fixture
def live_project(project: Project, settings, tmp_path) -> Project:
    """A project that records half its sessions, with a flag, a nudge and a survey for decide to weigh."""
    from interventions import services as interventions
    from tracking.ingest.http import forget_project_cache

    settings.MEDIA_ROOT = tmp_path / "media"
    project.ingest_rate_limit = 0  # hundreds of requests in a second
    project.recording_enabled = True
    project.recording_sample_rate = 0.5  # so the sample is hashed from the session id
    project.save()
    forget_project_cache()
    goal = {"event": {"name": "upgraded"}, "within_days": 7}
    interventions.flag_save(
        project=project, data={"key": "new-nav", "rules": [{"rollout": 50}], "goal": goal}
    )
    interventions.nudge_save(
        project=project,
        data={"name": "Upgrade", "title": "Go", "goal": goal, "holdout_percent": 10, "status": "live"},
    )
    question = {"key": "score", "type": "rating", "prompt": "?", "scale": 10}
    interventions.survey_save(
        project=project,
        data={"name": "NPS", "key": "nps", "goal": goal, "questions": [question], "status": "live"},
    )
    return project


def _assert_answered(response: HttpResponse, what: object) -> None:
    assert response.status_code < 500, f"{response.status_code} {response.content[:300]!r} for {what!r}"[
        :2000
    ]


# --- hypothesis ---------------------------------------------------------------


@FUZZ
@given(path=st.sampled_from(ENDPOINTS), body=raw_bodies, framing=framings())
def test_no_body_at_all_makes_an_ingestion_endpoint_fail(live_project, path, body, framing):
    _assert_answered(post(Client(), path, body, framing), (path, body[:200], framing))


@settings(FUZZ, max_examples=150)
@given(data=st.data(), path=st.sampled_from(ENDPOINTS), ascii_only=st.booleans())
def test_no_value_in_any_one_field_makes_an_ingestion_endpoint_fail(live_project, data, path, ascii_only):
    """One field spoilt at a time, the rest right: every check along the way gets its turn."""
    field = data.draw(st.sampled_from(FIELDS[path]), label="field")
    value = data.draw(st.one_of(anything, st.sampled_from(HOSTILE).map(Raw)), label="value")
    body = spoilt(base_payload(path, field, live_project), field, value, ascii_only=ascii_only)
    _assert_answered(post(Client(), path, body), (field, value))


def fuzzed_event() -> st.SearchStrategy:
    elements = st.lists(
        _maybe(st.fixed_dictionaries({}, optional={key: anything for key in (
            "tag", "tag_name", "id", "classes", "nth_child", "nth_of_type", "attrs", "attributes", "text")}), anything),
        max_size=4,
    )  # fmt: skip
    properties = st.dictionaries(
        st.sampled_from(SPECIAL_PROPERTIES) | awkward_text, anything | elements, max_size=6
    )
    return st.fixed_dictionaries(
        {
            "event": _maybe(st.sampled_from(SPECIAL_EVENTS), anything),
            "distinct_id": _maybe(st.sampled_from(["anon-1", "user-1", "user-2"]), anything),
        },
        optional={
            "uuid": _maybe(st.uuids().map(str), anything),
            "timestamp": timestamps,
            "session_id": _maybe(st.sampled_from(["s1", "s2"]), anything),
            "properties": _maybe(properties, anything),
        },
    )


def _rrweb_events() -> st.SearchStrategy:
    data = st.fixed_dictionaries({}, optional={key: anything for key in (
        "source", "type", "id", "x", "y", "href", "node", "adds", "removes", "attributes", "texts", "positions", "tag",
        "payload", "width", "height")})  # fmt: skip
    event = st.fixed_dictionaries(
        {"type": _maybe(st.integers(0, 6), anything), "timestamp": _maybe(st.integers(1_700_000_000_000, 1_900_000_000_000), timestamps)},
        optional={"data": _maybe(data, anything)},
    )  # fmt: skip
    return st.lists(_maybe(event, anything), max_size=5)


def mixed_payloads(key: str) -> dict[str, st.SearchStrategy]:
    """Per endpoint: a body whose fields may all be right, wrong or absurd at once."""
    return {
        "/i/v1/batch": st.fixed_dictionaries(
            {"api_key": st.just(key), "batch": _maybe(st.lists(fuzzed_event(), max_size=6), anything)},
            optional={"sent_at": timestamps},
        ),
        "/i/v1/decide": st.fixed_dictionaries(
            {"api_key": st.just(key), "distinct_id": _maybe(st.just("user-1"), anything)},
            optional={
                "session_id": _maybe(st.just("s1"), anything),
                "$current_url": anything,
                "groups": anything,
            },
        ),
        "/i/v1/recording": st.fixed_dictionaries(
            {
                "api_key": st.just(key),
                "session_id": _maybe(st.sampled_from(["s1", "s2", "s3", "s4"]), anything),
                "distinct_id": _maybe(st.just("user-1"), anything),
                "seq": _maybe(st.integers(0, 2**31 - 1), anything),
                "events": _maybe(_rrweb_events(), anything),
            },
            optional={"sent_at": timestamps},
        ),
        "/e/": st.lists(_maybe(posthog_event(key), anything), max_size=4),
        "/batch/": st.fixed_dictionaries(
            {"api_key": st.just(key), "batch": _maybe(st.lists(posthog_event(None), max_size=4), anything)},
            optional={"sent_at": timestamps},
        ),
        "/v1/batch": st.fixed_dictionaries(
            {"writeKey": st.just(key), "batch": _maybe(st.lists(segment_message(), max_size=4), anything)},
            optional={"sentAt": timestamps, "context": anything},
        ),
        "/v1/track": segment_message().map(lambda m: {**m, "writeKey": key} if isinstance(m, dict) else m),
        "/flags/?v=2": st.fixed_dictionaries(
            {"token": st.just(key), "distinct_id": _maybe(st.just("user-1"), anything)},
            optional={"groups": anything, "person_properties": anything},
        ),
        "/decide/?v=3": st.fixed_dictionaries(
            {"api_key": st.just(key), "distinct_id": _maybe(st.just("user-1"), anything)}
        ),
        "/s/": st.lists(
            st.fixed_dictionaries(
                {
                    "event": _maybe(st.just("$snapshot"), anything),
                    "properties": st.fixed_dictionaries(
                        {
                            "token": st.just(key),
                            "$session_id": _maybe(st.sampled_from(["s1", "s2"]), anything),
                            "distinct_id": _maybe(st.just("user-1"), anything),
                            "$snapshot_data": _maybe(_rrweb_events(), anything),
                        },
                    ),
                }
            ),
            max_size=3,
        ),
    }


def posthog_event(key: str | None) -> st.SearchStrategy:
    """An event as posthog-js or posthog-python sends it, any field possibly wrong."""
    properties = st.fixed_dictionaries(
        {"distinct_id": _maybe(st.sampled_from(["anon-1", "user-1"]), anything)},
        optional={
            "token": st.just(key) if key else anything, "$elements": anything, "$elements_chain": anything | awkward_text,
            "$groups": anything, "alias": anything, "$anon_distinct_id": anything, "$feature_flag": anything,
        },
    )  # fmt: skip
    return st.fixed_dictionaries(
        {"event": _maybe(st.sampled_from(["$pageview", "$autocapture", "$identify", "$create_alias",
                                           "$groupidentify", "$feature_flag_called", "$pageleave", "$snapshot"]), anything)},
        optional={"properties": _maybe(properties, anything), "timestamp": timestamps, "offset": anything,
                  "uuid": _maybe(st.uuids().map(str), anything), "$set": anything, "distinct_id": anything},
    )  # fmt: skip


def segment_message() -> st.SearchStrategy:
    """A Segment message, any field possibly wrong."""
    return _maybe(
        st.fixed_dictionaries(
            {"type": _maybe(st.sampled_from(["track", "identify", "page", "screen", "group", "alias"]), anything)},
            optional={key: anything for key in (
                "userId", "anonymousId", "event", "properties", "traits", "groupId", "previousId", "messageId",
                "timestamp", "context", "name", "category")},
        ),
        anything,
    )  # fmt: skip


@FUZZ
@given(data=st.data(), path=st.sampled_from(ENDPOINTS), ascii_only=st.booleans())
def test_no_mix_of_wrong_fields_makes_an_ingestion_endpoint_fail(live_project, data, path, ascii_only):
    payload = data.draw(mixed_payloads(live_project.public_key)[path], label="payload")
    _assert_answered(post(Client(), path, serialise(payload, ascii_only=ascii_only)), payload)


def _check_batch(
    project: Project, response: HttpResponse, batch_size: int, good: dict[int, dict], what: object
) -> None:
    """Good events stored, every other event either accepted or dead-lettered with its index and reason."""
    assert response.status_code == 200, (what, response.content[:300])
    answer = response.json()
    rejected = {r["index"]: r["error"][:500] for r in answer["rejected"]}
    assert set(good).isdisjoint(rejected), (what, answer)
    assert answer["accepted"] + len(rejected) == batch_size, (what, answer)
    wanted = {uuid.UUID(e["uuid"]) for e in good.values()}
    stored = {e.uuid for e in explore.events_by_uuid(project.pk, list(wanted))}
    assert wanted == stored, what
    dead = set(IngestRejection.objects.filter(project=project).values_list("index", "reason"))
    assert dead == set(rejected.items()), what


@FUZZ
@given(
    fuzzed=st.lists(fuzzed_event(), min_size=1, max_size=5),
    positions=st.lists(st.integers(0, 10), min_size=1, max_size=3),
    ascii_only=st.booleans(),
)
def test_a_batch_stores_its_good_events_and_dead_letters_each_bad_one(
    live_project, fuzzed, positions, ascii_only
):
    IngestRejection.objects.filter(project=live_project).delete()
    batch: list = list(fuzzed)
    good_ones = []
    for position in positions:
        good_ones.append(good_event())
        batch.insert(min(position, len(batch)), good_ones[-1])
    body = serialise({"api_key": live_project.public_key, "batch": batch}, ascii_only=ascii_only)
    assume(
        len(body) <= django_settings.INGEST_MAX_BODY_BYTES
    )  # over it, the whole body is 413 (test_limits.py)
    response = post(Client(), "/i/v1/batch", body)
    _assert_answered(response, batch)
    good = {i: e for i, e in enumerate(batch) if any(e is g for g in good_ones)}
    _check_batch(live_project, response, len(batch), good, batch)


# --- every field, every hostile value ----------------------------------------


def test_no_hostile_value_in_any_event_field_fails_a_batch_or_sinks_its_good_events(
    events_backend, live_project, settings
):
    """Per hostile value, one batch: that value in each field of an event, one event per field, among good ones."""
    # forty events with a 140 kB value each: over the body limit, which test_limits.py covers
    settings.INGEST_MAX_BODY_BYTES = settings.INGEST_MAX_DECOMPRESSED_BYTES = 50_000_000
    client = Client(raise_request_exception=False)

    def batch_of(events: list[bytes]) -> bytes:
        return (
            b'{"api_key": "'
            + live_project.public_key.encode()
            + b'", "batch": ['
            + b", ".join(events)
            + b"]}"
        )

    def event_with(field: tuple, raw: bytes) -> bytes:
        return spoilt({"e": base_event(field)}, ("e", *field), Raw(raw))[len(b'{"e": ') : -1]

    failures = []
    for raw in HOSTILE:
        events = [event_with(field, raw) for field in EVENT_FIELDS]
        good = {}
        for index in (0, len(events) // 2 + 1, len(events) + 2):
            good[index] = good_event()
            events.insert(index, json.dumps(good[index]).encode())
        IngestRejection.objects.filter(project=live_project).delete()
        response = post(client, "/i/v1/batch", batch_of(events))
        if response.status_code >= 500:
            culprits = [
                f
                for f in EVENT_FIELDS
                if post(client, "/i/v1/batch", batch_of([event_with(f, raw)])).status_code >= 500
            ]
            failures.append(f"{raw[:40]!r} in {culprits} -> {response.status_code}")
        elif response.status_code == 400:  # nested past what any parser takes: the body is not JSON at all
            assert raw.startswith((b"[" * 1_000, b'{"a":' * 1_000)), (raw[:40], response.content)
        else:
            _check_batch(live_project, response, len(events), good, raw[:40])
    assert failures == [], "\n".join(failures)


def test_no_hostile_value_in_any_field_fails_an_endpoint(live_project):
    client = Client(raise_request_exception=False)
    failures = []
    for path, fields in FIELDS.items():
        for field in fields:
            if field[:1] == ("batch",) and len(field) > 2:
                continue  # event fields: the test above, many to a batch
            for raw in HOSTILE:
                response = post(
                    client, path, spoilt(base_payload(path, field, live_project), field, Raw(raw))
                )
                if response.status_code >= 500:
                    failures.append(f"{path} {field} = {raw[:40]!r} -> {response.status_code}")
    assert failures == [], "\n".join(failures)


# --- inputs that once answered 500 --------------------------------------------

# These need no real commit: they are plain (faster) database tests; the one whose
# defect ran after commit runs the commit callbacks itself.
regression = pytest.mark.django_db(transaction=False)


def _send(path: str, body: bytes) -> HttpResponse:
    return Client().post(path, data=body, content_type="text/plain", HTTP_USER_AGENT=UA_CHROME)


@regression
@pytest.mark.parametrize("distinct_id", [b'"\\ud800"', b'"a\\u0000b"'])
def test_decide_refuses_a_distinct_id_that_cannot_be_stored(live_project, distinct_id):
    body = b'{"api_key": "%s", "distinct_id": %s}' % (live_project.public_key.encode(), distinct_id)
    response = _send("/i/v1/decide", body)
    assert response.status_code == 400 and response.json()["error"] == "invalid distinct_id"


@regression
def test_decide_samples_by_the_visitor_when_the_session_id_is_a_lone_surrogate(live_project):
    body = (
        b'{"api_key": "%s", "distinct_id": "fuzz-1", "session_id": "\\ud800"}'
        % live_project.public_key.encode()
    )
    response = _send("/i/v1/decide", body)
    without = _send(
        "/i/v1/decide", b'{"api_key": "%s", "distinct_id": "fuzz-1"}' % live_project.public_key.encode()
    )
    assert response.status_code == 200 and response.json()["recording"] == without.json()["recording"]


@regression
@pytest.mark.parametrize("field", ["session_id", "distinct_id"])
def test_a_recording_chunk_with_a_lone_surrogate_identifier_is_400(live_project, field):
    payload = base_payload("/i/v1/recording", (field,), live_project)
    response = _send("/i/v1/recording", spoilt(payload, (field,), Raw(b'"\\ud800"')))
    assert response.status_code == 400 and response.json()["error"] == f"invalid {field}"


@regression
def test_a_recording_keeps_a_page_address_with_nul_without_the_nul(live_project):
    from replay.models import Recording

    payload = base_payload("/i/v1/recording", (), live_project)
    payload["events"][0]["data"]["href"] = "https://app.example/\x00page"
    response = _send("/i/v1/recording", serialise(payload))
    assert response.status_code == 200 and response.json() == {"stored": True}
    recording = Recording.objects.get(project=live_project, session_key=payload["session_id"])
    assert recording.chunks.get().first_href == "https://app.example/page"


@regression
@pytest.mark.parametrize("key", ["source", "type"])
def test_a_recording_whose_interaction_has_a_list_for_a_number_is_stored(live_project, key):
    payload = base_payload("/i/v1/recording", (), live_project)
    payload["events"][2]["data"][key] = [2]
    response = _send("/i/v1/recording", serialise(payload))
    assert response.status_code == 200 and response.json() == {"stored": True}


@regression
@pytest.mark.parametrize("nudge_id", [b'"\xc2\xb2"', b'"99999999999999999999"', b"9223372036854775808"])
def test_an_impossible_nudge_id_records_the_event_and_no_exposure(
    live_project, nudge_id, django_capture_on_commit_callbacks
):
    from interventions.models import Exposure

    event = spoilt(
        {"e": base_event(("properties", "$nudge_id"))}, ("e", "properties", "$nudge_id"), Raw(nudge_id)
    )
    body = b'{"api_key": "%s", "batch": [%s]}' % (
        live_project.public_key.encode(),
        event[len(b'{"e": ') : -1],
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # where exposures are recorded
        response = _send("/i/v1/batch", body)
    assert callbacks
    assert response.status_code == 200 and response.json() == {"accepted": 1, "rejected": []}
    assert Event.objects.filter(project=live_project, name="$nudge_shown").count() == 1
    assert not Exposure.objects.filter(project=live_project).exists()


@regression
def test_nul_in_an_autocaptured_element_is_dropped_not_fatal(live_project):
    event = base_event(("properties", "$elements"))
    event["properties"]["$elements"] = [
        {"tag": "a", "id": "b\x00uy", "attrs": {"href": "/\x00x"}, "text": "B\x00uy"}
    ]
    response = _send("/i/v1/batch", serialise({"api_key": live_project.public_key, "batch": [event]}))
    assert response.status_code == 200 and response.json()["accepted"] == 1
    stored = Event.objects.get(project=live_project, uuid=event["uuid"])
    assert (
        "\x00" not in stored.elements_chain
        and "buy" in stored.elements_chain
        and "Buy" in stored.elements_chain
    )


@regression
def test_an_element_whose_tag_is_nested_a_thousand_deep_is_dropped_not_fatal(live_project):
    event = spoilt({"e": base_event(("properties", "$elements"))}, ("e", "properties", "$elements", 0, "tag"),
                   Raw(nested(1_000).encode()))  # fmt: skip
    body = b'{"api_key": "%s", "batch": [%s]}' % (
        live_project.public_key.encode(),
        event[len(b'{"e": ') : -1],
    )
    response = _send("/i/v1/batch", body)
    assert response.status_code == 200 and response.json() == {"accepted": 1, "rejected": []}


@regression
@pytest.mark.parametrize("event", [nested(1_000), '{"a":' * 1_000 + "1" + "}" * 1_000])
def test_an_event_nested_a_thousand_deep_is_dead_lettered_alone(live_project, event):
    good = good_event()
    body = f'{{"api_key": "{live_project.public_key}", "batch": [{event}, {json.dumps(good)}]}}'
    response = _send("/i/v1/batch", body.encode())
    assert response.status_code == 200
    assert response.json()["accepted"] == 1 and [r["index"] for r in response.json()["rejected"]] == [0]
    assert IngestRejection.objects.get(project=live_project).index == 0
    assert Event.objects.filter(project=live_project, uuid=good["uuid"]).exists()
