from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils.dateparse import parse_datetime

from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db


def at(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def url(project, **params) -> str:
    from urllib.parse import urlencode

    query = urlencode(params)
    return f"/api/v1/projects/{project.pk}/events/" + (f"?{query}" if query else "")


def collect(send, events: list[dict]) -> None:
    response = send(events)
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == len(events), response.json()


@pytest.fixture
def api(client, alice_api_key):
    def get(path: str):
        return client.get(path, HTTP_AUTHORIZATION=f"Bearer {alice_api_key}")

    return get


def test_the_export_returns_exactly_what_was_sent(events_backend, api, project, send):
    sent = [
        event(
            "$pageview",
            "anon-1",
            session_id="sess-a",
            timestamp=at(30),
            **{
                "$current_url": "https://shop.test/pricing?x=1",
                "plan": "pro",
                "n": 3,
                "nested": {"a": [1, 2]},
            },
        ),
        event(
            "$autocapture",
            "anon-1",
            session_id="sess-a",
            timestamp=at(20),
            **{
                "$current_url": "https://shop.test/pricing",
                "$event_type": "click",
                "$elements": [
                    {
                        "tag": "button",
                        "id": "buy",
                        "classes": ["btn", "primary"],
                        "attrs": {"data-plan": "pro"},
                        "text": "Buy now",
                    },
                    {"tag": "div", "classes": ["card"]},
                    {"tag": "body"},
                ],
            },
        ),
        event("signed_up", "user-9", session_id="sess-b", timestamp=at(10), source="ad"),
    ]
    collect(send, sent)

    response = api(url(project, order="asc"))

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    results = body["results"]
    assert [r["uuid"] for r in results] == [e["uuid"] for e in sent]
    for got, wanted in zip(results, sent, strict=True):
        assert got["event"] == wanted["event"]
        assert got["distinct_id"] == wanted["distinct_id"]
        assert got["session_id"] == wanted["session_id"]
        assert parse_datetime(got["timestamp"]) == datetime.fromisoformat(wanted["timestamp"])
        expected_properties = {k: v for k, v in wanted["properties"].items() if k != "$elements"}
        assert got["properties"] == expected_properties
    assert results[0]["url"] == "https://shop.test/pricing?x=1"
    assert results[0]["elements"] == []
    assert results[1]["elements"] == [
        {
            "tag": "button",
            "id": "buy",
            "classes": ["btn", "primary"],
            "attrs": {"data-plan": "pro"},
            "text": "Buy now",
        },
        {"tag": "div", "classes": ["card"]},
        {"tag": "body"},
    ]
    assert results[0]["person_id"] == results[1]["person_id"] != results[2]["person_id"]


def test_events_come_newest_first_unless_asked_otherwise(events_backend, api, project, send):
    sent = [event("e", "anon-1", timestamp=at(minutes)) for minutes in (50, 40, 30)]
    collect(send, sent)

    newest_first = [r["uuid"] for r in api(url(project)).json()["results"]]
    oldest_first = [r["uuid"] for r in api(url(project, order="asc")).json()["results"]]

    assert newest_first == [e["uuid"] for e in reversed(sent)]
    assert oldest_first == [e["uuid"] for e in sent]


def test_the_event_filter_keeps_one_name(api, project, send):
    collect(
        send,
        [
            event("$pageview", timestamp=at(3)),
            event("clicked_buy", timestamp=at(2)),
            event("$pageview", timestamp=at(1)),
        ],
    )

    results = api(url(project, event="clicked_buy")).json()["results"]

    assert [r["event"] for r in results] == ["clicked_buy"]


def test_the_distinct_id_filter_follows_the_person_through_identify(events_backend, api, project, send):
    collect(
        send,
        [
            event("$pageview", "anon-7", timestamp=at(5)),
            event("$identify", "user-7", timestamp=at(4), **{"$anon_distinct_id": "anon-7"}),
            event("$pageview", "user-7", timestamp=at(3)),
            event("$pageview", "someone-else", timestamp=at(2)),
        ],
    )

    by_anon = api(url(project, distinct_id="anon-7")).json()["results"]
    by_user = api(url(project, distinct_id="user-7")).json()["results"]
    unknown = api(url(project, distinct_id="nobody"))

    assert len(by_anon) == 3
    assert {r["distinct_id"] for r in by_anon} == {"anon-7", "user-7"}
    assert [r["uuid"] for r in by_user] == [r["uuid"] for r in by_anon]
    assert unknown.status_code == 200
    assert unknown.json()["results"] == []


def test_after_and_before_bound_the_time_range(events_backend, api, project, send):
    times = [datetime.now(UTC) - timedelta(hours=h) for h in (30, 20, 10)]
    sent = [event("e", timestamp=t.isoformat()) for t in times]
    collect(send, sent)

    middle = api(
        url(project, after=(times[1] - timedelta(seconds=1)).isoformat(), before=times[2].isoformat())
    )
    inclusive = api(url(project, after=times[1].isoformat()))

    assert [r["uuid"] for r in middle.json()["results"]] == [sent[1]["uuid"]]
    assert {r["uuid"] for r in inclusive.json()["results"]} == {sent[1]["uuid"], sent[2]["uuid"]}


def test_old_events_are_found_beyond_the_recent_windows(api, project, send):
    sent = [
        event("e", timestamp=(datetime.now(UTC) - timedelta(days=days)).isoformat())
        for days in (500, 200, 20, 2)
    ]
    collect(send, sent)

    results = api(url(project, limit=3)).json()["results"]
    everything = api(url(project)).json()["results"]

    assert [r["uuid"] for r in results] == [sent[3]["uuid"], sent[2]["uuid"], sent[1]["uuid"]]
    assert [r["uuid"] for r in everything] == [e["uuid"] for e in reversed(sent)]


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_the_cursor_walks_every_event_once_even_with_equal_timestamps(
    events_backend, api, project, send, order
):
    same = at(5)
    sent = [event("tick", f"anon-{i % 2}", timestamp=same) for i in range(7)] + [
        event("tock", timestamp=at(1))
    ]
    collect(send, sent)

    seen: list[str] = []
    next_url = url(project, limit=3, order=order)
    pages = 0
    while next_url:
        response = api(next_url)
        assert response.status_code == 200
        seen += [r["uuid"] for r in response.json()["results"]]
        next_url = response.json()["next"]
        pages += 1

    assert pages == 3
    assert sorted(seen) == sorted(e["uuid"] for e in sent)
    assert len(seen) == len(set(seen))
    assert (seen[0] == sent[-1]["uuid"]) is (order == "desc")


def test_the_cursor_keeps_the_filters(api, project, send):
    collect(send, [event("a", timestamp=at(m)) for m in (6, 5, 4)] + [event("b", timestamp=at(1))])

    first = api(url(project, event="a", limit=2)).json()
    second = api(first["next"]).json()

    assert "event=a" in first["next"]
    assert [r["event"] for r in first["results"] + second["results"]] == ["a", "a", "a"]
    assert second["next"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "yesterday"}, "after"),
        ({"before": "2024-13-45T00:00:00Z"}, "before"),
        ({"after": "0001-01-01T00:00:00+05:00"}, "after"),
        ({"order": "sideways"}, "order"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"person_id": "x"}, "person_id"),
        ({"after": "2025-01-02T00:00:00Z", "before": "2025-01-01T00:00:00Z"}, "before"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(api, project, params, field):
    response = api(url(project, **params))

    assert response.status_code == 400
    assert field in response.json()


def test_extreme_but_valid_dates_answer_200(events_backend, api, project, send):
    collect(send, [event("e", timestamp=at(1))])

    assert api(url(project, before="0001-01-02T00:00:00Z")).json()["results"] == []
    assert len(api(url(project, after="0001-01-01T00:00:00Z", order="asc")).json()["results"]) == 1
    assert len(api(url(project, before="9999-12-31T00:00:00Z")).json()["results"]) == 1


def test_another_projects_member_gets_404(client, project, send, bob_api_key, alice_api_key):
    collect(send, [event("secret")])

    assert client.get(url(project), HTTP_AUTHORIZATION=f"Bearer {alice_api_key}").status_code == 200
    assert client.get(url(project), HTTP_AUTHORIZATION=f"Bearer {bob_api_key}").status_code == 404


def test_the_browser_session_reads_the_export(alice_client, project, send):
    collect(send, [event("e")])

    response = alice_client.get(url(project))

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_an_anonymous_caller_is_refused(client, project):
    assert client.get(url(project)).status_code in (401, 403)


def test_events_of_another_project_never_appear(events_backend, api, project, other_project, send):
    collect(send, [event("mine")])
    response = send([event("theirs")], api_key=other_project.public_key)
    assert response.status_code == 200

    names = [r["event"] for r in api(url(project)).json()["results"]]

    assert names == ["mine"]


def test_an_unknown_uuid_shape_is_never_exported(api, project, send):
    response = send([event("ok"), {**event("bad"), "uuid": "nope"}])
    assert response.json()["accepted"] == 1

    results = api(url(project)).json()["results"]

    assert [r["event"] for r in results] == ["ok"]
    assert uuid.UUID(results[0]["uuid"])


def test_a_date_alone_means_its_midnight_utc(api, project, send):
    yesterday = datetime.now(UTC) - timedelta(days=1)
    collect(send, [event("old", timestamp=(yesterday - timedelta(days=1)).isoformat()), event("new")])

    response = api(url(project, after=yesterday.date().isoformat()))

    assert response.status_code == 200
    assert [r["event"] for r in response.json()["results"]] == ["new"]
