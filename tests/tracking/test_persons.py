from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from tests.ingest.conftest import event
from tracking.eventstore import explore
from tracking.models import Person

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
BUY = [{"tag": "button", "id": "buy", "text": "Buy now"}, {"tag": "body"}]


def at(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def collect(send, events: list[dict], **kwargs) -> None:
    response = send(events, **kwargs)
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == len(events), response.json()


def person_links(body: str, project) -> list[int]:
    return [int(i) for i in re.findall(rf'href="/p/{project.pk}/persons/(\d+)/"', body)]


@pytest.fixture
def people(send):
    """ada (identified through an anonymous visit, at Acme), grace, and an anonymous visitor."""
    collect(
        send,
        [
            event(
                "$pageview",
                "anon-ada",
                session_id="s1",
                timestamp=at(60),
                **{"$current_url": "https://shop.test/"},
            ),
            event(
                "$autocapture",
                "anon-ada",
                session_id="s1",
                timestamp=at(59),
                **{"$current_url": "https://shop.test/", "$elements": BUY},
            ),
            event(
                "$identify",
                "ada",
                session_id="s1",
                timestamp=at(58),
                **{"$anon_distinct_id": "anon-ada", "$set": {"email": "ada@acme.test", "plan": "enterprise"}},
            ),
            event(
                "$groupidentify",
                "ada",
                session_id="s1",
                timestamp=at(57),
                **{"$group_key": "acme", "$group_set": {"name": "Acme Inc"}},
            ),
            event(
                "$pageview",
                "grace",
                session_id="s2",
                timestamp=at(30),
                **{"$set": {"name": "Grace Hopper", "plan": "free"}},
            ),
            event("$pageview", "anon-visitor", session_id="s3", timestamp=at(10)),
        ],
    )
    return {
        "ada": Person.objects.get(properties__email="ada@acme.test"),
        "grace": Person.objects.get(properties__name="Grace Hopper"),
        "visitor": Person.objects.get(distinct_ids__distinct_id="anon-visitor"),
    }


def test_the_list_shows_persons_most_recent_first(alice_client, project, people):
    response = alice_client.get(reverse("persons", args=[project.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert person_links(body, project) == [people["visitor"].pk, people["grace"].pk, people["ada"].pk]
    assert "ada@acme.test" in body and "Grace Hopper" in body
    assert reverse("company_detail", args=[project.pk, people["ada"].company_id]) in body
    assert "3 persons" in body


def test_the_list_counts_each_persons_events(events_backend, alice_client, project, people):
    body = alice_client.get(reverse("persons", args=[project.pk])).content.decode()

    ada_row = re.search(r"ada@acme\.test</a>.*?</tr>", body, re.S).group(0)
    assert '<td class="num">4</td>' in ada_row


@pytest.mark.parametrize(
    ("search", "who"),
    [
        ("anon-ad", ["ada"]),
        ("ACME.test", ["ada"]),
        ("hopper", ["grace"]),
        ("enterprise", ["ada"]),
        ("plan", []),
        ("zzz", []),
    ],
)
def test_search_finds_by_distinct_id_email_name_or_any_value(alice_client, project, people, search, who):
    response = alice_client.get(reverse("persons", args=[project.pk]), {"q": search})

    assert response.status_code == 200
    assert person_links(response.content.decode(), project) == [people[name].pk for name in who]


def test_search_by_person_id(alice_client, project, people):
    body = alice_client.get(
        reverse("persons", args=[project.pk]), {"q": str(people["grace"].pk)}
    ).content.decode()

    assert person_links(body, project) == [people["grace"].pk]


def test_an_htmx_search_returns_only_the_results(alice_client, project, people):
    full = alice_client.get(reverse("persons", args=[project.pk]), {"q": "hopper"})
    partial = alice_client.get(reverse("persons", args=[project.pk]), {"q": "hopper"}, **HTMX)

    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="person-results">')
    assert "<html" not in body and "<input" not in body
    assert person_links(body, project) == person_links(full.content.decode(), project) == [people["grace"].pk]


def test_an_overlong_search_is_a_400_naming_the_field(alice_client, project):
    response = alice_client.get(reverse("persons", args=[project.pk]), {"q": "x" * 201})

    assert response.status_code == 400
    assert "q: Ensure this value has at most 200 characters" in response.content.decode()


def test_the_list_is_paginated(alice_client, project, send):
    collect(send, [event("$pageview", f"visitor-{i:02d}", timestamp=at(100 - i)) for i in range(55)])

    first = alice_client.get(reverse("persons", args=[project.pk])).content.decode()
    second = alice_client.get(reverse("persons", args=[project.pk]), {"page": 2}).content.decode()
    nonsense = alice_client.get(reverse("persons", args=[project.pk]), {"page": "last-ish"})

    assert len(person_links(first, project)) == 50
    assert len(person_links(second, project)) == 5
    assert set(person_links(first, project)).isdisjoint(person_links(second, project))
    assert "page 2 of 2" in second
    assert nonsense.status_code == 200


def test_an_empty_project_says_how_persons_arrive(alice_client, project):
    body = alice_client.get(reverse("persons", args=[project.pk])).content.decode()

    assert "No persons yet" in body
    assert reverse("project_settings", args=[project.pk]) in body


def test_the_person_page_shows_properties_ids_company_and_sessions(alice_client, project, people):
    ada = people["ada"]

    response = alice_client.get(reverse("person_detail", args=[project.pk, ada.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "<dt>email</dt><dd>ada@acme.test</dd>" in body
    assert "<dt>plan</dt><dd>enterprise</dd>" in body
    assert "<code>anon-ada</code>" in body and "<code>ada</code>" in body
    assert f'href="{reverse("company_detail", args=[project.pk, ada.company_id])}">Acme Inc</a>' in body
    sessions = re.search(r'id="person-sessions".*?</section>', body, re.S).group(0)
    assert "Chrome" in sessions and "Linux" in sessions
    assert "3m 00s" in sessions  # from the first event to the last of session s1


def uuids(body: str) -> list[str]:
    return re.findall(r'data-event-id="([0-9a-f-]{36})"', body)


def test_the_timeline_is_newest_first_with_action_links(events_backend, alice_client, project, people):
    ada = people["ada"]
    ordered = [(str(e.uuid), e.name) for e in explore.event_list(project.pk, person_id=ada.pk)]
    click = next(pk for pk, name in ordered if name == "$autocapture")

    body = alice_client.get(reverse("person_detail", args=[project.pk, ada.pk])).content.decode()

    timeline = re.search(r'id="timeline".*?</section>', body, re.S).group(0)
    # the anonymous visit's events are ada's since the identify merge
    assert [name for _, name in ordered] == ["$groupidentify", "$identify", "$autocapture", "$pageview"]
    assert uuids(timeline) == [pk for pk, _ in ordered]
    assert f'href="/p/{project.pk}/actions/new/?from_event={click}"' in timeline
    assert "Define an action from this element" in timeline


def test_the_timeline_pages_back_with_and_without_htmx(events_backend, alice_client, project, send):
    collect(send, [event("step", "busy", timestamp=at(100 - i)) for i in range(60)])
    busy = Person.objects.get(project=project)
    ordered = [str(e.uuid) for e in explore.event_list(project.pk)]
    url = reverse("person_detail", args=[project.pk, busy.pk])

    first = alice_client.get(url).content.decode()
    cursor = re.search(r'href="\?before=([^"#]+)#timeline"', first).group(1)
    full = alice_client.get(url, {"before": cursor})
    partial = alice_client.get(url, {"before": cursor}, **HTMX)

    assert uuids(first) == ordered[:50]
    assert uuids(full.content.decode()) == uuids(partial.content.decode()) == ordered[50:]
    assert "<html" not in partial.content.decode()
    assert partial.content.decode().lstrip().startswith('<tr class="event-row"')
    assert "Newest activity" in full.content.decode()


def test_a_bad_timeline_cursor_is_a_400_naming_it(alice_client, project, people):
    response = alice_client.get(
        reverse("person_detail", args=[project.pk, people["ada"].pk]), {"before": "%%%"}
    )

    assert response.status_code == 400
    assert "before:" in response.content.decode()


def test_another_projects_member_gets_404_on_list_and_person(
    events_backend, alice_client, bob_client, project, people
):
    for url in (
        reverse("persons", args=[project.pk]),
        reverse("person_detail", args=[project.pk, people["ada"].pk]),
    ):
        assert alice_client.get(url).status_code == 200
        assert bob_client.get(url).status_code == 404
        assert bob_client.get(url, **HTMX).status_code == 404


def test_a_person_of_another_project_is_404_through_mine(
    events_backend, alice_client, project, other_project, send
):
    collect(send, [event("$pageview", "theirs")], api_key=other_project.public_key)
    theirs = Person.objects.get(project=other_project)

    assert alice_client.get(reverse("person_detail", args=[project.pk, theirs.pk])).status_code == 404
    searched = alice_client.get(reverse("persons", args=[project.pk]), {"q": "theirs"}).content.decode()
    assert person_links(searched, project) == []
    assert "No person matches" in searched


def test_persons_and_companies_share_tabs(alice_client, project):
    body = alice_client.get(reverse("persons", args=[project.pk])).content.decode()

    assert f'href="{reverse("companies", args=[project.pk])}"' in body


def test_the_list_costs_the_same_few_queries_however_many_persons(
    alice_client, project, send, django_assert_max_num_queries
):
    collect(
        send,
        [event("$groupidentify", f"member-{i}", **{"$group_key": f"firm-{i % 3}"}) for i in range(40)]
        + [event("$identify", f"member-{i}", **{"$anon_distinct_id": f"anon-{i}"}) for i in range(40)],
    )

    with django_assert_max_num_queries(12):
        response = alice_client.get(reverse("persons", args=[project.pk]))

    assert response.status_code == 200
    assert len(person_links(response.content.decode(), project)) == 40
