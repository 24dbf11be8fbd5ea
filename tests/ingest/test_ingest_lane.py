"""The ingestion lane (config.settings_ingest): the public endpoints only, on a shorter path.

The endpoints themselves are tested in both lanes (the `ingest_lane` fixture in
the batch, compatible-endpoint, decide and flags tests); here, what the lane
leaves out.
"""

from __future__ import annotations

import pytest
from django.conf import settings as live_settings
from django.test import Client

from config import settings_ingest
from tests.ingest.conftest import event
from tracking.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def lane(settings):
    settings.ROOT_URLCONF = settings_ingest.ROOT_URLCONF
    settings.MIDDLEWARE = settings_ingest.MIDDLEWARE


@pytest.mark.parametrize("path", ["/", "/login/", "/admin/", "/api/v1/projects/", "/segments/", "/demo/"])
def test_it_serves_no_page_no_api_and_no_admin(lane, path):
    assert Client().get(path).status_code == 404


def test_a_batch_is_stored_and_the_health_check_keeps_project_figures_for_the_token(lane, settings, project):
    settings.INGEST_HEALTH_TOKEN = "t0ken-for-monitoring"
    response = Client().post(
        "/i/v1/batch",
        data={"api_key": project.public_key, "batch": [event(), event("signed_up")]},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json() == {"accepted": 2, "rejected": []}
    assert Event.objects.filter(project=project).count() == 2
    # no sessions or users here: the public figures for anyone, per project only with the token
    assert "projects" not in Client().get("/health/ingest").json()
    token = {"HTTP_AUTHORIZATION": "Bearer t0ken-for-monitoring"}
    assert "projects" in Client().get("/health/ingest", **token).json()


def test_only_the_lane_skips_the_connection_health_check():
    assert settings_ingest.DATABASES["default"]["CONN_HEALTH_CHECKS"] is False
    # the product's settings are left as they are, though the lane's module copies them
    assert live_settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert settings_ingest.DATABASES["default"]["HOST"] == live_settings.DATABASES["default"]["HOST"]
