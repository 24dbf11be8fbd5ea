"""The events explorer page: chart, breakdown, persons and links — full page and htmx fragment."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse

from tests.ingest.conftest import event
from tracking.models import Person
from tracking.services.actions import action_create

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)


def at(hour: int) -> str:
    return datetime.combine(YESTERDAY, time(hour), tzinfo=UTC).isoformat()


@pytest.fixture
def views(send):
    response = send(
        [
            event(
                "$pageview",
                "ann",
                session_id="s-ann",
                timestamp=at(9),
                **{"$current_url": "https://shop.test/pricing", "$set": {"email": "ann@shop.test"}},
            ),
            event(
                "$pageview",
                "ann",
                session_id="s-ann",
                timestamp=at(10),
                **{"$current_url": "https://shop.test/docs"},
            ),
            event(
                "$pageview",
                "ben",
                session_id="s-ben",
                timestamp=at(11),
                **{"$current_url": "https://shop.test/pricing"},
            ),
        ]
    )
    assert response.json()["accepted"] == 3


def test_the_explorer_counts_charts_and_links_to_persons_and_events(alice_client, project, views):
    url = (
        reverse("trends", args=[project.pk])
        + f"?subject=e:$pageview&date_from={YESTERDAY.isoformat()}&date_to={YESTERDAY.isoformat()}"
    )
    response = alice_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<div class="stat" id="trend-total">3</div>' in body
    assert '<div class="stat" id="trend-persons">2</div>' in body
    assert '<svg class="chart"' in body
    ann = Person.objects.get(project=project, properties__email="ann@shop.test")
    assert reverse("person_detail", args=[project.pk, ann.pk]) in body
    assert reverse("events", args=[project.pk]) + "?event=%24pageview" in body
    assert "ann@shop.test" in body


def test_the_htmx_request_gets_only_the_results(alice_client, project, views):
    url = (
        reverse("trends", args=[project.pk])
        + f"?event=$pageview&breakdown=path&date_from={YESTERDAY.isoformat()}"
    )
    full = alice_client.get(url)
    fragment = alice_client.get(url, **HTMX)
    assert full.status_code == fragment.status_code == 200
    assert "<html" in full.content.decode()
    body = fragment.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="results"')
    assert "By URL path" in body
    assert "/pricing" in body and "/docs" in body
    assert "persons=%2Fpricing" in body  # who did it, per value


def test_the_persons_list_follows_a_breakdown_value(alice_client, project, views):
    url = (
        reverse("trends", args=[project.pk])
        + f"?event=$pageview&breakdown=path&persons=/docs&date_from={YESTERDAY.isoformat()}"
    )
    body = alice_client.get(url).content.decode()
    section = body[body.index('id="persons"') :]
    assert "ann@shop.test" in section
    ben = Person.objects.get(project=project, distinct_ids__distinct_id="ben")
    assert reverse("person_detail", args=[project.pk, ben.pk]) not in section


def test_an_action_is_explored_like_an_event(alice_client, alice, project, views):
    pricing = action_create(
        project=project, user=alice, name="Pricing", steps=[{"event": "$pageview", "url": "/pricing"}]
    )
    url = reverse("trends", args=[project.pk]) + f"?subject=a:{pricing.pk}&date_from={YESTERDAY.isoformat()}"
    body = alice_client.get(url, **HTMX).content.decode()
    assert '<div class="stat" id="trend-total">2</div>' in body
    assert reverse("action_detail", args=[project.pk, pricing.pk]) in body


def test_bad_input_is_shown_beside_the_form(alice_client, project):
    url = reverse("trends", args=[project.pk]) + "?event=$pageview&interval=minute&breakdown=person"
    response = alice_client.get(url, **HTMX)
    assert response.status_code == 200  # htmx swaps it in
    body = response.content.decode()
    assert "must be one of hour, day, week" in body
    assert "name the person property" in body


def test_the_explorer_defaults_to_page_views_over_30_days(alice_client, project, views):
    body = alice_client.get(reverse("trends", args=[project.pk])).content.decode()
    assert 'value="e:$pageview" selected' in body
    assert '<div class="stat" id="trend-total">3</div>' in body


def test_another_projects_member_gets_404(alice_client, bob_client, project):
    url = reverse("trends", args=[project.pk])
    assert alice_client.get(url).status_code == 200
    assert bob_client.get(url).status_code == 404
    assert bob_client.get(url, **HTMX).status_code == 404
