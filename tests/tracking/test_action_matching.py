"""Action steps: validation, the SQL conditions (PostgreSQL and ClickHouse) and the Python matcher,
retroactively over ingested events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import connection
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.ingest.conftest import event
from tracking.elements import encode, normalize
from tracking.eventstore import explore
from tracking.eventstore.clickhouse.client import Params
from tracking.eventstore.clickhouse.filters import action_where
from tracking.matching.actions import (
    ActionError,
    action_where_sql,
    describe_step,
    event_matches,
    validate_steps,
)
from tracking.models import Event
from tracking.selectors.actions import action_events, action_preview, action_stats
from tracking.services.actions import action_create

pytestmark = pytest.mark.django_db

BUY = [
    {"tag": "span", "text": "Buy now", "nth_child": 1},
    {"tag": "button", "id": "buy", "classes": ["btn", "primary"], "attrs": {"data-plan": "pro"}},
    {"tag": "form", "attrs": {"name": "checkout"}},
    {"tag": "body"},
]
LINK = [
    {"tag": "a", "classes": ["nav-link"], "attrs": {"href": "/pricing?ref=nav"}, "text": "Pricing"},
    {"tag": "nav"},
    {"tag": "body"},
]


def sql_says(steps: list[dict], row: dict) -> bool:
    condition, params = action_where_sql(steps, alias="e")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {condition} FROM (SELECT %s::text AS name, %s::text AS url, %s::text AS el_text,"
            " %s::text AS href, %s::text AS elements_chain, %s::jsonb AS properties) e",
            [
                *params,
                row["name"],
                row["url"],
                row["el_text"],
                row["href"],
                row["elements_chain"],
                orjson.dumps(row["properties"]).decode(),
            ],
        )
        return cursor.fetchone()[0]


def clickhouse_says(ch, steps: list[dict], row: dict) -> bool:
    p = Params()
    condition = action_where(steps, "e", p)
    columns = ", ".join(
        f"{p.add(value, 'String')} AS {column}"
        for column, value in (
            ("name", row["name"]),
            ("url", row["url"]),
            ("el_text", row["el_text"]),
            ("href", row["href"]),
            ("elements_chain", row["elements_chain"]),
            ("properties", orjson.dumps(row["properties"]).decode()),
        )
    )
    return bool(ch.query(f"SELECT {condition} FROM (SELECT {columns}) AS e", p)[0][0])


# -- validation ------------------------------------------------------------------------


def test_steps_are_normalised_with_default_matching_modes():
    steps = validate_steps(
        [
            {"event": " $autocapture ", "selector": "#buy", "text": "Buy now", "url": "", "properties": []},
            {"url": "/pricing", "href": "/x", "href_matching": "contains"},
        ]
    )
    assert steps == [
        {"event": "$autocapture", "selector": "#buy", "text": "Buy now", "text_matching": "exact"},
        {"href": "/x", "href_matching": "contains", "url": "/pricing", "url_matching": "contains"},
    ]


@pytest.mark.parametrize(
    ("steps", "field", "message"),
    [
        ([], "steps", "at least one step"),
        ("nope", "steps", "at least one step"),
        ([{}], "steps[0]", "at least one condition"),
        ([{"event": "x"}, {"text_matching": "exact"}], "steps[1]", "at least one condition"),
        (
            [{"event": "x"}, {"selector": "a:hover"}],
            "steps[1].selector",
            "unsupported pseudo-class :hover at position 2",
        ),
        (
            [{"text": "x", "text_matching": "fuzzy"}],
            "steps[0].text_matching",
            "must be one of exact, contains, regex",
        ),
        ([{"url": "(", "url_matching": "regex"}], "steps[0].url", "invalid regular expression"),
        # Python refuses \y; PostgreSQL refuses (?P<…>): both must accept a pattern
        ([{"href": "\\ybuy\\y", "href_matching": "regex"}], "steps[0].href", "invalid regular expression"),
        ([{"text": "(?P<x>a)", "text_matching": "regex"}], "steps[0].text", "PostgreSQL"),
        ([{"event": 5}], "steps[0].event", "must be a string"),
        ([{"event": "x", "colour": "red"}], "steps[0].colour", "unknown field"),
        ([{"event": "x", "properties": {"plan": "pro"}}], "steps[0].properties", "must be a list"),
        (
            [{"properties": [{"property": "plan", "operator": "like", "value": "p"}]}],
            "steps[0].properties[0].operator",
            "unknown operator",
        ),
        (
            [
                {
                    "event": "x",
                    "properties": [
                        {"property": "a", "operator": "eq", "value": 1},
                        {"property": "b", "operator": "in", "value": []},
                    ],
                }
            ],
            "steps[0].properties[1].value",
            "non-empty list",
        ),
        ([{"event": "x"}] * 21, "steps", "at most 20 steps"),
    ],
)
def test_invalid_steps_name_the_field_and_say_why(steps, field, message):
    with pytest.raises(ActionError) as caught:
        validate_steps(steps)
    assert field in caught.value.errors, caught.value.errors
    assert message in caught.value.errors[field]


def test_a_regex_re2_cannot_run_names_its_field_when_events_are_in_clickhouse(clickhouse):
    with pytest.raises(ActionError) as caught:
        validate_steps([{"event": "x", "href": "(a)\\1", "href_matching": "regex"}])
    assert "ClickHouse (RE2)" in caught.value.errors["steps[0].href"]
    with pytest.raises(ActionError) as caught:
        validate_steps([{"properties": [{"property": "plan", "operator": "regex", "value": "(?=p)pro"}]}])
    assert "ClickHouse (RE2)" in caught.value.errors["steps[0].properties[0].value"]


def test_every_invalid_step_is_reported_at_once():
    with pytest.raises(ActionError) as caught:
        validate_steps([{"selector": "a + b"}, {"event": "ok"}, {"selector": "::after"}])
    assert set(caught.value.errors) == {"steps[0].selector", "steps[2].selector"}


# -- SQL ---------------------------------------------------------------------------------


def test_user_values_are_parameters_never_sql_text():
    hostile = "x'; DROP TABLE tracking_event; --"
    steps = validate_steps(
        [
            {
                "event": hostile,
                "text": hostile,
                "url": hostile,
                "properties": [{"property": hostile, "operator": "eq", "value": hostile}],
            }
        ]
    )
    condition, params = action_where_sql(steps, alias="e")
    assert hostile not in condition
    assert "DROP" not in condition
    assert params.count(hostile) >= 3
    assert not sql_says(
        steps, {"name": "x", "url": "", "el_text": "", "href": "", "elements_chain": "", "properties": {}}
    )


def test_steps_are_ored_and_conditions_anded():
    steps = validate_steps([{"event": "$pageview", "url": "/pricing"}, {"event": "signup"}])
    condition, params = action_where_sql(steps, alias="e")
    url = '(strpos(lower(e.url COLLATE "C"), %s) > 0 OR (octet_length(e.url) <> char_length(e.url) AND e.url ILIKE %s))'
    assert condition == f"((e.name = %s AND {url}) OR (e.name = %s))"
    assert params == ["$pageview", "/pricing", "%/pricing%", "signup"]


def test_the_alias_must_be_a_plain_identifier():
    with pytest.raises(ValueError, match="alias"):
        action_where_sql([{"event": "x"}], alias="e; DROP")


# -- SQL and Python agree ------------------------------------------------------------------

SELECTORS = [
    "button",
    "#buy",
    ".btn.primary",
    "form > button",
    "form span",
    "nav a, #buy",
    "[data-plan=pro]",
    "a[href]",
    "span:nth-child(1)",
]
TEXTS = {
    "exact": ["Buy now", "buy now", "Pricing", "ünï"],
    "contains": ["buy", "NOW", "ric", "ü"],
    "regex": ["^Buy", "now$", "P.ic", "[0-9]+", "ü"],
}
URLS = {
    "exact": ["https://shop.test/pricing?ref=nav", "https://shop.test/"],
    "contains": ["/pricing", "SHOP", "?ref="],
    "regex": ["^https://shop\\.test/$", "pricing\\?", "/[a-z]+$"],
}
HREFS = {"exact": ["/pricing?ref=nav", "/pricing"], "contains": ["pricing", "REF"], "regex": ["^/p", "nav$"]}


@st.composite
def steps_strategy(draw):
    step: dict = {}
    if draw(st.booleans()):
        step["event"] = draw(st.sampled_from(["$autocapture", "$pageview", "signup"]))
    if draw(st.booleans()):
        step["selector"] = draw(st.sampled_from(SELECTORS))
    for key, values in (("text", TEXTS), ("url", URLS), ("href", HREFS)):
        if draw(st.integers(0, 2)) == 0:
            matching = draw(st.sampled_from(["exact", "contains", "regex"]))
            step[key] = draw(st.sampled_from(values[matching]))
            step[f"{key}_matching"] = matching
    if draw(st.integers(0, 2)) == 0:
        step["properties"] = [
            draw(
                st.sampled_from(
                    [
                        {"property": "plan", "operator": "eq", "value": "pro"},
                        {"property": "plan", "operator": "is_set"},
                        {"property": "seats", "operator": "gt", "value": 3},
                        {"property": "plan", "operator": "neq", "value": "free"},
                    ]
                )
            )
        ]
    return step


@st.composite
def rows(draw):
    elements = draw(st.sampled_from([BUY, LINK, []]))
    normalized = normalize(elements)
    from tracking.elements import target_href, target_text

    return {
        "name": draw(st.sampled_from(["$autocapture", "$pageview", "signup"])),
        "url": draw(st.sampled_from(["https://shop.test/pricing?ref=nav", "https://shop.test/", ""])),
        "el_text": target_text(normalized),
        "href": target_href(normalized),
        "elements_chain": encode(normalized),
        "properties": draw(
            st.sampled_from([{}, {"plan": "pro", "seats": 5}, {"plan": "free", "seats": "2"}, {"plan": None}])
        ),
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw_steps=st.lists(steps_strategy(), min_size=1, max_size=3), row=rows())
def test_action_sql_and_python_matcher_agree(clickhouse, raw_steps, row):
    assume(all(raw_steps))
    steps = validate_steps(raw_steps, check_regex=False)
    in_python = event_matches(steps, row)
    assert sql_says(steps, row) is in_python, (steps, row)
    assert clickhouse_says(clickhouse, steps, row) is in_python, (steps, row)


def test_the_python_matcher_takes_objects_as_well_as_dicts():
    steps = validate_steps([{"event": "$autocapture", "selector": "#buy"}])
    instance = Event(name="$autocapture", elements_chain=encode(normalize(BUY)), properties={})
    assert event_matches(steps, instance)
    assert not event_matches(
        steps, Event(name="$autocapture", elements_chain=encode(normalize(LINK)), properties={})
    )


def test_a_step_reads_as_one_line():
    step = validate_steps(
        [
            {
                "event": "$autocapture",
                "selector": "#buy",
                "text": "Buy",
                "properties": [{"property": "plan", "operator": "eq", "value": "pro"}],
            }
        ]
    )[0]
    assert describe_step(step) == "$autocapture · #buy · text = “Buy” · plan eq 'pro'"


# -- retroactive, through real ingestion --------------------------------------------------


def _ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def test_an_action_defined_after_the_events_matches_them(send, project, alice):
    batch = [
        event(
            "$autocapture",
            "ann",
            timestamp=_ago(days=20),
            **{"$current_url": "https://shop.test/cart", "$elements": BUY},
        ),
        event(
            "$autocapture",
            "ann",
            timestamp=_ago(days=2),
            **{"$current_url": "https://shop.test/cart", "$elements": BUY},
        ),
        event(
            "$autocapture",
            "ben",
            timestamp=_ago(hours=3),
            **{"$current_url": "https://shop.test/", "$elements": LINK},
        ),
        event("$pageview", "ben", timestamp=_ago(hours=2), **{"$current_url": "https://shop.test/pricing"}),
        event(
            "$autocapture",
            "cid",
            timestamp=_ago(days=45),
            **{"$current_url": "https://shop.test/cart", "$elements": BUY},
        ),
    ]
    response = send(batch)
    assert response.status_code == 200 and response.json()["accepted"] == 5

    # defined only now, after every event above was stored
    buy = action_create(
        project=project, user=alice, name="Clicked buy", steps=[{"event": "$autocapture", "selector": "#buy"}]
    )
    pricing = action_create(
        project=project,
        user=alice,
        name="Looked at pricing",
        steps=[
            {"event": "$pageview", "url": "/pricing"},
            {"event": "$autocapture", "href": "/pricing", "href_matching": "contains"},
        ],
    )

    matched = action_events(project=project, steps=buy.steps)[:100]
    assert [e.distinct_id for e in matched] == ["ann", "ann", "cid"]  # newest first, all history
    assert all(buy.matches(e) for e in matched)
    assert {e.name for e in action_events(project=project, steps=pricing.steps)[:100]} == {
        "$pageview",
        "$autocapture",
    }

    stats = action_stats(project=project, actions=[buy, pricing])
    assert (stats[buy.pk].events, stats[buy.pk].persons) == (2, 1)  # the 45-day-old click is outside 30 days
    assert (stats[pricing.pk].events, stats[pricing.pk].persons) == (2, 1)


def test_an_action_never_matches_another_projects_events(events_backend, send, project, other_project, alice):
    assert (
        send(
            [event("$autocapture", "ann", **{"$elements": BUY})], api_key=other_project.public_key
        ).status_code
        == 200
    )
    buy = action_create(project=project, user=alice, name="Clicked buy", steps=[{"selector": "#buy"}])
    assert action_events(project=project, steps=buy.steps)[:100] == []
    assert action_events(project=project, steps=buy.steps).count() == 0
    assert action_stats(project=project, actions=[buy])[buy.pk].events == 0


def test_counts_previews_and_matches_agree_on_both_backends(events_backend, send, project, alice):
    send(
        [
            event(
                "$autocapture",
                "ann",
                timestamp=_ago(days=2),
                **{"$current_url": "https://shop.test/", "$elements": LINK},
            ),
            event(
                "$autocapture",
                "ann",
                timestamp=_ago(days=1),
                **{"$current_url": "https://shop.test/", "$elements": LINK},
            ),
            event(
                "$pageview",
                "ben",
                timestamp=_ago(hours=5),
                **{"$current_url": "https://shop.test/pricing", "plan": "pro"},
            ),
            event(
                "$pageview",
                "cid",
                timestamp=_ago(hours=4),
                **{"$current_url": "https://shop.test/pricing", "plan": "free"},
            ),
            event(
                "$pageview",
                "cid",
                timestamp=_ago(days=40),
                **{"$current_url": "https://shop.test/pricing", "plan": "pro"},
            ),
        ]
    )
    pricing = action_create(
        project=project,
        user=alice,
        name="Pricing",
        steps=[
            {"event": "$pageview", "url": "/pricing", "url_matching": "contains",
             "properties": [{"property": "plan", "operator": "eq", "value": "pro"}]},
            {"event": "$autocapture", "text": "pricing", "text_matching": "contains"},
        ],
    )  # fmt: skip
    nothing = action_create(project=project, user=alice, name="Nothing", steps=[{"event": "never"}])

    matched = action_events(project=project, steps=pricing.steps)
    assert matched.count() == 4
    assert [(e.distinct_id, e.name) for e in matched[:3]] == [
        ("ben", "$pageview"), ("ann", "$autocapture"), ("ann", "$autocapture"),
    ]  # fmt: skip
    assert [e.distinct_id for e in matched[3:10]] == ["cid"]
    stats = action_stats(project=project, actions=[pricing, nothing])
    assert (stats[pricing.pk].events, stats[pricing.pk].persons) == (3, 2)  # the 40-day-old view is outside
    assert (stats[nothing.pk].events, stats[nothing.pk].persons) == (0, 0)
    preview = action_preview(project=project, steps=pricing.steps)
    assert (preview.events, preview.persons) == (3, 2)
    assert [(e.label, e.text, e.count) for e in preview.elements] == [("a.nav-link", "Pricing", 2)]
    assert [(p.path, p.count) for p in preview.pages] == [("/", 2), ("/pricing", 1)]


def test_element_text_and_link_come_from_the_stored_columns(events_backend, send, project):
    send([event("$autocapture", "ann", **{"$elements": LINK})])
    (stored,) = explore.event_list(project.pk)
    assert (stored.el_text, stored.href) == ("Pricing", "/pricing?ref=nav")
    steps = validate_steps(
        [{"text": "pricing", "text_matching": "contains", "href": "^/pricing\\?", "href_matching": "regex"}]
    )
    assert [e.uuid for e in action_events(project=project, steps=steps)[:10]] == [stored.uuid]
    assert event_matches(steps, stored)


def test_a_preview_that_takes_too_long_says_so_instead_of_failing(send, project, monkeypatch):
    from tracking.eventstore.postgres import summary
    from tracking.selectors import actions as selectors

    send([event("$autocapture", "ann", **{"$elements": BUY})])
    steps = validate_steps([{"event": "$autocapture"}])
    assert selectors.action_preview(project=project, steps=steps).events == 1
    # a condition slower than the preview's time limit
    monkeypatch.setattr(selectors, "PREVIEW_TIMEOUT_MS", 10)
    monkeypatch.setattr(summary, "action_where_sql", lambda steps, alias: ("(pg_sleep(0.2) IS NOT NULL)", []))
    preview = selectors.action_preview(project=project, steps=steps)
    assert preview.timed_out and preview.events == 0
