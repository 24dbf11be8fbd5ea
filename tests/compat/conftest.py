from __future__ import annotations

import pytest
from django_q.conf import Conf

from tracking.ingest.http import forget_project_cache


@pytest.fixture(autouse=True)
def tasks_run_inline(monkeypatch):
    """Segment refreshes queued by ingestion run inline (django-q2's own sync mode)."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def live(live_server, transactional_db) -> str:
    """The live server's origin; the key cache is emptied so this test's project is found."""
    forget_project_cache()
    yield live_server.url
    forget_project_cache()


@pytest.fixture
def api(client, alice_api_key, project):
    """Sightline's own REST API, as the project's member Alice."""

    def call(method: str, path: str, body: dict | None = None):
        return getattr(client, method)(
            f"/api/v1/projects/{project.pk}{path}",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {alice_api_key}",
        )

    return call
