from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from segments.models import Segment, SegmentationModel, SegmentStatus
from tests.factories import ProjectFactory
from tracking.demo_world.seed import WorldOptions, world_seed
from tracking.demo_world.starter import STARTER_ACTIONS, seed_if_empty, starter_segments
from tracking.models import Action, Event, Person

pytestmark = pytest.mark.django_db

TINY = WorldOptions(
    persons=150, days=30, seed=3, until=datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0)
)


def test_it_seeds_an_empty_project_with_starters_and_computed_segments():
    project = ProjectFactory()
    out = StringIO()

    assert seed_if_empty(project, out, options=TINY) is True

    assert Person.objects.filter(project=project).count() == 150
    assert set(Action.objects.filter(project=project).values_list("name", flat=True)) == {
        a.name for a in STARTER_ACTIONS
    }
    segments = Segment.objects.filter(project=project)
    assert {name for name, _, _ in starter_segments()} <= set(segments.values_list("name", flat=True))
    assert SegmentationModel.objects.filter(project=project, name="Lifecycle").count() == 1
    assert all(s.status == SegmentStatus.READY and s.computed_at is not None for s in segments)
    assert sum(s.size for s in segments.filter(model__isnull=False)) == 150
    assert "Seeding the demo project" in out.getvalue()


def test_it_leaves_a_project_with_data_alone():
    project = ProjectFactory()
    world_seed(project=project, options=WorldOptions(persons=5, days=5, seed=1, until=TINY.until))
    events = Event.objects.filter(project_id=project.pk).count()

    assert seed_if_empty(project, options=TINY) is False

    assert Event.objects.filter(project_id=project.pk).count() == events
    assert not Segment.objects.filter(project=project).exists()
    assert not Action.objects.filter(project=project).exists()


def test_the_command_seeds_a_chosen_project_and_reports():
    project = ProjectFactory()
    out = StringIO()

    call_command(
        "seed_demo",
        "--persons",
        "40",
        "--days",
        "20",
        "--until",
        "2026-11-29",
        "--project",
        str(project.pk),
        stdout=out,
    )

    assert Person.objects.filter(project=project).count() == 40
    assert "Done in" in out.getvalue()
    assert "events/s" in out.getvalue()


def test_the_command_refuses_a_project_that_has_data():
    project = ProjectFactory()
    call_command(
        "seed_demo", "--persons", "20", "--days", "10", "--project", str(project.pk), stdout=StringIO()
    )

    with pytest.raises(CommandError, match="already has data"):
        call_command(
            "seed_demo", "--persons", "20", "--days", "10", "--project", str(project.pk), stdout=StringIO()
        )


def test_the_command_rejects_a_bad_end_date():
    with pytest.raises(CommandError, match="--until"):
        call_command("seed_demo", "--until", "yesterday", stdout=StringIO())
