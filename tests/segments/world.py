"""Small generated worlds (persons, companies, sessions, events, trait history) stored for real and mirrored for the reference.

A person's `traits` are `$set` / `$set_once` writes at various times
(tracking.PersonTrait); `company_traits` are `$groupidentify` writes on the
person's company (tracking.CompanyTrait). Current traits are what the history
leaves at NOW over the generated ones, so keys without history keep their
generated current value (the as-of evaluation's fallback).
"""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta

import orjson
from hypothesis import strategies as st

from tests.segments.reference import RefCompany, RefEvent, RefPerson, RefSession, RefTrait, World, trait
from tracking.eventstore import using_clickhouse
from tracking.eventstore.rows import NewEvent
from tracking.ingest.rollup import person_days_rebuild
from tracking.models import (
    Company,
    CompanyTrait,
    Event,
    Person,
    PersonDay,
    PersonDistinctId,
    PersonTrait,
    Project,
    Session,
)

NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
EVENT_NAMES = ["$pageview", "signed_up", "created_project", "invited_teammate", "purchase"]
PLANS = ["free", "pro", "team"]
BROWSERS = ["Chrome", "Firefox", "Safari"]
COUNTRIES = ["US", "FR", "DE"]
PATHS = ["/", "/pricing", "/app/board", "/checkout"]
UTM_SOURCES = ["newsletter", "google", "Newsletter"]
REFERRERS = ["google.com", "news.ycombinator.com"]
SURVEY_GOALS = ["collaborate", "track time", "plan"]

event_st = st.fixed_dictionaries(
    {
        "name": st.sampled_from(EVENT_NAMES),
        "minutes_ago": st.integers(min_value=0, max_value=40 * 24 * 60),
        "plan": st.sampled_from([None, *PLANS]),
        "amount": st.sampled_from([None, 5, 20, 99.5, "12", "n/a"]),
        "path": st.sampled_from(PATHS),
    }
)
survey_st = st.fixed_dictionaries(
    {
        "minutes_ago": st.integers(min_value=0, max_value=40 * 24 * 60),
        "answers": st.fixed_dictionaries(
            {}, optional={"score": st.integers(0, 10), "goal": st.sampled_from(SURVEY_GOALS)}
        ),
    }
)
session_st = st.fixed_dictionaries(
    {
        "minutes_ago": st.integers(min_value=0, max_value=40 * 24 * 60),
        "browser": st.sampled_from(BROWSERS),
        "country": st.sampled_from([*COUNTRIES, ""]),
        "seconds": st.sampled_from([0, 30, 299, 300, 301, 1800]),
        "pageviews": st.integers(0, 4),
        "entry": st.sampled_from(["", *PATHS]),
        "exit": st.sampled_from(["", *PATHS]),
        "utm_source": st.sampled_from(["", *UTM_SOURCES]),
        "utm_medium": st.sampled_from(["", "email", "cpc"]),
        "utm_campaign": st.sampled_from(["", "spring", "launch"]),
        "referrer_domain": st.sampled_from(["", *REFERRERS]),
    }
)
_TRAIT_VALUES = {
    "plan": st.sampled_from([*PLANS, None]),
    "role": st.sampled_from(["pm", "eng", "design"]),
    "age": st.integers(18, 70),
}
trait_st = st.sampled_from(sorted(_TRAIT_VALUES)).flatmap(
    lambda key: st.fixed_dictionaries(
        {
            "key": st.just(key),
            "value": _TRAIT_VALUES[key],
            "minutes_ago": st.integers(min_value=0, max_value=45 * 24 * 60),
            "once": st.booleans(),
        }
    )
)
company_trait_st = st.one_of(
    st.fixed_dictionaries(
        {"key": st.just("industry"), "value": st.sampled_from(["retail", "software", "finance"])}
    ),
    st.fixed_dictionaries({"key": st.just("size"), "value": st.sampled_from([5, 40, 500, 5000])}),
).flatmap(
    lambda write: st.builds(
        lambda minutes: {**write, "minutes_ago": minutes}, st.integers(min_value=0, max_value=45 * 24 * 60)
    )
)
person_st = st.fixed_dictionaries(
    {
        "properties": st.fixed_dictionaries(
            {},
            optional={
                "plan": st.sampled_from(PLANS),
                "role": st.sampled_from(["pm", "eng", "design"]),
                "age": st.integers(18, 70),
            },
        ),
        "company": st.sampled_from([None, 0, 1, 2]),
        "events": st.lists(event_st, max_size=10),
        "surveys": st.lists(survey_st, max_size=2),
        "sessions": st.lists(session_st, max_size=3),
    },
    optional={
        "traits": st.lists(trait_st, max_size=4),
        "company_traits": st.lists(company_trait_st, max_size=2),
    },
)
world_st = st.lists(person_st, min_size=1, max_size=10)
COMPANIES = [
    {"industry": "retail", "size": 40},
    {"industry": "software", "size": 500},
    {"industry": "finance"},
]


def store_world(project: Project, spec: list[dict]) -> World:
    """Write the world into the database (as ingestion would leave it) and return its reference mirror.

    Events go to the active event store: `tracking_event`, or ClickHouse (the
    daily rollup is then built here, as ingestion would have kept it).
    """
    histories: list[list[RefTrait]] = [[] for _ in COMPANIES]
    for p in spec:
        if p["company"] is not None:
            histories[p["company"]] += _writes(p.get("company_traits", []))
    companies = [
        Company.objects.create(project=project, key=f"c{i}", properties=_current(props, histories[i]))
        for i, props in enumerate(COMPANIES)
    ]
    CompanyTrait.objects.bulk_create(
        CompanyTrait(project=project, company=company, key=t.key, value=t.value, at=t.at)
        for company, history in zip(companies, histories, strict=True)
        for t in history
    )  # in each company's order: the ids order its ties as the reference does
    ref_persons, events = [], []
    for index, p in enumerate(spec):
        moments = [NOW - timedelta(minutes=e["minutes_ago"]) for e in p["events"]] + [
            NOW - timedelta(minutes=s["minutes_ago"]) for s in p["surveys"]
        ]
        first = min(moments, default=NOW - timedelta(days=50))
        last = max(moments, default=NOW - timedelta(days=50))
        company = companies[p["company"]] if p["company"] is not None else None
        traits = _writes(p.get("traits", []))
        properties = _current(p["properties"], traits)
        person = Person.objects.create(
            project=project, properties=properties, company=company, first_seen=first, last_seen=last
        )
        PersonDistinctId.objects.create(project=project, person=person, distinct_id=f"p{index}")
        PersonTrait.objects.bulk_create(
            PersonTrait(project=project, person=person, key=t.key, value=t.value, at=t.at, once=t.once)
            for t in traits
        )
        ref = RefPerson(
            id=person.pk,
            properties=properties,
            company=company.properties if company else None,
            first_seen=first,
            last_seen=last,
            traits=traits,
            company_traits=histories[p["company"]] if company else [],
            company_id=company.pk if company else None,
        )
        for e in p["events"]:
            props = {
                k: v
                for k, v in (("plan", e["plan"]), ("amount", e["amount"]), ("$pathname", e["path"]))
                if v is not None
            }
            ref.events.append(
                RefEvent(
                    name=e["name"],
                    timestamp=NOW - timedelta(minutes=e["minutes_ago"]),
                    properties=props,
                    url=f"https://app.test{e['path']}",
                )
            )
        for s in p["surveys"]:
            props = {"$survey": "onboarding", "$answers": s["answers"]}
            ref.events.append(
                RefEvent(
                    name="$survey_response",
                    timestamp=NOW - timedelta(minutes=s["minutes_ago"]),
                    properties=props,
                )
            )
        for i, s in enumerate(p["sessions"]):
            started = NOW - timedelta(minutes=s["minutes_ago"])
            # optional in hand-made specs: a session with no length, pages or landing facts
            landing = {
                "pageview_count": s.get("pageviews", 0), "entry_path": s.get("entry", ""),
                "exit_path": s.get("exit", ""), "utm_source": s.get("utm_source", ""),
                "utm_medium": s.get("utm_medium", ""), "utm_campaign": s.get("utm_campaign", ""),
                "referrer_domain": s.get("referrer_domain", ""),
            }  # fmt: skip
            ended = started + timedelta(seconds=s.get("seconds", 0))
            Session.objects.create(
                project=project, session_key=f"s{index}-{i}", person=person, started_at=started, ended_at=ended,
                browser=s["browser"], country=s["country"], **landing,
            )  # fmt: skip
            ref.sessions.append(
                RefSession(
                    started_at=started, ended_at=ended, browser=s["browser"], country=s["country"], **landing
                )
            )
        for e in ref.events:
            e.uuid = uuid.uuid4()
            events.append((person, index, e))
        ref_persons.append(ref)
    tz = zoneinfo.ZoneInfo(project.timezone)
    if using_clickhouse():
        _store_in_clickhouse(project, events, tz)
    else:
        Event.objects.bulk_create(
            Event(
                project=project, uuid=e.uuid, person=person, distinct_id=f"p{index}", name=e.name,
                timestamp=e.timestamp, received_at=NOW, url=e.url, path="", properties=e.properties,
            )
            for person, index, e in events
        )  # fmt: skip
        person_days_rebuild(project.pk)  # the daily rollup ingestion would have kept
    ref_companies = [
        RefCompany(id=company.pk, properties=company.properties, traits=history)
        for company, history in zip(companies, histories, strict=True)
    ]
    return World(persons=ref_persons, now=NOW, tz=tz, companies=ref_companies)


def _writes(spec: list[dict]) -> list[RefTrait]:
    return [
        RefTrait(
            key=w["key"],
            value=w["value"],
            at=NOW - timedelta(minutes=w["minutes_ago"]),
            once=w.get("once", False),
        )
        for w in spec
    ]


def _current(generated: dict, history: list[RefTrait]) -> dict:
    """The current traits: what the history holds at NOW for its keys, the generated value for the others."""
    now = World(persons=[], now=NOW, tz=zoneinfo.ZoneInfo("UTC"), as_of=True)
    current = dict(generated)
    for key in {t.key for t in history}:
        current.pop(key, None)
        current.update(trait(history, {}, key, now))
    return current


def _store_in_clickhouse(project: Project, events: list, tz: zoneinfo.ZoneInfo) -> None:
    from tracking.eventstore.clickhouse.writes import events_insert

    rows = [
        NewEvent(
            project_id=project.pk, uuid=e.uuid, person_id=person.pk, distinct_id=f"p{index}", session_key="",
            name=e.name, timestamp=e.timestamp, received_at=NOW, url=e.url, path="", el_text="", href="",
            elements_chain="", properties_json=orjson.dumps(e.properties),
        )
        for person, index, e in events
    ]  # fmt: skip
    events_insert(project.pk, rows)
    days: dict[tuple[int, object], list[datetime]] = {}
    for person, _, e in events:
        days.setdefault((person.pk, e.timestamp.astimezone(tz).date()), []).append(e.timestamp)
    PersonDay.objects.bulk_create(
        PersonDay(
            project_id=project.pk, person_id=person_id, day=day, events=len(moments),
            first_at=min(moments), last_at=max(moments),
        )
        for (person_id, day), moments in days.items()
    )  # fmt: skip
