from __future__ import annotations

import pytest
from django_q.conf import Conf


@pytest.fixture(autouse=True)
def tasks_run_inline(monkeypatch):
    """django-q2 runs queued tasks synchronously in tests (its own supported mode), so a
    segment saved through the API is computed before the request's callbacks finish."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run transaction.on_commit callbacks (tests run inside a transaction that never commits)."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def api(client, alice_api_key, project):
    """The segments API as alice (or another key): `api("post", "/segments/", body)`."""

    def call(method: str, path: str, body=None, key=None):
        return getattr(client, method)(
            f"/api/v1/projects/{project.pk}{path}",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key or alice_api_key}",
        )

    return call
