"""The events explorer through its job: the page's panel while it works, the cache after, the day's key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from jobs.models import Job, JobStatus
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def views(send):
    with time_machine.travel(NOW, tick=False):
        batch = [event("$pageview", who, session_id=f"s-{who}", timestamp=NOW.isoformat()) for who in "ab"]
        assert send(batch).json()["accepted"] == 2


def test_the_page_shows_the_jobs_progress_until_it_is_done(alice_client, project, views, settings):
    settings.ANALYSIS_JOBS = "worker"  # no worker runs here: the job stays queued
    url = reverse("trends", args=[project.pk]) + "?event=$pageview&date_from=2026-06-30&date_to=2026-06-30"
    response = alice_client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    job = Job.objects.get(project=project, kind="trends")
    assert job.status == JobStatus.QUEUED
    assert f'data-job-id="{job.pk}"' in body and reverse("job_panel", args=[project.pk, job.pk]) in body
    assert 'id="trend-total"' not in body
    fragment = alice_client.get(url, **HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="results"') and f'data-job-id="{job.pk}"' in fragment
    assert Job.objects.filter(project=project, kind="trends").count() == 1  # the same job, joined


def test_the_panel_swaps_in_the_trend_once_the_job_is_done(alice_client, project, views, settings):
    from jobs.runner import execute

    settings.ANALYSIS_JOBS = "worker"
    url = (
        reverse("trends", args=[project.pk])
        + "?event=$pageview&breakdown=browser&date_from=2026-06-30&date_to=2026-06-30"
    )
    alice_client.get(url)
    job = Job.objects.get(project=project, kind="trends")
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started_at=NOW)
    execute(job.pk)  # as a worker would
    panel = alice_client.get(reverse("job_panel", args=[project.pk, job.pk]) + "?view=page", **HTMX)
    body = panel.content.decode()
    assert f'data-job-done="{job.pk}"' in body
    assert '<div class="stat" id="trend-total">2</div>' in body and "By browser" in body
    # its links keep the query, not the panel's own address
    assert "breakdown=browser" in body and "persons=" in body and "view=page" not in body
    page = alice_client.get(url).content.decode()
    assert 'data-cached="fresh"' in page and '<div class="stat" id="trend-total">2</div>' in page


def test_a_rolling_range_is_not_served_the_next_day(alice_client, project, views):
    url = reverse("trends", args=[project.pk]) + "?event=$pageview"
    with time_machine.travel(NOW, tick=False):
        assert '<div class="stat" id="trend-total">2</div>' in alice_client.get(url).content.decode()
        assert 'data-cached="fresh"' in alice_client.get(url).content.decode()
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        body = alice_client.get(url).content.decode()
    assert 'data-cached="fresh"' not in body and '<div class="stat" id="trend-total">2</div>' in body
    assert Job.objects.filter(project=project, kind="trends").count() == 2


def test_a_second_identical_request_is_served_from_the_cache(client, project, alice_api_key, views):
    url = f"/api/v1/projects/{project.pk}/trends/?event=$pageview&date_from=2026-06-30&date_to=2026-06-30"
    first = client.get(url, HTTP_AUTHORIZATION=f"Bearer {alice_api_key}")
    assert first.status_code == 200
    assert first.json()["cached"] is False and first.json()["total"] == 2
    again = client.get(f"{url}&async=1", HTTP_AUTHORIZATION=f"Bearer {alice_api_key}")
    assert again.status_code == 200
    assert again.json()["cached"] is True
    assert again.json()["computed_at"] == first.json()["computed_at"]
    assert {k: v for k, v in again.json().items() if k != "cached"} == {
        k: v for k, v in first.json().items() if k != "cached"
    }


def test_async_answers_202_with_the_job_which_answers_the_trend_once_run(
    client, project, alice_api_key, views, settings
):
    from jobs.runner import execute

    settings.ANALYSIS_JOBS = "worker"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice_api_key}"}
    url = f"/api/v1/projects/{project.pk}/trends/?event=$pageview&date_from=2026-06-30&date_to=2026-06-30"
    queued = client.get(f"{url}&async=1", **auth)
    assert queued.status_code == 202
    job = queued.json()["job"]
    assert set(job) == {"id", "status", "url"} and job["status"] == "queued"
    Job.objects.filter(pk=job["id"]).update(status=JobStatus.RUNNING, started_at=NOW)
    execute(job["id"])  # as a worker would
    done = client.get(job["url"], **auth).json()
    assert done["status"] == "done" and done["result"]["total"] == 2
    assert done["result"]["labels"] == ["2026-06-30"] and "people" not in done["result"]
    assert client.get(url, **auth).json()["cached"] is True
