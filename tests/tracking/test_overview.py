from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.ingest.conftest import event
from tracking.eventstore import explore
from tracking.selectors.overview import overview_get

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
BUY = [{"tag": "button", "id": "buy", "classes": ["btn", "primary"], "text": "Buy now"}, {"tag": "body"}]
SAFARI = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15"


def ago(**delta) -> str:
    return (NOW - timedelta(**delta)).isoformat()


def collect(send, events: list[dict], **kwargs) -> None:
    response = send(events, **kwargs)
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == len(events), response.json()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def month(frozen, send):
    """Four persons over a month, in Germany (Chrome) and France (Safari)."""
    berlin = {"$timezone": "Europe/Berlin"}
    collect(
        send,
        [
            event(
                "$pageview",
                "ann",
                session_id="s-ann",
                timestamp=ago(hours=2),
                **{"$current_url": "https://shop.test/pricing", **berlin},
            ),
            event(
                "$pageview",
                "ann",
                session_id="s-ann",
                timestamp=ago(hours=1),
                **{"$current_url": "https://shop.test/", **berlin},
            ),
            event(
                "$autocapture",
                "ann",
                session_id="s-ann",
                timestamp=ago(minutes=50),
                **{"$current_url": "https://shop.test/pricing", "$elements": BUY, **berlin},
            ),
            event(
                "$autocapture",
                "ann",
                session_id="s-ann",
                timestamp=ago(minutes=40),
                **{"$current_url": "https://shop.test/pricing", "$elements": BUY, **berlin},
            ),
            event(
                "$pageview",
                "ben",
                session_id="s-ben",
                timestamp=ago(days=1),
                **{"$current_url": "https://shop.test/pricing", **berlin},
            ),
            event(
                "$pageview",
                "cal",
                session_id="s-cal",
                timestamp=ago(days=29, hours=11),
                **{"$current_url": "https://shop.test/blog", **berlin},
            ),
            event(
                "$pageview",
                "old",
                session_id="s-old",
                timestamp=ago(days=31),
                **{"$current_url": "https://shop.test/ancient", **berlin},
            ),
        ],
    )
    collect(
        send,
        [
            event(
                "$pageview",
                "dee",
                session_id="s-dee",
                timestamp=ago(minutes=5),
                **{"$current_url": "https://shop.test/pricing", "$timezone": "Europe/Paris"},
            )
        ],
        headers={"HTTP_USER_AGENT": SAFARI},
    )


def test_activity_is_counted_per_day_over_thirty_days(events_backend, project, month):
    data = overview_get(project=project, days=30)

    assert len(data.days) == 30
    assert data.days[0].day == date(2025, 2, 13)
    assert data.days[-1].day == date(2025, 3, 14)
    assert (data.days[-1].events, data.days[-1].persons) == (5, 2)
    assert (data.days[-2].events, data.days[-2].persons) == (1, 1)
    assert (data.days[0].events, data.days[0].persons) == (1, 1)
    assert sum(d.events for d in data.days) == 7
    assert (data.events, data.active_persons, data.sessions, data.persons_total) == (7, 4, 4, 5)


def test_days_follow_the_projects_time_zone(events_backend, project, frozen, send):
    collect(send, [event("late", timestamp=datetime(2025, 3, 13, 23, 30, tzinfo=UTC).isoformat())])

    in_utc = overview_get(project=project, days=2)
    project.timezone = "Europe/Berlin"
    in_berlin = overview_get(project=project, days=2)

    assert [(d.day, d.events) for d in in_utc.days] == [(date(2025, 3, 13), 1), (date(2025, 3, 14), 0)]
    assert [(d.day, d.events) for d in in_berlin.days] == [(date(2025, 3, 13), 0), (date(2025, 3, 14), 1)]


def test_top_lists_rank_pages_elements_browsers_and_countries(events_backend, project, month):
    data = overview_get(project=project)

    assert [(r.label, r.count) for r in data.top_pages] == [("/pricing", 3), ("/", 1), ("/blog", 1)]
    assert [(r.label, r.detail, r.count) for r in data.top_elements] == [
        ("button#buy.btn.primary", "Buy now", 2)
    ]
    clicks = explore.event_list(project.pk, name="$autocapture")
    assert data.top_elements[0].event_id in {str(e.uuid) for e in clicks}
    assert [(r.label, r.count) for r in data.browsers] == [("Chrome", 3), ("Safari", 1)]
    assert [(r.label, r.count) for r in data.countries] == [("DE", 3), ("FR", 1)]
    assert data.top_pages[0].share == 1.0


def test_the_page_shows_totals_charts_and_top_lists(alice_client, project, month):
    response = alice_client.get(reverse("overview", args=[project.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert '<div class="stat" id="stat-events">7</div>' in body
    assert '<div class="stat" id="stat-persons">4</div>' in body
    assert body.count('<svg class="chart"') == 2
    assert "/pricing" in body and "/ancient" not in body
    assert "button#buy.btn.primary" in body and "Buy now" in body
    assert "Chrome" in body and "DE" in body
    assert "No events yet" not in body


def test_the_page_costs_the_same_few_queries_however_many_events(
    alice_client, project, month, send, django_assert_max_num_queries
):
    collect(
        send,
        [
            event("$pageview", f"p-{i}", session_id=f"s-{i}", timestamp=ago(days=i % 30, minutes=1))
            for i in range(200)
        ],
    )

    with django_assert_max_num_queries(20):
        assert alice_client.get(reverse("overview", args=[project.pk])).status_code == 200


def test_an_empty_project_points_at_the_snippet_and_the_demo(alice_client, project):
    response = alice_client.get(reverse("overview", args=[project.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "No events yet" in body
    assert reverse("project_settings", args=[project.pk]) + "#snippet" in body
    assert 'href="/demo/"' in body
    assert "<svg" not in body


def test_another_projects_events_do_not_count(events_backend, project, other_project, frozen, send):
    collect(send, [event("theirs", timestamp=ago(minutes=1))], api_key=other_project.public_key)

    assert overview_get(project=project).has_events is False
    assert overview_get(project=other_project).events == 1


def test_another_projects_member_gets_404(alice_client, bob_client, project):
    url = reverse("overview", args=[project.pk])

    assert alice_client.get(url).status_code == 200
    assert bob_client.get(url).status_code == 404
