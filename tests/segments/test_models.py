"""Segmentation models: every person is in exactly one group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from segments.lifecycle import LifecycleParameters, custom_model_create, lifecycle_model_create
from segments.models import SegmentMembership
from tests.ingest.conftest import event
from tracking.models import Person

pytestmark = pytest.mark.django_db


def _ago(**kwargs) -> str:
    return (datetime.now(UTC) - timedelta(**kwargs)).isoformat()


@pytest.fixture
def lifecycle_world(send):
    """One person per stage, by construction."""
    send(
        [
            event(distinct_id="dormant", timestamp=_ago(days=80)),
            event(distinct_id="dormant", timestamp=_ago(days=45)),
        ]
    )
    send([event(distinct_id="new", timestamp=_ago(days=2))])
    power = [
        event("created_task", "power", timestamp=_ago(days=d, minutes=m))
        for d in range(0, 20, 2)
        for m in (1, 2)
    ]
    send([event(distinct_id="power", timestamp=_ago(days=40)), *power])
    send(
        [
            event(distinct_id="activated", timestamp=_ago(days=40)),
            event("created_task", "activated", timestamp=_ago(days=3)),
        ]
    )
    send([event(distinct_id="at-risk", timestamp=_ago(days=40)), event("created_task", "at-risk", timestamp=_ago(days=25)),
          event(distinct_id="at-risk", timestamp=_ago(days=1))])  # fmt: skip
    send(
        [
            event(distinct_id="never", timestamp=_ago(days=40)),
            event(distinct_id="never", timestamp=_ago(days=5)),
        ]
    )


def test_the_lifecycle_model_puts_each_person_in_exactly_one_stage(project, lifecycle_world, on_commit):
    with on_commit():
        model = lifecycle_model_create(
            project=project,
            name="Lifecycle",
            parameters=LifecycleParameters(core_event={"name": "created_task"}),
        )
    placed = {}
    for group in model.groups.all():
        for membership in SegmentMembership.objects.filter(
            segment=group, exited_at__isnull=True
        ).select_related("person"):
            did = membership.person.distinct_ids.first().distinct_id
            assert did not in placed, f"{did} is in {placed.get(did)} and {group.name}"
            placed[did] = group.name.split(": ")[1]
    assert placed == {
        "dormant": "Dormant", "new": "New", "power": "Power users", "activated": "Activated",
        "at-risk": "At risk", "never": "Never activated",
    }  # fmt: skip
    assert len(placed) == Person.objects.filter(project=project).count()


def test_a_custom_model_assigns_first_match_and_the_rest(project, send, on_commit):
    send(
        [
            event("$identify", f"u{i}", **{"$set": {"plan": plan}})
            for i, plan in enumerate(["pro", "pro", "team", "free"])
        ]
    )
    pro = {
        "match": "all",
        "conditions": [{"type": "person", "property": "plan", "operator": "in", "value": ["pro", "team"]}],
    }
    team = {
        "match": "all",
        "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "team"}],
    }
    with on_commit():
        model = custom_model_create(project=project, name="Plans", groups=[("Paid", pro), ("Team", team)])
    sizes = {
        g.name: SegmentMembership.objects.filter(segment=g, exited_at__isnull=True).count()
        for g in model.groups.all()
    }
    # "team" is paid too, and paid comes first: the team group is empty
    assert sizes == {"Plans: Paid": 3, "Plans: Team": 0, "Plans: Everyone else": 1}


def test_lifecycle_parameters_are_validated(project):
    with pytest.raises(ValidationError) as error:
        lifecycle_model_create(
            project=project, name="x", parameters=LifecycleParameters(core_event={"name": "a"}, new_days=0)
        )
    assert "new_days" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        lifecycle_model_create(
            project=project, name="x", parameters=LifecycleParameters(core_event={"action": 99999})
        )
    assert "core_event" in error.value.message_dict
