from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from analysis.models import Metric, SavedAnalysis
from demo.world import campaigns
from demo.world.seed import WorldOptions, world_seed
from demo.world.starter import (
    STARTER_ACTIONS,
    STARTER_METRICS,
    seed_if_empty,
    starter_segments,
    starters_create,
)
from interventions.models import Exposure, FeatureFlag, Nudge, SegmentAlert, Webhook
from segments.models import Segment, SegmentationModel, SegmentStatus
from tests.factories import ProjectFactory
from tracking.models import Action, Event, Person

pytestmark = pytest.mark.django_db

TINY = WorldOptions(
    persons=150, days=30, seed=3, until=datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0)
)


def test_it_seeds_an_empty_project_with_starters_computed_segments_and_exposures_once():
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
    assert Metric.objects.filter(project=project).count() == len(STARTER_METRICS)
    assert SavedAnalysis.objects.filter(project=project).count() == 4
    assert Nudge.objects.filter(project=project).count() == len(campaigns.NUDGES)
    assert FeatureFlag.objects.filter(project=project, key=campaigns.FLAG_KEY, enabled=True).exists()
    assert Webhook.objects.filter(project=project, active=False).count() == 1
    assert SegmentAlert.objects.filter(project=project).count() == 1
    assert Exposure.objects.filter(project=project, kind="nudge").exists()
    assert Exposure.objects.filter(project=project, kind="flag").exists()
    assert "Seeding the demo project" in out.getvalue() and "exposures" in out.getvalue()

    # a second run finds everything there: nothing is created twice, no exposure counted twice
    models = (Action, Segment, Metric, SavedAnalysis, Nudge, FeatureFlag, Webhook, SegmentAlert, Exposure)
    counts = [model.objects.filter(project=project).count() for model in models]
    shown = sum(Exposure.objects.filter(project=project).values_list("times_shown", flat=True))
    starters_create(project=project)
    assert [model.objects.filter(project=project).count() for model in models] == counts
    assert sum(Exposure.objects.filter(project=project).values_list("times_shown", flat=True)) == shown


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
