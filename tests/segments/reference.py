"""A pure-Python reference evaluator of the segment definition format.

Deliberately naive — loops over every person and every event, brute-forces
sequences — so that it is obviously correct and can judge the SQL compiler.
"""

from __future__ import annotations

import itertools
import re
import uuid as uuidlib
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from tracking.properties import column_filter_match, compare, jsonb_filter_match


@dataclass
class RefEvent:
    name: str
    timestamp: datetime
    properties: dict
    url: str = ""
    el_text: str = ""
    href: str = ""
    elements_chain: str = ""
    uuid: uuidlib.UUID | None = None


@dataclass
class RefSession:
    started_at: datetime
    browser: str = ""
    os: str = ""
    device_type: str = ""
    country: str = ""
    region: str = ""
    city: str = ""
    ended_at: datetime | None = None  # None: when it started
    pageview_count: int = 0
    entry_path: str = ""
    exit_path: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    referrer_domain: str = ""

    @property
    def duration_seconds(self) -> Decimal:
        length = (self.ended_at or self.started_at) - self.started_at
        return Decimal(length.days * 86400 + length.seconds) + Decimal(length.microseconds) / 1_000_000


@dataclass
class RefPerson:
    id: int
    properties: dict
    company: dict | None
    first_seen: datetime
    last_seen: datetime
    events: list[RefEvent] = field(default_factory=list)
    sessions: list[RefSession] = field(default_factory=list)


@dataclass
class World:
    persons: list[RefPerson]
    now: datetime
    tz: zoneinfo.ZoneInfo
    actions: dict[int, list] = field(default_factory=dict)
    segments: dict[int, dict] = field(default_factory=dict)  # id -> definition (dynamic)
    static_members: dict[int, set[int]] = field(default_factory=dict)


def members(definition: dict, world: World) -> set[int]:
    return {p.id for p in world.persons if group(definition, p, world)}


def group(node: dict, person: RefPerson, world: World) -> bool:
    results = [
        group(c, person, world) if "conditions" in c else condition(c, person, world)
        for c in node["conditions"]
    ]
    value = all(results) if node.get("match", "all") == "all" else any(results)
    return not value if node.get("negate") else value


def in_window(moment: datetime, window: dict | None, world: World) -> bool:
    if not window:
        return True
    if "last_days" in window:
        return moment >= world.now - timedelta(days=window["last_days"])
    start = datetime.combine(date.fromisoformat(window["from"]), time.min, tzinfo=world.tz)
    end = datetime.combine(date.fromisoformat(window["to"]), time.min, tzinfo=world.tz) + timedelta(days=1)
    return start <= moment < end


def event_matches(spec: dict, event: RefEvent, world: World) -> bool:
    if "action" in spec:
        from tracking.matching.actions import event_matches as action_matches

        return action_matches(world.actions[spec["action"]], event)
    return event.name == spec["name"] and all(
        jsonb_filter_match(event.properties, f["property"], f["operator"], f["value"])
        for f in spec.get("where", [])
    )


def number(value) -> Decimal | None:
    """JSON numbers, and strings that are plain decimal numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        return Decimal(value)
    return None


def session_matches(flt: dict, session: RefSession) -> bool:
    """Numbers compare as numbers; text as the text columns of device and geo conditions do."""
    value = getattr(session, flt["property"])
    if flt["property"] in ("duration_seconds", "pageview_count"):
        return compare(Decimal(value), flt["operator"], Decimal(str(flt["value"])))
    return column_filter_match(value, flt["operator"], flt["value"])


def did_sequence(steps: list[dict], within_days: int, events: list[RefEvent], world: World) -> bool:
    ordered = sorted(events, key=lambda e: e.timestamp)
    for combo in itertools.combinations(ordered, len(steps)):
        times = [e.timestamp for e in combo]
        if any(b <= a for a, b in itertools.pairwise(times)):
            continue
        if times[-1] - times[0] > timedelta(days=within_days):
            continue
        if all(event_matches(step, e, world) for step, e in zip(steps, combo, strict=True)):
            return True
    return False


def condition(node: dict, person: RefPerson, world: World) -> bool:
    kind = node["type"]
    if kind == "person":
        return jsonb_filter_match(person.properties, node["property"], node["operator"], node["value"])
    if kind == "company":
        return jsonb_filter_match(person.company or {}, node["property"], node["operator"], node["value"])
    if kind in ("device", "geo"):
        return any(
            column_filter_match(getattr(s, node["property"]), node["operator"], node["value"])
            for s in person.sessions
            if in_window(s.started_at, node.get("window"), world)
        )
    if kind == "session":
        count = sum(
            1
            for s in person.sessions
            if in_window(s.started_at, node.get("window"), world)
            and all(session_matches(f, s) for f in node["where"])
        )
        return compare(count, node["count"]["operator"], node["count"]["value"])
    if kind == "behavior":
        count = sum(
            1
            for e in person.events
            if in_window(e.timestamp, node.get("window"), world) and event_matches(node["event"], e, world)
        )
        return compare(count, node["count"]["operator"], node["count"]["value"])
    if kind == "active_days":
        days = {
            e.timestamp.astimezone(world.tz).date()
            for e in person.events
            if in_window(e.timestamp, node["window"], world)
        }
        return compare(len(days), node["count"]["operator"], node["count"]["value"])
    if kind == "aggregate":
        values = [
            number(e.properties.get(node["property"]))
            for e in person.events
            if in_window(e.timestamp, node.get("window"), world) and event_matches(node["event"], e, world)
        ]
        values = [v for v in values if v is not None]
        if not values:
            return False
        result = {"sum": sum, "min": min, "max": max, "avg": lambda vs: sum(vs) / len(vs)}[node["function"]](
            values
        )
        return compare(result, node["operator"], Decimal(str(node["value"])))
    if kind == "sequence":
        events = [e for e in person.events if in_window(e.timestamp, node.get("window"), world)]
        full = did_sequence(node["steps"], node["within_days"], events, world)
        if node["last_step"] == "did":
            return full
        steps = node["steps"][:-1]
        prefix = (
            any(event_matches(steps[0], e, world) for e in events)
            if len(steps) == 1
            else did_sequence(steps, node["within_days"], events, world)
        )
        return prefix and not full
    if kind in ("first_seen", "last_seen"):
        moment = person.first_seen if kind == "first_seen" else person.last_seen
        cutoff = world.now - timedelta(days=node["value"])
        return moment >= cutoff if node["operator"] == "within_last_days" else moment < cutoff
    if kind == "survey":
        answers = [
            e
            for e in person.events
            if e.name == "$survey_response"
            and e.properties.get("$survey") == node["survey"]
            and isinstance(e.properties.get("$answers"), dict)
            and node["question"] in e.properties["$answers"]
        ]
        if not answers:
            return node["operator"] == "is_not_set"
        if node["operator"] == "is_not_set":
            return False
        # ties on the timestamp: the greater uuid (as text), the rule of both event stores
        latest = max(answers, key=lambda e: (e.timestamp, str(e.uuid)))
        return jsonb_filter_match(
            latest.properties["$answers"], node["question"], node["operator"], node["value"]
        )
    if kind in ("first_time", "stopped", "restarted"):
        return lifecycle(node, person, world)
    if kind == "segment":
        if node["segment"] in world.static_members:
            value = person.id in world.static_members[node["segment"]]
        else:
            value = group(world.segments[node["segment"]], person, world)
        return not value if node.get("negate") else value
    raise AssertionError(f"unknown condition {kind}")


def lifecycle(node: dict, person: RefPerson, world: World) -> bool:
    """first_time / stopped / restarted: "did E" in consecutive periods ending now."""
    times = [e.timestamp for e in person.events if event_matches(node["event"], e, world)]

    def did(since: datetime | None, until: datetime | None) -> bool:
        return any((since is None or t >= since) and (until is None or t < until) for t in times)

    if node["type"] == "first_time":
        start = world.now - timedelta(days=node["within_last_days"])
        return did(start, None) and not did(None, start)
    mid = world.now - timedelta(days=node["days"])
    start = mid - timedelta(days=node["days"])
    if node["type"] == "stopped":
        return did(start, mid) and not did(mid, None)
    return did(mid, None) and not did(start, mid) and did(None, start)
