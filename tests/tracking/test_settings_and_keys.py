from __future__ import annotations

import pytest
from django.urls import reverse

from tracking.models import PersonalApiKey, Project

pytestmark = pytest.mark.django_db


def test_settings_page_shows_the_snippet_and_public_key(alice_client, project):
    response = alice_client.get(reverse("project_settings", args=[project.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"data-key=&quot;{project.public_key}&quot;" in body
    assert "http://testserver/static/sightline.js" in body


def test_an_owner_changes_settings(alice_client, project):
    response = alice_client.post(
        reverse("project_settings", args=[project.pk]),
        {
            "name": "Renamed",
            "timezone": "Europe/Paris",
            "allowed_origins": "https://www.acme.test",
            "ip_handling": "discard",
            "recording_enabled": "on",
            "recording_sample_rate": "0.5",
            "recording_mask_inputs": "on",
            "recording_retention_days": "30",
            "data_retention_days": "365",
            "ingest_rate_limit": "1000",
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.timezone, project.recording_sample_rate) == ("Renamed", "Europe/Paris", 0.5)


def test_a_bad_setting_names_its_field(alice_client, project):
    response = alice_client.post(
        reverse("project_settings", args=[project.pk]),
        {
            "name": "X",
            "timezone": "Mars/Olympus",
            "allowed_origins": "not an origin",
            "ip_handling": "discard",
            "recording_sample_rate": "3",
            "recording_retention_days": "30",
            "data_retention_days": "365",
            "ingest_rate_limit": "10",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Timezone: Select a valid choice" in body
    assert "Allowed origins:" in body
    assert "Recording sample rate: Ensure this value is less than or equal to 1.0" in body
    assert Project.objects.get(pk=project.pk).name == "Acme web"


def test_a_plain_member_cannot_change_settings(amos_client, project):
    response = amos_client.post(reverse("project_settings", args=[project.pk]), {"name": "Hijacked"})
    assert response.status_code == 302
    assert Project.objects.get(pk=project.pk).name == "Acme web"


def test_a_key_is_shown_once_and_stored_hashed(alice_client, project, alice):
    response = alice_client.post(reverse("api_keys", args=[project.pk]), {"label": "backend"})
    assert response.status_code == 200
    secret = response.context["minted"].secret
    assert secret.startswith("sk_") and secret in response.content.decode()
    key = PersonalApiKey.objects.get(user=alice)
    assert secret not in (key.secret_hash, key.prefix) and key.prefix == secret[:10]
    again = alice_client.get(reverse("api_keys", args=[project.pk]))
    assert secret not in again.content.decode()


def test_a_revoked_key_gets_401(alice_client, project, alice_api_key, client):
    assert client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {alice_api_key}").status_code == 200
    key = PersonalApiKey.objects.get()
    response = alice_client.post(reverse("api_key_revoke", args=[project.pk, key.pk]), {"confirm": "yes"})
    assert response.status_code == 302
    assert client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {alice_api_key}").status_code == 401


def test_nobody_revokes_another_users_key(bob_client, other_project, alice_api_key):
    key = PersonalApiKey.objects.get()
    response = bob_client.post(reverse("api_key_revoke", args=[other_project.pk, key.pk]), {"confirm": "yes"})
    assert response.status_code == 404
    assert PersonalApiKey.objects.get().revoked_at is None


def test_an_owner_creates_another_project(alice_client, project):
    response = alice_client.post(reverse("project_new"), {"name": "Docs site"})
    new = Project.objects.get(name="Docs site")
    assert response.status_code == 302 and new.organization == project.organization


def test_the_new_project_page_keeps_the_sidebar_of_the_current_project(alice_client, project):
    alice_client.get(reverse("overview", args=[project.pk]))  # the project one comes from
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = alice_client.get(reverse("project_new"), **headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert '<nav class="sidebar" aria-label="Main">' in body
        assert f'href="/p/{project.pk}/segments/"' in body and "<h1>New project</h1>" in body
        assert 'action="/projects/new/"' in body


def test_new_project_is_a_link_of_its_own_in_the_sidebar(alice_client, project):
    body = alice_client.get(reverse("overview", args=[project.pk])).content.decode()
    switcher_end = body.index("</details>")
    assert body.index('<a class="new-project" href="/projects/new/">+ New project</a>') > switcher_end


def test_a_user_without_a_project_gets_the_page_without_a_sidebar(client, organization):
    from tests.factories import MembershipFactory, UserFactory
    from tracking.models import Role

    owner = MembershipFactory(organization=organization, user=UserFactory(), role=Role.OWNER).user
    client.force_login(owner)
    body = client.get(reverse("project_new")).content.decode()
    assert "<h1>New project</h1>" in body and '<nav class="sidebar"' not in body


def test_the_admin_lists_organizations_and_keys(staff_client, project, alice_api_key):
    for name in ["organization", "project", "personalapikey", "membership", "user", "invitation"]:
        response = staff_client.get(reverse(f"admin:tracking_{name}_changelist"))
        assert response.status_code == 200, name
    response = staff_client.get(reverse("admin:tracking_organization_changelist") + "?q=Acme")
    assert "Acme" in response.content.decode()
