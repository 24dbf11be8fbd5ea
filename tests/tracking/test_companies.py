from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.ingest.conftest import event
from tracking.models import Company, Person

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def collect(send, events: list[dict], **kwargs) -> None:
    response = send(events, **kwargs)
    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == len(events), response.json()


def company_links(body: str, project) -> list[int]:
    return [int(i) for i in re.findall(rf'href="/p/{project.pk}/companies/(\d+)/"', body)]


@pytest.fixture
def firms(project, send):
    collect(
        send,
        [
            event(
                "$groupidentify",
                "ada",
                **{
                    "$group_key": "acme",
                    "$group_set": {"name": "Acme Inc", "industry": "rockets", "seats": 40},
                },
            ),
            event("$identify", "ada", **{"$set": {"email": "ada@acme.test"}}),
            event("$groupidentify", "bea", **{"$group_key": "acme"}),
            event(
                "$groupidentify",
                "cy",
                **{"$group_key": "globex", "$group_set": {"name": "Globex", "industry": "chemicals"}},
            ),
        ],
    )
    return {c.key: c for c in Company.objects.filter(project=project)}


def test_the_list_shows_companies_largest_first(alice_client, project, firms):
    response = alice_client.get(reverse("companies", args=[project.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert company_links(body, project) == [firms["acme"].pk, firms["globex"].pk]
    assert "Acme Inc" in body and "industry: rockets" in body
    assert f'href="{reverse("persons", args=[project.pk])}"' in body


def test_search_matches_key_or_any_trait(alice_client, project, firms):
    by_trait = alice_client.get(reverse("companies", args=[project.pk]), {"q": "chemi"}).content.decode()
    by_key = alice_client.get(reverse("companies", args=[project.pk]), {"q": "acm"}).content.decode()

    assert company_links(by_trait, project) == [firms["globex"].pk]
    assert company_links(by_key, project) == [firms["acme"].pk]


def test_an_htmx_search_returns_only_the_results(alice_client, project, firms):
    partial = alice_client.get(reverse("companies", args=[project.pk]), {"q": "globex"}, **HTMX)

    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="company-results">')
    assert "<html" not in body
    assert company_links(body, project) == [firms["globex"].pk]


def test_the_company_page_shows_traits_and_members(alice_client, project, firms):
    acme = firms["acme"]
    members = Person.objects.filter(company=acme)

    response = alice_client.get(reverse("company_detail", args=[project.pk, acme.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "<dt>industry</dt><dd>rockets</dd>" in body
    assert "<dt>seats</dt><dd>40</dd>" in body
    assert "2 persons" in body
    for person in members:
        assert reverse("person_detail", args=[project.pk, person.pk]) in body
    assert "ada@acme.test" in body


def test_the_members_fragment_for_htmx(alice_client, project, firms):
    partial = alice_client.get(reverse("company_detail", args=[project.pk, firms["acme"].pk]), **HTMX)

    body = partial.content.decode()
    assert body.lstrip().startswith('<section class="card table-scroll" id="company-members">')
    assert "ada@acme.test" in body and "<html" not in body


def test_an_empty_project_says_how_companies_arrive(alice_client, project):
    body = alice_client.get(reverse("companies", args=[project.pk])).content.decode()

    assert "No companies yet" in body


def test_another_projects_member_gets_404(alice_client, bob_client, project, firms):
    for url in (
        reverse("companies", args=[project.pk]),
        reverse("company_detail", args=[project.pk, firms["acme"].pk]),
    ):
        assert alice_client.get(url).status_code == 200
        assert bob_client.get(url).status_code == 404


def test_a_company_of_another_project_is_404_through_mine(alice_client, project, other_project, send):
    collect(
        send, [event("$groupidentify", "x", **{"$group_key": "initech"})], api_key=other_project.public_key
    )
    theirs = Company.objects.get(project=other_project)

    assert alice_client.get(reverse("company_detail", args=[project.pk, theirs.pk])).status_code == 404
