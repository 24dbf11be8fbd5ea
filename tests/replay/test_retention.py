from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_q.models import Schedule

from replay.models import Recording, RecordingChunk, RecordingRetentionRule
from replay.services import recordings_expire, retention_rule_save
from segments.models import Segment, SegmentMembership
from tracking.models import Session

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _files(media_root) -> set[str]:
    return {str(p.relative_to(media_root)) for p in media_root.rglob("*.json.gz")}


@pytest.fixture
def power_users(recorded_project):
    return Segment.objects.create(project=recorded_project, name="Power users", kind="static")


def _join(segment, recording, *, exited=None):
    SegmentMembership.objects.create(
        project=segment.project, segment=segment, person=recording.person, entered_at=NOW - timedelta(days=200),
        exited_at=exited,
    )  # fmt: skip


def test_recordings_past_the_project_retention_are_deleted_with_their_files(
    record, recorded_project, media_root, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        old = record("s-old", "anon-old", at=_ms(NOW - timedelta(days=31)))
        edge = record("s-edge", "anon-edge", at=_ms(NOW - timedelta(days=29, hours=23)))
        recent = record("s-new", "anon-new", at=_ms(NOW - timedelta(days=2)))
        old_files = {c.storage_path for c in old.chunks.all()}
        assert old_files <= _files(media_root)

        with django_capture_on_commit_callbacks(execute=True):
            assert recordings_expire() == 1

    assert set(Recording.objects.values_list("session_key", flat=True)) == {"s-edge", "s-new"}
    assert not RecordingChunk.objects.filter(recording_id=old.pk).exists()
    assert not old_files & _files(media_root)
    assert {c.storage_path for r in (edge, recent) for c in r.chunks.all()} == _files(media_root)
    assert not Session.objects.get(session_key="s-old").has_recording
    assert Session.objects.get(session_key="s-new").has_recording


def test_a_segment_rule_keeps_its_current_members_recordings_longer(
    record, recorded_project, power_users, media_root, django_capture_on_commit_callbacks
):
    retention_rule_save(project=recorded_project, segment=power_users, days=90)
    with time_machine.travel(NOW, tick=False):
        member = record("s-member", "anon-1", at=_ms(NOW - timedelta(days=60)))
        too_old = record("s-member-older", "anon-1", at=_ms(NOW - timedelta(days=91)))
        outsider = record("s-outsider", "anon-2", at=_ms(NOW - timedelta(days=60)))
        former = record("s-former", "anon-3", at=_ms(NOW - timedelta(days=60)))
        _join(power_users, member)
        _join(power_users, former, exited=NOW - timedelta(days=1))
        assert too_old.person_id == member.person_id

        with django_capture_on_commit_callbacks(execute=True):
            assert recordings_expire() == 3

    assert list(Recording.objects.values_list("session_key", flat=True)) == ["s-member"]
    assert _files(media_root) == {c.storage_path for c in member.chunks.all()}
    assert not Recording.objects.filter(pk__in=[outsider.pk, former.pk, too_old.pk]).exists()


def test_a_rule_never_shortens_the_project_retention(
    record, recorded_project, power_users, django_capture_on_commit_callbacks
):
    from replay.forms import RetentionRuleForm

    retention_rule_save(project=recorded_project, segment=power_users, days=20)
    with time_machine.travel(NOW, tick=False):
        member = record("s-member", "anon-1", at=_ms(NOW - timedelta(days=25)))
        _join(power_users, member)
        with django_capture_on_commit_callbacks(execute=True):
            assert recordings_expire() == 0
    assert Recording.objects.filter(pk=member.pk).exists()
    form = RetentionRuleForm({"segment": power_users.pk, "days": 30}, project=recorded_project)
    assert not form.is_valid()
    assert "longer than the project's 30 days" in form.errors["days"][0]


def test_the_retention_task_is_scheduled_hourly():
    from importlib import import_module

    from django.apps import apps

    # Browser tests empty the database (data migrations included): run the migration's step again.
    import_module("replay.migrations.0002_schedule_retention").schedule(apps, None)
    schedule = Schedule.objects.get(name="replay: recording retention")
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "replay.tasks.expire_recordings",
        "H",
        -1,
    )
    from replay import tasks

    assert tasks.expire_recordings() == 0


def test_rules_belong_to_their_project(recorded_project, other_project):
    from django.core.exceptions import ValidationError

    foreign = Segment.objects.create(project=other_project, name="Theirs", kind="static")
    with pytest.raises(ValidationError):
        retention_rule_save(project=recorded_project, segment=foreign, days=90)
    assert not RecordingRetentionRule.objects.exists()
