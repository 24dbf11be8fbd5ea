from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_key_lists_only_its_users_projects(client, project, other_project, alice_api_key):
    response = client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {alice_api_key}")
    assert response.status_code == 200
    ids = [p["id"] for p in response.json()["results"]]
    assert ids == [project.pk]
    assert response.json()["results"][0]["public_key"] == project.public_key


def test_the_browser_session_works_too(alice_client, project):
    assert alice_client.get(f"/api/v1/projects/{project.pk}/").status_code == 200


@pytest.mark.parametrize("header", ["Bearer sk_unknown", "Bearer garbage", "Basic abc", ""])
def test_unknown_or_missing_keys_get_401(client, project, header):
    kwargs = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/api/v1/projects/", **kwargs)
    assert response.status_code in (401, 403)
    if header.startswith("Bearer"):
        assert response.status_code == 401
        assert response.json()["detail"]


def test_the_public_key_cannot_read(client, project):
    response = client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {project.public_key}")
    assert response.status_code == 401
    assert "public key" in response.json()["detail"]


def test_the_openapi_schema_is_served(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"/api/v1/projects/" in response.content
