"""Analyses as background jobs: queued, run by a worker, cached, made stale, cancelled, limited per project."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from jobs import services
from jobs.models import CachedResult, Job
from jobs.services import abandoned_cancel, job_request
from tests.factories import ProjectFactory
from tests.ingest.conftest import event
from tests.jobs.conftest import eventually, sleeping_backends


def funnel_params() -> dict:
    today = datetime.now(UTC).date()
    return {
        "steps": [{"name": "$pageview"}, {"name": "signup"}],
        "date_from": str(today - timedelta(days=2)),
        "date_to": str(today + timedelta(days=1)),
    }


@pytest.fixture
def visits(send):
    """Three people viewed a page; one of them signed up."""
    batch = [event("$pageview", who, session_id=f"s-{who}") for who in ("ann", "ben", "cy")]
    batch.append(event("signup", "ann", session_id="s-ann"))
    assert send(batch).json()["accepted"] == 4


def api(project, name: str) -> str:
    return reverse(name, args=[project.pk])


def test_a_slow_query_runs_as_a_job_and_the_next_request_is_served_from_the_cache(
    worker, project, visits, alice_client
):
    url = api(project, "api_analysis_funnel")
    queued = alice_client.post(f"{url}?async=1", funnel_params(), content_type="application/json")
    assert queued.status_code == 202
    job = queued.json()["job"]
    assert set(job) == {"id", "status", "url"} and job["status"] in ("queued", "running", "done")
    done = alice_client.get(f"{job['url']}?wait=20").json()
    assert done["status"] == "done" and done["progress"] == 1.0
    assert [s["count"] for s in done["result"]["overall"]["steps"]] == [3, 1]
    assert done["result"]["cached"] is False and done["result"]["computed_at"]
    again = alice_client.post(url, funnel_params(), content_type="application/json")
    assert again.status_code == 200
    body = again.json()
    assert body["cached"] is True and body["computed_at"] == done["result"]["computed_at"]
    assert body["overall"] == done["result"]["overall"]
    # ?async=1 answers a cached result at once too
    assert (
        alice_client.post(f"{url}?async=1", funnel_params(), content_type="application/json").status_code
        == 200
    )


def test_new_events_make_a_cached_result_stale(project, visits, send, alice_client, settings):
    url = api(project, "api_analysis_funnel")
    first = alice_client.post(url, funnel_params(), content_type="application/json").json()
    assert first["cached"] is False
    assert alice_client.post(url, funnel_params(), content_type="application/json").json()["cached"] is True
    assert send([event("signup", "ben", session_id="s-ben")]).json()["accepted"] == 1
    after = alice_client.post(url, funnel_params(), content_type="application/json").json()
    assert after["cached"] is False
    assert [s["count"] for s in after["overall"]["steps"]] == [3, 2]


def test_a_page_shows_a_stale_result_with_a_refresh_link(project, visits, send, alice_client):
    page = reverse("analysis_funnels", args=[project.pk])
    query = "step=e:$pageview&step=e:signup&last_days=7"
    assert 'id="funnel-result"' in alice_client.get(f"{page}?{query}").content.decode()
    cached = alice_client.get(f"{page}?{query}").content.decode()
    assert 'data-cached="fresh"' in cached and "Computed" in cached
    send([event("signup", "ben", session_id="s-ben")])
    stale = alice_client.get(f"{page}?{query}").content.decode()
    assert 'data-cached="stale"' in stale and "refresh=1" in stale
    refreshed = alice_client.get(f"{page}?{query}&refresh=1").content.decode()
    assert 'id="funnel-result"' in refreshed and 'data-cached="stale"' not in refreshed


def test_a_page_renders_at_once_with_progress_while_its_job_waits(project, visits, alice_client, settings):
    settings.ANALYSIS_JOBS = "worker"  # no worker runs here: the job stays queued
    page = reverse("analysis_funnels", args=[project.pk])
    html = alice_client.get(f"{page}?step=e:$pageview&step=e:signup&last_days=7").content.decode()
    assert 'class="card job-progress"' in html and 'id="funnel-result"' not in html
    job = Job.objects.get(project=project)
    assert job.status == "queued" and job.watched_until is not None
    assert f'hx-get="{reverse("job_panel", args=[project.pk, job.pk])}?view=page"' in html
    # a second viewer of the same question joins the same job
    alice_client.get(f"{page}?step=e:$pageview&step=e:signup&last_days=7")
    assert Job.objects.filter(project=project).count() == 1


def test_cancelling_a_job_stops_its_query_in_the_database(worker, project, alice_client):
    answer = job_request(project=project, kind="test_sleep", params={"seconds": 60})
    eventually(lambda: sleeping_backends() == 1, what="the job's query runs")
    url = reverse("api_analysis_job", args=[project.pk, answer.job.pk])
    assert alice_client.get(url).json()["status"] == "running"
    cancelled = alice_client.delete(url)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    eventually(lambda: sleeping_backends() == 0, what="the backend stops sleeping")
    assert Job.objects.get(pk=answer.job.pk).status == "cancelled"
    assert not CachedResult.objects.filter(project=project).exists()


def test_a_job_nobody_waits_for_any_more_is_cancelled(worker, project, alice_client, monkeypatch):
    monkeypatch.setattr(services, "RELEASE_SECONDS", 0)
    answer = job_request(project=project, kind="test_sleep", params={"seconds": 60}, watch=True)
    eventually(lambda: sleeping_backends() == 1, what="the job's query runs")
    # the page polls: the job is kept
    assert alice_client.get(reverse("job_panel", args=[project.pk, answer.job.pk])).status_code == 200
    assert abandoned_cancel() == 0
    # the page is left (the beacon), then the worker's next round finds nobody waiting
    release = reverse("job_release", args=[project.pk, answer.job.pk])
    assert alice_client.post(release).status_code == 204
    eventually(lambda: Job.objects.get(pk=answer.job.pk).status == "cancelled", what="the job is cancelled")
    eventually(lambda: sleeping_backends() == 0, what="the backend stops sleeping")


def test_the_per_project_limit_queues_the_extra_jobs(worker, project, settings):
    settings.ANALYSIS_JOBS_PER_PROJECT = 1
    other = ProjectFactory()
    first = job_request(project=project, kind="test_sleep", params={"seconds": 60}).job
    second = job_request(project=project, kind="test_sleep", params={"seconds": 61}).job
    elsewhere = job_request(project=other, kind="test_sleep", params={"seconds": 62}).job
    eventually(lambda: sleeping_backends() == 2, what="one job per project runs")

    def status(job):
        return Job.objects.get(pk=job.pk).status

    assert (status(first), status(second), status(elsewhere)) == ("running", "queued", "running")
    services.job_cancel(Job.objects.get(pk=first.pk))
    eventually(lambda: status(second) == "running", what="the queued job starts once the first ends")
    for job in (second, elsewhere):
        services.job_cancel(Job.objects.get(pk=job.pk))
    eventually(lambda: sleeping_backends() == 0, what="every backend stops")


def test_a_failed_job_shows_its_error_and_nothing_answers_500(worker, project, alice_client):
    job = job_request(project=project, kind="test_break", params={}, watch=True).job
    url = reverse("api_analysis_job", args=[project.pk, job.pk])
    body = alice_client.get(f"{url}?wait=20").json()
    assert body["status"] == "failed"
    assert body["error"] == f"This failed unexpectedly; the error was logged (job {job.pk})."
    panel = alice_client.get(reverse("job_panel", args=[project.pk, job.pk]))
    assert panel.status_code == 200 and "Could not compute this." in panel.content.decode()


def test_a_query_past_the_job_time_limit_fails_saying_so(worker, project, settings):
    settings.ANALYSIS_JOB_TIMEOUT_SECONDS = 1
    job = job_request(project=project, kind="test_sleep", params={"seconds": 30}, wait=20).job
    assert job.status == "failed" and "took longer than the 1 second limit" in job.error


def test_a_stopping_worker_hands_its_jobs_back(worker, project):
    job = job_request(project=project, kind="test_sleep", params={"seconds": 60}).job
    eventually(lambda: sleeping_backends() == 1, what="the job's query runs")
    worker.stop()
    eventually(lambda: Job.objects.get(pk=job.pk).status == "queued", what="the job is queued again")
    eventually(lambda: sleeping_backends() == 0, what="its query stops")


def test_another_projects_member_gets_404_for_a_job(project, visits, alice_client, bob_client):
    url = api(project, "api_analysis_funnel")
    alice_client.post(url, funnel_params(), content_type="application/json")
    job = Job.objects.get(project=project)
    api_url = reverse("api_analysis_job", args=[project.pk, job.pk])
    assert bob_client.get(api_url).status_code == 404
    assert bob_client.delete(api_url).status_code == 404
    assert bob_client.get(reverse("job_panel", args=[project.pk, job.pk])).status_code == 404
    assert bob_client.post(reverse("job_release", args=[project.pk, job.pk])).status_code == 404
    assert alice_client.get(api_url).json()["status"] == "done"


def test_a_job_no_worker_claims_says_the_worker_may_be_stopped(project, alice_client, settings):
    settings.ANALYSIS_JOBS = "worker"  # and none runs
    job = job_request(project=project, kind="test_sleep", params={"seconds": 1}, watch=True).job
    panel = reverse("job_panel", args=[project.pk, job.pk])
    assert "analysis worker may be stopped" not in alice_client.get(panel).content.decode()
    Job.objects.filter(pk=job.pk).update(created_at=job.created_at - timedelta(minutes=1))
    assert "analysis worker may be stopped" in alice_client.get(panel).content.decode()
