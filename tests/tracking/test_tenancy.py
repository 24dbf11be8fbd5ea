"""Bob (organization B) must get 404 for everything of organization A."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PROJECT_PAGES = [
    "overview",
    "events",
    "persons",
    "actions",
    "segments",
    "analysis",
    "replay",
    "interventions",
    "project_settings",
    "members",
    "api_keys",
]


@pytest.mark.parametrize("name", PROJECT_PAGES)
def test_another_projects_member_gets_404_on_every_page(bob_client, alice_client, project, name):
    url = reverse(name, args=[project.pk])
    assert alice_client.get(url).status_code == 200
    assert bob_client.get(url).status_code == 404
    assert bob_client.post(url, {"name": "pwned"}).status_code == 404


def test_another_projects_member_gets_404_on_the_api(client, project, bob_api_key, alice_api_key):
    assert (
        client.get(
            f"/api/v1/projects/{project.pk}/", HTTP_AUTHORIZATION=f"Bearer {alice_api_key}"
        ).status_code
        == 200
    )
    assert (
        client.get(f"/api/v1/projects/{project.pk}/", HTTP_AUTHORIZATION=f"Bearer {bob_api_key}").status_code
        == 404
    )


def test_a_nonexistent_project_is_404_not_500(alice_client):
    assert alice_client.get(reverse("overview", args=[999999])).status_code == 404


def test_staff_without_membership_does_not_see_projects(staff_client, project):
    assert staff_client.get(reverse("overview", args=[project.pk])).status_code == 404


def test_the_project_switcher_lists_only_my_projects(alice_client, project, other_project):
    body = alice_client.get(reverse("project_settings", args=[project.pk])).content.decode()
    assert project.name in body and other_project.name not in body


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/p/1/companies/4/", "persons"),
        ("/p/1/events/trends/", "events"),
        ("/p/1/settings/members/", "settings"),
        ("/login/", ""),
    ],
)
def test_the_sidebar_highlights_the_section_a_page_belongs_to(path, section):
    from tracking.context_processors import nav_section

    assert nav_section(path) == section
