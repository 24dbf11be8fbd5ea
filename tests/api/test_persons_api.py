from __future__ import annotations

import pytest

from tests.ingest.conftest import event
from tracking.models import Person

pytestmark = pytest.mark.django_db


def collect(send, events: list[dict], **kwargs) -> None:
    response = send(events, **kwargs)
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == len(events), response.json()


@pytest.fixture
def api(client, alice_api_key):
    def get(path: str):
        return client.get(path, HTTP_AUTHORIZATION=f"Bearer {alice_api_key}")

    return get


@pytest.fixture
def people(send):
    """ada (identified, at Acme), an anonymous visitor, and grace."""
    collect(
        send,
        [
            event("$pageview", "anon-ada"),
            event(
                "$identify",
                "ada",
                **{"$anon_distinct_id": "anon-ada", "$set": {"email": "ada@acme.test", "plan": "enterprise"}},
            ),
            event(
                "$groupidentify",
                "ada",
                **{"$group_key": "acme", "$group_set": {"name": "Acme Inc", "seats": 40}},
            ),
            event("$pageview", "anon-visitor"),
            event("$identify", "grace", **{"$set": {"email": "grace@navy.test", "plan": "free"}}),
        ],
    )


def persons_url(project, suffix: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/persons/{suffix}"


def test_the_list_shows_every_person_with_ids_and_company(api, project, people):
    response = api(persons_url(project))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    ada = next(p for p in body["results"] if p["properties"].get("email") == "ada@acme.test")
    assert sorted(ada["distinct_ids"]) == ["ada", "anon-ada"]
    assert ada["company"]["key"] == "acme"
    assert ada["company"]["name"] == "Acme Inc"
    assert ada["is_identified"] is True


def test_distinct_id_finds_exactly_one_person(api, project, people):
    by_anon = api(persons_url(project) + "?distinct_id=anon-ada").json()
    partial = api(persons_url(project) + "?distinct_id=anon").json()

    assert [p["name"] for p in by_anon["results"]] == ["ada@acme.test"]
    assert partial["results"] == []


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("grace@navy", {"grace@navy.test"}),
        ("ENTERPRISE", {"ada@acme.test"}),
        ("anon-vis", {"anon-visitor"}),
        ("nothing-like-it", set()),
    ],
)
def test_search_matches_ids_and_property_values(api, project, people, search, expected):
    results = api(persons_url(project) + f"?search={search}").json()["results"]

    names = {p["properties"].get("email") or p["distinct_ids"][0] for p in results}
    assert names == expected


def test_search_treats_like_wildcards_literally(api, project, people):
    assert api(persons_url(project) + "?search=%25").json()["results"] == []
    assert api(persons_url(project) + "?search=_").json()["results"] == []


def test_the_detail_carries_what_a_client_needs(api, project, people):
    ada = Person.objects.get(project=project, properties__email="ada@acme.test")

    response = api(persons_url(project, f"{ada.pk}/"))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == ada.pk
    assert body["properties"] == {"email": "ada@acme.test", "plan": "enterprise"}
    assert sorted(body["distinct_ids"]) == ["ada", "anon-ada"]
    assert body["company"] == {"id": ada.company_id, "key": "acme", "name": "Acme Inc"}
    assert body["is_identified"] is True
    assert body["first_seen"] and body["last_seen"]


def test_the_list_is_paginated(api, project, send):
    collect(send, [event("$pageview", f"visitor-{i}") for i in range(7)])

    first = api(persons_url(project) + "?limit=5").json()
    second = api(first["next"]).json()

    assert first["count"] == 7
    assert len(first["results"]) == 5
    assert len(second["results"]) == 2
    assert {p["id"] for p in first["results"]}.isdisjoint({p["id"] for p in second["results"]})


def test_another_projects_member_gets_404_on_list_and_detail(
    client, project, people, bob_api_key, alice_api_key
):
    person = Person.objects.filter(project=project).first()
    for path in (persons_url(project), persons_url(project, f"{person.pk}/")):
        assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {alice_api_key}").status_code == 200
        assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {bob_api_key}").status_code == 404


def test_a_person_of_another_project_is_not_found_through_mine(api, project, other_project, send):
    collect(send, [event("$pageview", "theirs")], api_key=other_project.public_key)
    theirs = Person.objects.get(project=other_project)

    assert api(persons_url(project, f"{theirs.pk}/")).status_code == 404
    assert api(persons_url(project) + "?distinct_id=theirs").json()["results"] == []


def test_an_overlong_filter_is_a_400_naming_it(api, project):
    response = api(persons_url(project) + "?search=" + "x" * 300)

    assert response.status_code == 400
    assert "search" in response.json()
