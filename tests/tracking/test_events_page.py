from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import path, reverse

from config.urls import urlpatterns as site_urlpatterns
from tests.ingest.conftest import event
from tracking.eventstore import explore
from tracking.templatetags.collect import url_if_exists

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
BUY = [{"tag": "button", "id": "buy", "classes": ["btn"], "text": "Buy now"}, {"tag": "body"}]


def _explore_page(request, project_id: int):
    """Stands in for the explore page, which this test only links to."""
    raise AssertionError("only reversed, never requested")


urlpatterns = [*site_urlpatterns, path("p/<int:project_id>/trends/", _explore_page, name="trends")]


def at(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def collect(send, events: list[dict], **kwargs) -> None:
    response = send(events, **kwargs)
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == len(events), response.json()


def row_ids(body: str) -> list[str]:
    return re.findall(r'data-event-id="([0-9a-f-]{36})"', body)


def stored(project, **filters) -> list:
    """The project's events as the event store holds them, newest first (ties by uuid)."""
    return explore.event_list(project.pk, limit=10_000, **filters)


def uuids(events) -> list[str]:
    return [str(e.uuid) for e in events]


def since_of(body: str) -> str:
    return re.search(r"since=([A-Za-z0-9_-]+)", body).group(1)


def events_url(project) -> str:
    return reverse("events", args=[project.pk])


def test_the_live_page_lists_events_newest_first(events_backend, alice_client, project, send):
    collect(
        send,
        [
            event("$pageview", "anon-1", timestamp=at(3), **{"$current_url": "https://shop.test/pricing"}),
            event(
                "$autocapture",
                "anon-1",
                timestamp=at(2),
                **{"$current_url": "https://shop.test/pricing", "$elements": BUY},
            ),
            event("signed_up", "anon-1", timestamp=at(1)),
        ],
    )
    events = stored(project)

    response = alice_client.get(events_url(project))

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body
    assert [e.name for e in events] == ["signed_up", "$autocapture", "$pageview"]
    assert row_ids(body) == uuids(events)
    assert "/pricing" in body
    assert "button#buy.btn" in body and "Buy now" in body
    person_id = events[0].person_id
    assert reverse("person_detail", args=[project.pk, person_id]) in body


def test_autocaptured_events_link_to_the_action_builder(alice_client, project, send):
    click = event("$autocapture", timestamp=at(2), **{"$elements": BUY})
    pageview = event("$pageview", timestamp=at(1))
    collect(send, [click, pageview])

    body = alice_client.get(events_url(project)).content.decode()

    assert f'href="/p/{project.pk}/actions/new/?from_event={click["uuid"]}"' in body
    assert f"from_event={pageview['uuid']}" not in body
    assert "Define an action from this element" in body


def test_the_name_filter_keeps_one_event_name(events_backend, alice_client, project, send):
    clicked = event("clicked", timestamp=at(2))
    collect(send, [event("$pageview", timestamp=at(3)), clicked, event("$pageview", timestamp=at(1))])

    response = alice_client.get(events_url(project), {"event": "clicked"})

    assert response.status_code == 200
    assert row_ids(response.content.decode()) == [clicked["uuid"]]


def test_the_filter_offers_the_names_this_project_has_seen(
    events_backend, alice_client, project, other_project, send
):
    collect(send, [event("b_event"), event("a_event"), event("b_event")])
    collect(send, [event("their_event")], api_key=other_project.public_key)

    body = alice_client.get(events_url(project)).content.decode()

    options = re.findall(r'<option value="([^"]*)"', body)
    assert options == ["", "a_event", "b_event"]


def test_an_htmx_filter_returns_only_the_feed(alice_client, project, send):
    collect(send, [event("$pageview", timestamp=at(2)), event("clicked", timestamp=at(1))])

    full = alice_client.get(events_url(project), {"event": "clicked"})
    partial = alice_client.get(events_url(project), {"event": "clicked"}, **HTMX)

    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="events-feed">')
    assert "<html" not in body and "<select" not in body
    assert row_ids(body) == row_ids(full.content.decode())
    assert "HX-Request" in partial["Vary"]


def test_a_poll_brings_only_events_newer_than_the_page(events_backend, alice_client, project, send):
    collect(send, [event("old", timestamp=at(5))])
    page = alice_client.get(events_url(project)).content.decode()
    newest = since_of(page)
    new_1, new_2 = event("new-1", timestamp=at(1)), event("new-2", timestamp=at(0.5))
    collect(send, [new_1, new_2])

    poll = alice_client.get(events_url(project), {"since": newest}, **HTMX)

    assert poll.status_code == 200
    body = poll.content.decode()
    assert body.startswith('<tr id="live-poll"')
    assert row_ids(body) == [new_2["uuid"], new_1["uuid"]]
    assert alice_client.get(events_url(project), {"since": since_of(body)}, **HTMX).status_code == 204
    assert "<html" not in body


def test_a_poll_with_nothing_new_answers_204(alice_client, project, send):
    collect(send, [event("only")])
    newest = since_of(alice_client.get(events_url(project)).content.decode())

    poll = alice_client.get(events_url(project), {"since": newest}, **HTMX)

    assert poll.status_code == 204
    assert poll.content == b""


def test_a_poll_keeps_the_name_filter(alice_client, project, send):
    collect(send, [event("kept", timestamp=at(3))])
    since = since_of(alice_client.get(events_url(project), {"event": "kept"}).content.decode())
    kept = event("kept", timestamp=at(2))
    collect(send, [kept, event("dropped", timestamp=at(1))])

    body = alice_client.get(events_url(project), {"since": since, "event": "kept"}, **HTMX).content.decode()

    assert row_ids(body) == [kept["uuid"]]
    assert "event=kept&amp;since=" in body


def test_a_poll_on_an_empty_project_waits_quietly(events_backend, alice_client, project, send):
    page = alice_client.get(events_url(project)).content.decode()
    since = since_of(page)

    assert alice_client.get(events_url(project), {"since": since}, **HTMX).status_code == 204
    first = event("first")
    collect(send, [first])
    assert row_ids(alice_client.get(events_url(project), {"since": since}, **HTMX).content.decode()) == [
        first["uuid"]
    ]


def test_the_full_page_ignores_since_without_htmx(alice_client, project, send):
    collect(send, [event("one", timestamp=at(2))])
    since = since_of(alice_client.get(events_url(project)).content.decode())
    collect(send, [event("two", timestamp=at(1))])

    response = alice_client.get(events_url(project), {"since": since})

    assert response.status_code == 200
    assert len(row_ids(response.content.decode())) == 2


def test_older_events_are_one_link_away(events_backend, alice_client, project, send):
    same_moment = at(300)
    collect(send, [event("e", f"anon-{i}", timestamp=at(200 - i)) for i in range(100)])
    collect(send, [event("e", f"tied-{i}", timestamp=same_moment) for i in range(5)])
    ordered = uuids(stored(project))
    assert ordered[100:] == sorted(ordered[100:], reverse=True)  # ties fall by uuid

    first = alice_client.get(events_url(project)).content.decode()
    older = re.search(r'href="\?before=([^"&]+)"', first)
    second = alice_client.get(events_url(project), {"before": older.group(1)}).content.decode()

    assert row_ids(first) == ordered[:100]
    assert row_ids(second) == ordered[100:]
    assert 'id="live-poll"' in first and 'id="live-poll"' not in second
    assert "Newest events" in second


@pytest.mark.parametrize(
    ("params", "field"),
    [({"since": "soon"}, "since"), ({"before": "garbage"}, "before"), ({"event": "x" * 201}, "event")],
)
def test_a_bad_parameter_is_a_400_naming_it(alice_client, project, params, field):
    response = alice_client.get(events_url(project), params)

    assert response.status_code == 400
    assert f"{field}:" in response.content.decode()


def test_an_empty_project_points_at_the_snippet_and_the_demo(alice_client, project):
    body = alice_client.get(events_url(project)).content.decode()

    assert "No events yet" in body
    assert reverse("project_settings", args=[project.pk]) in body
    assert 'href="/demo/"' in body


def test_another_projects_member_gets_404(alice_client, bob_client, project, send):
    collect(send, [event("secret")])

    page = alice_client.get(events_url(project))
    assert page.status_code == 200
    assert bob_client.get(events_url(project)).status_code == 404
    since = since_of(page.content.decode())
    assert bob_client.get(events_url(project), {"since": since}, **HTMX).status_code == 404


def test_events_of_another_project_never_show(events_backend, alice_client, project, other_project, send):
    collect(send, [event("theirs")], api_key=other_project.public_key)

    body = alice_client.get(events_url(project)).content.decode()

    assert row_ids(body) == []
    assert "theirs" not in body


def test_the_explore_tab_is_left_out_while_that_page_does_not_exist():
    assert url_if_exists("no-such-page", 1) == ""
    assert url_if_exists("events", 1) == "/p/1/events/"


@pytest.mark.urls(__name__)
def test_the_explore_tab_links_to_trends_when_it_exists(alice_client, project):
    body = alice_client.get(events_url(project)).content.decode()

    assert f'href="{reverse("trends", args=[project.pk])}">Explore</a>' in body


def test_the_feed_costs_the_same_few_queries_however_many_persons(
    alice_client, project, send, django_assert_max_num_queries
):
    collect(send, [event("$pageview", f"visitor-{i}", timestamp=at(60 - i)) for i in range(60)])

    with django_assert_max_num_queries(14):
        response = alice_client.get(events_url(project))

    assert len(row_ids(response.content.decode())) == 60
