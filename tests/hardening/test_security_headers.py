"""Security headers on the app's pages (HTTPS as in production)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_app_pages_send_the_security_headers(alice_client, project):
    response = alice_client.get(reverse("project_settings", args=[project.pk]), secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    csp = response["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
    ):
        assert directive in csp
    assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_the_login_page_is_protected_too(client):
    response = client.get(reverse("login"), secure=True)
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "csrftoken" in response.cookies or 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_forms_need_a_csrf_token(project, alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("project_settings", args=[project.pk]), {"name": "x"})
    assert response.status_code == 403


def test_ingestion_needs_no_cookies_and_sends_none(client, project):
    response = client.options("/i/v1/batch", HTTP_ORIGIN="https://shop.example")
    assert not response.cookies
    assert "Access-Control-Allow-Credentials" not in response
