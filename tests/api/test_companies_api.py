from __future__ import annotations

import pytest

from tests.ingest.conftest import event
from tracking.models import Company

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
def companies(send):
    collect(
        send,
        [
            event(
                "$groupidentify",
                "ada",
                **{"$group_key": "acme", "$group_set": {"name": "Acme Inc", "industry": "rockets"}},
            ),
            event("$groupidentify", "bea", **{"$group_key": "acme", "$group_set": {"seats": 40}}),
            event(
                "$groupidentify",
                "cy",
                **{"$group_key": "globex", "$group_set": {"name": "Globex", "industry": "chemicals"}},
            ),
        ],
    )


def companies_url(project, suffix: str = "") -> str:
    return f"/api/v1/projects/{project.pk}/companies/{suffix}"


def test_the_list_shows_companies_largest_first(api, project, companies):
    response = api(companies_url(project))

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(c["key"], c["person_count"]) for c in results] == [("acme", 2), ("globex", 1)]
    assert results[0]["properties"] == {"name": "Acme Inc", "industry": "rockets", "seats": 40}
    assert results[0]["name"] == "Acme Inc"


def test_search_and_key_filter(api, project, companies):
    assert [c["key"] for c in api(companies_url(project) + "?search=chemi").json()["results"]] == ["globex"]
    assert [c["key"] for c in api(companies_url(project) + "?key=acme").json()["results"]] == ["acme"]
    assert api(companies_url(project) + "?key=acm").json()["results"] == []


def test_the_detail_has_traits_and_member_count(api, project, companies):
    acme = Company.objects.get(project=project, key="acme")

    body = api(companies_url(project, f"{acme.pk}/")).json()

    assert body["id"] == acme.pk
    assert body["person_count"] == 2
    assert body["properties"]["industry"] == "rockets"


def test_another_projects_member_gets_404(client, project, companies, alice_api_key, bob_api_key):
    acme = Company.objects.get(project=project, key="acme")
    for path in (companies_url(project), companies_url(project, f"{acme.pk}/")):
        assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {alice_api_key}").status_code == 200
        assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {bob_api_key}").status_code == 404


def test_a_company_of_another_project_is_not_found_through_mine(api, project, other_project, send):
    collect(
        send, [event("$groupidentify", "x", **{"$group_key": "initech"})], api_key=other_project.public_key
    )
    theirs = Company.objects.get(project=other_project)

    assert api(companies_url(project, f"{theirs.pk}/")).status_code == 404
    assert api(companies_url(project) + "?key=initech").json()["results"] == []


def test_the_schema_documents_the_collection_endpoints(client):
    body = client.get("/api/v1/schema/").content.decode()

    for path in ("/persons/", "/persons/{person_id}/", "/companies/", "/companies/{company_id}/", "/events/"):
        assert f"/api/v1/projects/{{project_id}}{path}" in body
    assert "distinct_id" in body and "cursor" in body
