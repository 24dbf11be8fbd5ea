"""Rebuilding history for segments that have none, and the operator's command."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from jobs.models import Job
from segments.definition import validate_definition
from segments.history_jobs import KIND
from segments.models import Segment, SegmentMembership
from segments.services import segment_compute
from segments.tasks import history_backfill
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

DID_SIGN_UP = validate_definition(
    {"match": "all", "conditions": [{"type": "behavior", "event": {"name": "signed_up"}}]}
)


@pytest.fixture
def signed_up(send, on_commit):
    days_ago = datetime.now(UTC) - timedelta(days=5)
    with on_commit():
        send(
            [
                event("signed_up", f"u{i}", timestamp=(days_ago + timedelta(days=i)).isoformat())
                for i in range(3)
            ]
        )


def test_segments_without_a_history_get_one_from_the_periodic_pass(project, signed_up):
    segment = Segment.objects.create(project=project, name="Signed up", definition=DID_SIGN_UP)
    segment_compute(segment=segment)
    assert segment.history_built_at is None and segment.memberships.filter(reconstructed=True).count() == 0

    assert history_backfill() == 1
    segment.refresh_from_db()
    assert segment.history_built_at is not None
    # each entered at the midnight after their sign-up (the day they met the definition), but today's
    entries = sorted(
        SegmentMembership.objects.filter(segment=segment).values_list("entered_at", "reconstructed")
    )
    assert len(entries) == 3 and [r for _, r in entries].count(True) >= 2
    assert history_backfill() == 0  # built: nothing to queue
    assert Job.objects.filter(project=project, kind=KIND).count() == 1


def test_a_failed_rebuild_is_not_retried_every_minute(project, signed_up):
    segment = Segment.objects.create(project=project, name="Signed up", definition=DID_SIGN_UP)
    segment_compute(segment=segment)
    Job.objects.create(
        project=project,
        kind=KIND,
        params={"segment_id": segment.pk},
        key="k",
        data_version=0,
        status="failed",
    )
    assert history_backfill() == 0


def test_the_command_rebuilds_and_says_what_it_did(project, signed_up):
    segment = Segment.objects.create(project=project, name="Signed up", definition=DID_SIGN_UP)
    segment_compute(segment=segment)
    out = io.StringIO()
    call_command("segment_history", project=project.pk, stdout=out)
    segment.refresh_from_db()
    assert segment.history_from is not None
    assert f"{project.pk}/{segment.pk} Signed up: " in out.getvalue() and "3 members now" in out.getvalue()
    assert "person evaluations (in one pass)" in out.getvalue()


def test_a_rebuild_past_its_own_time_limit_says_what_to_change(project, signed_up, settings):
    from segments.history_jobs import history_request

    settings.SEGMENT_HISTORY_TIMEOUT_SECONDS = 0  # out of time at its first evaluation
    segment = Segment.objects.create(project=project, name="Signed up", definition=DID_SIGN_UP)
    segment_compute(segment=segment)
    job = history_request(segment).job
    job.refresh_from_db()
    assert job.status == "failed" and "SEGMENT_HISTORY_TIMEOUT_SECONDS" in job.error, job.error
    segment.refresh_from_db()
    assert segment.history_built_at is None  # nothing half-written
