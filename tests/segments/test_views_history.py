"""The pages' membership history: members on a past day, the rebuild and its progress, the traits that
fell back to their current value, the size chart from the first reconstructed day, a person's timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Job, JobStatus
from segments.history_jobs import KIND
from segments.models import Segment, SegmentSizeSnapshot
from segments.services import segment_create
from tests.segments.test_history_api import days_ago, upgraders  # noqa: F401 - a fixture
from tests.segments.test_segments_api import PRO
from tracking.models import Person, PersonTrait

pytestmark = pytest.mark.django_db

HTMX_MEMBERS_ON = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "members-on"}


@pytest.fixture
def pro(project, upgraders, on_commit) -> Segment:  # noqa: F811 - the fixture, used
    with on_commit():
        segment = segment_create(project=project, name="Pro", definition=PRO)
    segment.refresh_from_db()
    assert segment.history_built_at is not None
    return segment


def page(project, segment, query: str = "") -> str:
    return f"/p/{project.pk}/segments/{segment.pk}/{query}"


def test_the_segment_page_has_the_members_on_picker_and_the_rebuild_status(alice_client, project, pro):
    response = alice_client.get(page(project, pro))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="members-on"' in body and 'type="date" name="on"' in body
    assert f'History rebuilt from <time datetime="{pro.history_from:%Y-%m-%d}">' in body
    assert f'action="/p/{project.pk}/segments/{pro.pk}/history/rebuild/"' in body
    assert 'id="trait-fallbacks"' not in body  # every plan came with its $set


def test_members_on_a_past_day_come_from_the_stored_history(alice_client, project, pro):
    day = days_ago(2).date()
    response = alice_client.get(page(project, pro, f"?on={day:%Y-%m-%d}"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<strong>2</strong> members at the end of" in body and "from the stored history" in body
    assert "u1@x.io" in body and "u3@x.io" in body and "u0@x.io" not in body
    before = alice_client.get(page(project, pro, f"?on={days_ago(7).date():%Y-%m-%d}"), **HTMX_MEMBERS_ON)
    fragment = before.content.decode()
    assert fragment.lstrip().startswith('<section class="card table-scroll" id="members-on">')
    assert "<strong>0</strong> members" in fragment


def test_members_on_a_day_before_the_history_are_evaluated(alice_client, project, pro):
    Segment.objects.filter(pk=pro.pk).update(history_from=days_ago(1).date())
    body = alice_client.get(page(project, pro, f"?on={days_ago(3).date():%Y-%m-%d}"), **HTMX_MEMBERS_ON)
    assert (
        "<strong>2</strong> members" in body.content.decode()
        and "evaluated as of then" in body.content.decode()
    )


@pytest.mark.parametrize(
    ("value", "says"), [("2999-01-01", "This day is in the future"), ("soon", "Enter a valid date")]
)
def test_a_bad_day_is_named_in_the_form(alice_client, project, pro, value, says):
    response = alice_client.get(page(project, pro, f"?on={value}"), **HTMX_MEMBERS_ON)
    assert response.status_code == 200
    assert f"Members on: {says}" in response.content.decode()


def test_a_running_rebuild_shows_its_progress_and_a_cancel_button(alice_client, project, pro):
    job = Job.objects.create(
        project=project,
        kind=KIND,
        params={"segment_id": pro.pk},
        key="k" * 64,
        data_version=0,
        status=JobStatus.RUNNING,
        progress=0.4,
        started_at=timezone.now(),
    )
    body = alice_client.get(page(project, pro)).content.decode()
    assert f'id="job-{job.pk}"' in body and "Computing membership history… 40%" in body
    assert f'hx-post="/p/{project.pk}/jobs/{job.pk}/cancel/"' in body
    assert 'id="history-rebuild"' not in body  # no second rebuild while one runs


def test_rebuilding_from_the_page_queues_the_job_and_rebuilds(alice_client, project, pro):
    SegmentSizeSnapshot.objects.filter(segment=pro).delete()
    response = alice_client.post(page(project, pro, "history/rebuild/"))
    assert response.status_code == 302
    assert Job.objects.filter(project=project, kind=KIND, params__segment_id=pro.pk).count() == 2
    assert SegmentSizeSnapshot.objects.filter(segment=pro, reconstructed=True).exists()


def test_the_page_says_which_traits_fell_back_to_their_current_value(alice_client, project, pro):
    person = Person.objects.get(project=project, distinct_ids__distinct_id="user-1")
    PersonTrait.objects.filter(person=person, key="plan").delete()
    body = alice_client.get(page(project, pro)).content.decode()
    assert 'id="trait-fallbacks"' in body and "<code>plan</code> (person trait, 1 person)" in body


def test_the_size_chart_starts_at_the_first_reconstructed_day(alice_client, project, pro):
    # a history longer than the old 90-day window
    first = pro.history_from - timedelta(days=120)
    SegmentSizeSnapshot.objects.create(
        project=project, segment=pro, date=first, size=0, entered=0, exited=0, reconstructed=True
    )
    response = alice_client.get(page(project, pro))
    trend = response.context["trend"]
    assert trend.known_labels[0] == f"{first:%b} {first.day}"
    assert "Size, since the beginning" in response.content.decode()
    short = alice_client.get(page(project, pro, "?range=30")).context["trend"]
    assert len(short.days) == 30


def test_the_list_shows_the_reconstructed_days_in_its_30_days_column(alice_client, project, pro):
    response = alice_client.get(f"/p/{project.pk}/segments/")
    [(segment, trend)] = response.context["rows"]
    assert segment.pk == pro.pk
    assert len(trend.known_sizes) >= 10  # ten days back, not just today
    assert trend.known_sizes[0] == 0 and trend.known_sizes[-1] == 2
    assert '<svg class="sparkline"' in response.content.decode()


def test_the_person_page_shows_the_segments_timeline(alice_client, project, pro):
    person = Person.objects.get(project=project, distinct_ids__distinct_id="user-1")
    body = alice_client.get(
        f"/p/{project.pk}/persons/{person.pk}/segments/", HTTP_HX_REQUEST="true"
    ).content.decode()
    entered = days_ago(5).date()
    assert 'id="segments-timeline"' in body
    assert "from about <time" in body and f">{entered:%b} {entered.day}, {entered:%Y}</time>" in body
    assert ">reconstructed</span>" in body and "until now" in body


def test_another_projects_member_gets_404_for_the_history_parts(bob_client, project, pro):
    assert bob_client.get(page(project, pro, "?on=2026-01-01"), **HTMX_MEMBERS_ON).status_code == 404
    assert bob_client.post(page(project, pro, "history/rebuild/")).status_code == 404
    assert not Job.objects.filter(project=project, kind=KIND).exclude(status=JobStatus.DONE).exists()
