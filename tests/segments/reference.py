"""A pure-Python reference evaluator of the segment definition format.

Deliberately naive — loops over every person and every event, brute-forces
sequences — so that it is obviously correct and can judge the SQL compiler.

As of a moment T (`members(…, at=T)`): persons exist once first seen by T;
only events, sessions and survey answers at or before T count; windows end at
T ("last N days" is [T - N×24 h, T], whatever the time zone); last seen is the
latest event at or before T; a trait is the latest `$set` at or before T, else
the earliest `$set_once`, else not set, and its current value when it has no
history at all; a static segment holds whom its periods held at T.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import uuid as uuidlib
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
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
class RefTrait:
    """One trait write, in the order it was stored (the order of the rows' ids)."""

    key: str
    value: object
    at: datetime
    once: bool = False


@dataclass
class RefPerson:
    id: int
    properties: dict
    company: dict | None
    first_seen: datetime
    last_seen: datetime
    events: list[RefEvent] = field(default_factory=list)
    sessions: list[RefSession] = field(default_factory=list)
    traits: list[RefTrait] = field(default_factory=list)
    company_traits: list[RefTrait] = field(default_factory=list)  # its company's history
    company_id: int | None = None


@dataclass
class RefCompany:
    id: int
    properties: dict
    traits: list[RefTrait] = field(default_factory=list)


@dataclass
class World:
    persons: list[RefPerson]
    now: datetime
    tz: zoneinfo.ZoneInfo
    actions: dict[int, list] = field(default_factory=dict)
    segments: dict[int, dict] = field(default_factory=dict)  # id -> definition (dynamic)
    static_members: dict[int, set[int]] = field(default_factory=dict)
    # static segment id -> periods (person id, entered, exited or None), read as of a moment
    static_periods: dict[int, list[tuple[int, datetime, datetime | None]]] = field(default_factory=dict)
    as_of: bool = False  # evaluated as of `now`
    companies: list[RefCompany] = field(default_factory=list)
    company_segments: dict[int, dict] = field(default_factory=dict)  # id -> definition (dynamic)


def members(definition: dict, world: World, at: datetime | None = None) -> set[int]:
    """Who matches now (`at` None), or as the stored history stood at `at`."""
    if at is not None:
        world = dataclasses.replace(world, now=at.astimezone(UTC), as_of=True)
    return {
        p.id
        for p in world.persons
        if (not world.as_of or p.first_seen <= world.now) and group(definition, p, world)
    }


def company_members(definition: dict, world: World, at: datetime | None = None) -> set[int]:
    """The companies a company definition holds now, or as of `at`."""
    if at is not None:
        world = dataclasses.replace(world, now=at.astimezone(UTC), as_of=True)
    return {c.id for c in world.companies if company_group(definition, c, world)}


def company_group(node: dict, company: RefCompany, world: World) -> bool:
    results = [
        company_group(c, company, world) if "conditions" in c else company_condition(c, company, world)
        for c in node["conditions"]
    ]
    value = all(results) if node.get("match", "all") == "all" else any(results)
    return not value if node.get("negate") else value


def people_of(company: RefCompany, world: World) -> list[RefPerson]:
    return [
        p
        for p in world.persons
        if p.company_id == company.id and (not world.as_of or p.first_seen <= world.now)
    ]


def company_condition(node: dict, company: RefCompany, world: World) -> bool:
    kind = node["type"]
    if kind == "company":
        props = trait(company.traits, company.properties, node["property"], world)
        return jsonb_filter_match(props, node["property"], node["operator"], node["value"])
    if kind == "people":
        count = sum(1 for p in people_of(company, world) if group(node["definition"], p, world))
        return compare(count, node["count"]["operator"], node["count"]["value"])
    if kind == "aggregate":
        # every event of the company's people, whoever was first seen when
        values = [
            number(e.properties.get(node["property"]))
            for p in world.persons
            if p.company_id == company.id
            for e in events_of(p, world)
            if in_window(e.timestamp, node.get("window"), world) and event_matches(node["event"], e, world)
        ]
        return _aggregate(node, [v for v in values if v is not None])
    if kind == "segment":
        value = company_group(world.company_segments[node["segment"]], company, world)
        return not value if node.get("negate") else value
    raise AssertionError(f"unknown company condition {kind}")


def _aggregate(node: dict, values: list[Decimal]) -> bool:
    if not values:
        return False
    result = {"sum": sum, "min": min, "max": max, "avg": lambda vs: sum(vs) / len(vs)}[node["function"]](
        values
    )
    return compare(result, node["operator"], Decimal(str(node["value"])))


def events_of(person: RefPerson, world: World) -> list[RefEvent]:
    return [e for e in person.events if not world.as_of or e.timestamp <= world.now]


def sessions_of(person: RefPerson, world: World) -> list[RefSession]:
    return [s for s in person.sessions if not world.as_of or s.started_at <= world.now]


def trait(history: list[RefTrait], current: dict, key: str, world: World) -> dict:
    """The traits to test `key` on: the current ones, or as of the moment by the history."""
    rows = [(i, t) for i, t in enumerate(history) if t.key == key]
    if not world.as_of or not rows:
        return current
    past = [(i, t) for i, t in rows if t.at <= world.now]
    sets = [(i, t) for i, t in past if not t.once]
    if sets:
        _, chosen = max(sets, key=lambda it: (it[1].at, it[0]))
    elif past:  # the earliest $set_once (the later stored on a tie)
        _, chosen = min(past, key=lambda it: (it[1].at, -it[0]))
    else:
        return {}
    return {key: chosen.value}


def last_seen(person: RefPerson, world: World) -> datetime | None:
    if not world.as_of:
        return person.last_seen
    return max((e.timestamp for e in events_of(person, world)), default=None)


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


def did_sequence(
    steps: list[dict], within_days: int, events: list[RefEvent], world: World, starts=None
) -> bool:
    """Some events in order match the steps, strictly later each, the last within the days; `starts(e)`: may e begin it."""
    ordered = sorted(events, key=lambda e: e.timestamp)
    for combo in itertools.combinations(ordered, len(steps)):
        times = [e.timestamp for e in combo]
        if any(b <= a for a, b in itertools.pairwise(times)):
            continue
        if starts is not None and not starts(combo[0]):
            continue
        if times[-1] - times[0] > timedelta(days=within_days):
            continue
        if all(event_matches(step, e, world) for step, e in zip(steps, combo, strict=True)):
            return True
    return False


def condition(node: dict, person: RefPerson, world: World) -> bool:
    kind = node["type"]
    if kind == "person":
        props = trait(person.traits, person.properties, node["property"], world)
        return jsonb_filter_match(props, node["property"], node["operator"], node["value"])
    if kind == "company":
        props = trait(person.company_traits, person.company or {}, node["property"], world)
        return jsonb_filter_match(props, node["property"], node["operator"], node["value"])
    if kind in ("device", "geo"):
        return any(
            column_filter_match(getattr(s, node["property"]), node["operator"], node["value"])
            for s in sessions_of(person, world)
            if in_window(s.started_at, node.get("window"), world)
        )
    if kind == "session":
        count = sum(
            1
            for s in sessions_of(person, world)
            if in_window(s.started_at, node.get("window"), world)
            and all(session_matches(f, s) for f in node["where"])
        )
        return compare(count, node["count"]["operator"], node["count"]["value"])
    if kind == "behavior":
        count = sum(
            1
            for e in events_of(person, world)
            if in_window(e.timestamp, node.get("window"), world) and event_matches(node["event"], e, world)
        )
        return compare(count, node["count"]["operator"], node["count"]["value"])
    if kind == "active_days":
        days = {
            e.timestamp.astimezone(world.tz).date()
            for e in events_of(person, world)
            if in_window(e.timestamp, node["window"], world)
        }
        return compare(len(days), node["count"]["operator"], node["count"]["value"])
    if kind == "aggregate":
        values = [
            number(e.properties.get(node["property"]))
            for e in events_of(person, world)
            if in_window(e.timestamp, node.get("window"), world) and event_matches(node["event"], e, world)
        ]
        return _aggregate(node, [v for v in values if v is not None])
    if kind == "sequence":
        window, starts = node.get("window"), None
        events = [e for e in events_of(person, world) if in_window(e.timestamp, window, world)]
        if node.get("window_covers") == "first_step" and window and "from" in window:
            # the window bounds the first step; the others may follow it by up to within_days
            end = datetime.combine(date.fromisoformat(window["to"]), time.min, tzinfo=world.tz) + timedelta(
                days=1 + node["within_days"]
            )
            start = datetime.combine(date.fromisoformat(window["from"]), time.min, tzinfo=world.tz)
            events = [e for e in events_of(person, world) if start <= e.timestamp < end]

            def starts(e: RefEvent) -> bool:
                return in_window(e.timestamp, window, world)

        full = did_sequence(node["steps"], node["within_days"], events, world, starts)
        if node["last_step"] == "did":
            return full
        steps = node["steps"][:-1]
        prefix = (
            any(event_matches(steps[0], e, world) and (starts is None or starts(e)) for e in events)
            if len(steps) == 1
            else did_sequence(steps, node["within_days"], events, world, starts)
        )
        return prefix and not full
    if kind in ("first_seen", "last_seen"):
        moment = person.first_seen if kind == "first_seen" else last_seen(person, world)
        cutoff = world.now - timedelta(days=node["value"])
        within = moment is not None and moment >= cutoff
        return within if node["operator"] == "within_last_days" else not within
    if kind == "survey":
        answers = [
            e
            for e in events_of(person, world)
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
    if kind == "company_segment":
        company = next((c for c in world.companies if c.id == person.company_id), None)
        value = company is not None and company_group(world.company_segments[node["segment"]], company, world)
        return not value if node.get("negate") else value
    if kind == "rank":
        return rank(node, person, world)
    if kind == "segment":
        if world.as_of and node["segment"] in world.static_periods:
            value = any(
                pid == person.id and entered <= world.now and (exited is None or exited > world.now)
                for pid, entered, exited in world.static_periods[node["segment"]]
            )
        elif node["segment"] in world.static_members:
            value = person.id in world.static_members[node["segment"]]
        else:
            value = group(world.segments[node["segment"]], person, world)
        return not value if node.get("negate") else value
    raise AssertionError(f"unknown condition {kind}")


def lifecycle(node: dict, person: RefPerson, world: World) -> bool:
    """first_time / stopped / restarted: "did E" in consecutive periods ending now."""
    times = [e.timestamp for e in events_of(person, world) if event_matches(node["event"], e, world)]

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


def score(measure: dict, window: dict | None, person: RefPerson, world: World) -> Decimal:
    """A person's score for a rank: matching events, the total of their numbers, or the days they fell on."""
    matching = [
        e
        for e in events_of(person, world)
        if in_window(e.timestamp, window, world) and event_matches(measure["event"], e, world)
    ]
    if measure["of"] == "count":
        return Decimal(len(matching))
    if measure["of"] == "active_days":
        return Decimal(len({e.timestamp.astimezone(world.tz).date() for e in matching}))
    values = [number(e.properties.get(measure["property"])) for e in matching]
    return sum((v for v in values if v is not None), Decimal(0))


def rank(node: dict, person: RefPerson, world: World) -> bool:
    """In the top (bottom) k of the population: fewer than k persons score more (less) than this one."""
    population = [p for p in world.persons if not world.as_of or p.first_seen <= world.now]
    scores = {p.id: score(node["measure"], node.get("window"), p, world) for p in population}
    top = node["top"]
    if "count" in top:
        k = top["count"]
    else:
        k = math.ceil(Decimal(str(top["percent"])) * len(population) / 100)
    mine = scores[person.id]
    if node.get("direction", "top") == "top":
        ahead = sum(1 for s in scores.values() if s > mine)
    else:
        ahead = sum(1 for s in scores.values() if s < mine)
    return ahead < k
