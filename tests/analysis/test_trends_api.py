"""`GET /api/v1/projects/{id}/trends/`: counts checked against a small fixed batch, by hand."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from tests.ingest.conftest import event
from tracking.services.actions import action_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("events_backend")]

UA_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
TODAY = datetime.now(UTC).date()
D0, D1, D2 = TODAY - timedelta(days=3), TODAY - timedelta(days=2), TODAY - timedelta(days=1)


def at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC).isoformat()


def page(
    distinct_id: str, session: str, day: date, hour: int, path: str, minute: int = 0, **properties
) -> dict:
    return event(
        "$pageview", distinct_id, session_id=session, timestamp=at(day, hour, minute),
        **{"$current_url": f"https://shop.test{path}", **properties},
    )  # fmt: skip


@pytest.fixture
def batch(send):
    """Seven page views by three persons over two days, and one click that is not a page view.

    ann (Chrome, tier gold):   D0 10:00 /pricing pro, D0 11:00 /pricing pro, D1 10:00 /docs pro
    ben (Chrome, tier silver): D0 12:00 /docs free
    cid (Firefox, no tier):    D1 09:00 /pricing, D1 09:30 /pricing, D1 13:00 /docs (+ a click)
    """
    chrome = send([
        page("ann", "s-ann", D0, 10, "/pricing", plan="pro", **{"$set": {"tier": "gold"}}),
        page("ann", "s-ann", D0, 11, "/pricing", plan="pro"),
        page("ann", "s-ann", D1, 10, "/docs", plan="pro"),
        page("ben", "s-ben", D0, 12, "/docs", plan="free", **{"$set": {"tier": "silver"}}),
    ])  # fmt: skip
    firefox = send(
        [
            page("cid", "s-cid", D1, 9, "/pricing"),
            page("cid", "s-cid", D1, 9, "/pricing", minute=30),
            page("cid", "s-cid", D1, 13, "/docs"),
            event(
                "$autocapture",
                "cid",
                session_id="s-cid",
                timestamp=at(D1, 13, 5),
                **{"$elements": [{"tag": "button", "id": "buy"}]},
            ),
        ],
        headers={"HTTP_USER_AGENT": UA_FIREFOX},
    )
    assert chrome.json()["accepted"] == 4 and firefox.json()["accepted"] == 4


def trends(client, project, key, **params):
    query = {"event": "$pageview", "date_from": D0.isoformat(), "date_to": D2.isoformat(), **params}
    return client.get(f"/api/v1/projects/{project.pk}/trends/", query, HTTP_AUTHORIZATION=f"Bearer {key}")


def by_value(data: dict) -> dict:
    return {
        s["breakdown_value"]: (s["counts"], s["persons"], s["total"], s["total_persons"])
        for s in data["series"]
    }


def test_counts_and_unique_persons_per_day(client, project, alice_api_key, batch):
    response = trends(client, project, alice_api_key)
    assert response.status_code == 200
    data = response.json()
    assert data["labels"] == [D0.isoformat(), D1.isoformat(), D2.isoformat()]
    assert data["counts"] == [3, 4, 0]
    assert data["persons"] == [2, 2, 0]
    assert (data["total"], data["total_persons"]) == (7, 3)
    assert len(data["series"]) == 1
    assert data["series"][0]["breakdown_value"] is None
    assert data["series"][0]["counts"] == [3, 4, 0]


@pytest.mark.parametrize(
    ("breakdown", "expected"),
    [
        ("browser", {"Chrome": ([3, 1, 0], [2, 1, 0], 4, 2), "Firefox": ([0, 3, 0], [0, 1, 0], 3, 1)}),
        ("path", {"/pricing": ([2, 2, 0], [1, 1, 0], 4, 2), "/docs": ([1, 2, 0], [1, 2, 0], 3, 3)}),
        ("device_type", {"desktop": ([3, 4, 0], [2, 2, 0], 7, 3)}),
        (
            "event:plan",
            {
                "pro": ([2, 1, 0], [1, 1, 0], 3, 1),
                "": ([0, 3, 0], [0, 1, 0], 3, 1),
                "free": ([1, 0, 0], [1, 0, 0], 1, 1),
            },
        ),
        (
            "person:tier",
            {
                "gold": ([2, 1, 0], [1, 1, 0], 3, 1),
                "": ([0, 3, 0], [0, 1, 0], 3, 1),
                "silver": ([1, 0, 0], [1, 0, 0], 1, 1),
            },
        ),
    ],
)
def test_breakdowns(client, project, alice_api_key, batch, breakdown, expected):
    data = trends(client, project, alice_api_key, breakdown=breakdown).json()
    assert by_value(data) == expected
    assert data["breakdown"] == breakdown
    totals = [s["total"] for s in data["series"]]
    assert totals == sorted(totals, reverse=True)


def test_a_company_breakdown_joins_through_the_person(client, send, project, alice_api_key):
    send(
        [
            event(
                "$groupidentify",
                "dee",
                session_id="s-dee",
                timestamp=at(D1, 8),
                **{"$group_key": "acme", "$group_set": {"industry": "retail"}},
            )
        ]
    )
    send([page("dee", "s-dee", D1, 9, "/")])
    send([page("eve", "s-eve", D1, 9, "/")])
    data = trends(client, project, alice_api_key, breakdown="company:industry").json()
    assert by_value(data) == {"retail": ([0, 1, 0], [0, 1, 0], 1, 1), "": ([0, 1, 0], [0, 1, 0], 1, 1)}


def test_property_filters_narrow_the_events(client, project, alice_api_key, batch):
    filters = json.dumps([{"property": "plan", "operator": "eq", "value": "pro"}])
    data = trends(client, project, alice_api_key, filters=filters).json()
    assert data["counts"] == [2, 1, 0] and data["total_persons"] == 1
    filters = json.dumps([{"property": "plan", "operator": "is_not_set"}])
    assert trends(client, project, alice_api_key, filters=filters).json()["counts"] == [0, 3, 0]


def test_hourly_buckets(client, project, alice_api_key, batch):
    data = trends(
        client, project, alice_api_key, interval="hour", date_from=D1.isoformat(), date_to=D1.isoformat()
    ).json()
    assert len(data["labels"]) == 24
    assert data["labels"][9] == f"{D1.isoformat()}T09:00"
    expected = [0] * 24
    expected[9], expected[10], expected[13] = 2, 1, 1
    assert data["counts"] == expected
    assert data["persons"][9] == 1


def test_weekly_buckets_start_on_monday(client, project, alice_api_key, batch):
    data = trends(client, project, alice_api_key, interval="week").json()
    mondays = sorted({d - timedelta(days=d.weekday()) for d in (D0, D1, D2)})
    assert data["labels"] == [m.isoformat() for m in mondays]
    per_day = {D0: 3, D1: 4, D2: 0}
    assert data["counts"] == [
        sum(n for d, n in per_day.items() if d - timedelta(days=d.weekday()) == m) for m in mondays
    ]
    assert data["total"] == 7


def test_days_are_the_projects_days(client, send, project, alice_api_key):
    send([page("ann", "s-ann", D1, 2, "/")])  # 02:00 UTC is the evening before in New York
    assert trends(client, project, alice_api_key).json()["counts"] == [0, 1, 0]
    project.timezone = "America/New_York"
    project.save()
    assert trends(client, project, alice_api_key).json()["counts"] == [1, 0, 0]


def test_an_action_counts_what_its_steps_match(client, project, alice, alice_api_key, batch):
    pricing = action_create(
        project=project, user=alice, name="Pricing", steps=[{"event": "$pageview", "url": "/pricing"}]
    )
    clicks = action_create(project=project, user=alice, name="Buy", steps=[{"selector": "#buy"}])
    response = client.get(
        f"/api/v1/projects/{project.pk}/trends/",
        {"action": pricing.pk, "date_from": D0.isoformat(), "date_to": D2.isoformat()},
        HTTP_AUTHORIZATION=f"Bearer {alice_api_key}",
    )
    data = response.json()
    assert data["action"] == pricing.pk and data["event"] is None
    assert data["counts"] == [2, 2, 0] and data["total_persons"] == 2
    data = trends(client, project, alice_api_key, event="", action=clicks.pk).json()
    assert data["counts"] == [0, 1, 0]


def test_the_top_ten_values_are_kept_and_the_rest_is_other(client, send, project, alice_api_key):
    # variant v00 seen 12 times, v01 11 times … v11 once
    events = [
        page(f"p{n}", f"s{n}", D1, 10, "/", variant=f"v{i:02d}") for i in range(12) for n in range(12 - i)
    ]
    assert send(events).json()["accepted"] == 78
    data = trends(client, project, alice_api_key, breakdown="event:variant").json()
    values = [s["breakdown_value"] for s in data["series"]]
    assert values == [f"v{i:02d}" for i in range(10)] + [None]
    other = data["series"][-1]
    assert other["other"] is True and other["total"] == 3  # v10 twice, v11 once
    assert other["total_persons"] == 2  # p0 and p1 sent them
    assert [s["total"] for s in data["series"][:10]] == list(range(12, 2, -1))
    assert sum(s["total"] for s in data["series"]) == data["total"] == 78


def test_the_default_range_is_the_last_30_days(client, project, alice_api_key):
    data = client.get(
        f"/api/v1/projects/{project.pk}/trends/?event=$pageview", HTTP_AUTHORIZATION=f"Bearer {alice_api_key}"
    ).json()
    assert data["date_to"] == TODAY.isoformat()
    assert data["date_from"] == (TODAY - timedelta(days=29)).isoformat()
    assert len(data["labels"]) == 30 and data["total"] == 0
    assert [s["counts"] for s in data["series"]] == [[0] * 30]  # nothing matched: one all-zero series


@pytest.mark.parametrize(
    ("params", "parameter", "says"),
    [
        ({"event": ""}, "event", "give an event name"),
        ({"interval": "minute"}, "interval", "must be one of hour, day, week"),
        ({"date_from": "yesterday"}, "date_from", "valid date"),
        ({"date_from": "2026-02-30"}, "date_from", "valid date"),
        (
            {"date_from": "9999-12-31", "date_to": "9999-12-31"},
            "date_to",
            "must be between 1970-01-01 and 2999-12-31",
        ),
        ({"date_from": "0001-01-01"}, "date_from", "must be between"),
        ({"date_from": D2.isoformat(), "date_to": D0.isoformat()}, "date_from", "must not be after"),
        (
            {"interval": "hour", "date_from": (TODAY - timedelta(days=60)).isoformat()},
            "interval",
            "more than 800 points",
        ),
        ({"breakdown": "city"}, "breakdown", "must be one of"),
        ({"breakdown": "person:"}, "breakdown", "name the property"),
        ({"breakdown": "browser:x"}, "breakdown", "takes no property"),
        ({"filters": "{nope"}, "filters", "not valid JSON"),
        ({"filters": '{"property": "x"}'}, "filters", "must be a JSON list"),
        ({"filters": '[{"property": "x", "operator": "like", "value": 1}]'}, "filters", "unknown operator"),
        (
            {"filters": '[{"property": "x", "operator": "regex", "value": "("}]'},
            "filters",
            "invalid regular expression",
        ),
        ({"event": "", "action": "abc"}, "action", "must be the id of an action"),
        ({"event": "", "action": "999999"}, "action", "no such action"),
        ({"event": "", "action": "9" * 20}, "action", "no such action"),
        ({"action": "1"}, "action", "not both"),
    ],
)
def test_bad_parameters_answer_400_naming_the_parameter(
    client, project, alice_api_key, params, parameter, says
):
    if params.get("action") == "1":
        params = {
            **params,
            "action": str(action_create(project=project, user=None, name="a", steps=[{"event": "x"}]).pk),
        }
    response = trends(client, project, alice_api_key, **params)
    assert response.status_code == 400, response.content
    assert parameter in response.json(), response.json()
    assert says in " ".join(response.json()[parameter])


def test_every_bad_parameter_is_named_at_once(client, project, alice_api_key):
    response = client.get(
        f"/api/v1/projects/{project.pk}/trends/?interval=minute&breakdown=city&filters=x",
        HTTP_AUTHORIZATION=f"Bearer {alice_api_key}",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"event", "interval", "breakdown", "filters"}


def test_another_projects_action_is_no_such_action(client, project, other_project, bob, alice_api_key):
    theirs = action_create(project=other_project, user=bob, name="Theirs", steps=[{"event": "$pageview"}])
    response = trends(client, project, alice_api_key, event="", action=theirs.pk)
    assert response.status_code == 400
    assert "no such action" in response.json()["action"][0]


def test_another_projects_member_gets_404(client, project, bob_api_key, alice_api_key):
    assert trends(client, project, alice_api_key).status_code == 200
    assert trends(client, project, bob_api_key).status_code == 404


def test_buckets_follow_the_projects_time_zone_across_a_dst_change(client, send, project, alice_api_key):
    # Berlin leaves summer time on 25 October 2026 at 01:00 UTC: the local hour from 02:00 to 03:00 happens twice
    project.timezone = "Europe/Berlin"
    project.save(update_fields=["timezone"])
    utc = [(24, 22, 30), (25, 0, 30), (25, 1, 30), (25, 22, 30), (25, 23, 30)]
    with time_machine.travel(datetime(2026, 10, 27, 12, 0, tzinfo=UTC), tick=False):
        events = [
            event("$pageview", f"z{i}", timestamp=datetime(2026, 10, d, h, m, tzinfo=UTC).isoformat())
            for i, (d, h, m) in enumerate(utc)
        ]
        assert send(events).json()["accepted"] == 5
        days = {"date_from": "2026-10-24", "date_to": "2026-10-26"}
        assert trends(client, project, alice_api_key, **days).json()["counts"] == [0, 4, 1]
        hours = trends(
            client, project, alice_api_key, interval="hour", date_from="2026-10-25", date_to="2026-10-25"
        ).json()
    assert len(hours["labels"]) == 24
    expected = [0] * 24
    expected[0], expected[2], expected[23] = 1, 2, 1
    assert hours["counts"] == expected
