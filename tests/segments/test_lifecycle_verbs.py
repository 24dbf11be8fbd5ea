"""first_time, stopped and restarted at a frozen moment: through ingestion, the API and the compiler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from segments.models import Segment, SegmentMembership
from tests.ingest.conftest import event
from tracking.models import PersonDistinctId

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


@pytest.fixture
def reporters(send, on_commit):
    """Who sent a report, and when (days before NOW)."""
    history = {
        "newcomer": [2],  # first time 2 days ago
        "edge": [7],  # exactly 7 days ago: inside "the last 7 days" (its start is included)
        "lapsed": [10, 12],  # in the 7 days before the last 7, not since
        "returning": [3, 20],  # back after a gap
        "steady": [1, 5, 9, 13, 20],  # never stopped
    }
    batch = [
        event("report", who, timestamp=_ago(days)) for who, days_list in history.items() for days in days_list
    ]
    with time_machine.travel(NOW, tick=False), on_commit():
        assert send(batch).json()["accepted"] == len(batch)
    return history


def _members(api, on_commit, definition) -> set[str]:
    """Save the segment (it is computed as the transaction commits) and read its members."""
    with on_commit():
        response = api("post", "/segments/", {"name": "s", "definition": definition})
    assert response.status_code == 201, response.json()
    segment = Segment.objects.get(pk=response.json()["id"])
    ids = list(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
            "person_id", flat=True
        )
    )
    return set(PersonDistinctId.objects.filter(person_id__in=ids).values_list("distinct_id", flat=True))


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"type": "first_time", "event": {"name": "report"}, "within_last_days": 7}, {"newcomer", "edge"}),
        ({"type": "first_time", "event": {"name": "report"}, "within_last_days": 1}, set()),
        ({"type": "stopped", "event": {"name": "report"}, "days": 7}, {"lapsed"}),
        ({"type": "restarted", "event": {"name": "report"}, "days": 7}, {"returning"}),
        ({"type": "restarted", "event": {"name": "report"}, "days": 2}, {"steady"}),
    ],
)
def test_lifecycle_verbs_at_a_frozen_moment(api, reporters, on_commit, condition, expected):
    with time_machine.travel(NOW, tick=False):
        assert _members(api, on_commit, {"match": "all", "conditions": [condition]}) == expected


def test_lifecycle_verbs_move_with_time(api, reporters, on_commit):
    stopped = {"match": "all", "conditions": [{"type": "stopped", "event": {"name": "report"}, "days": 7}]}
    with time_machine.travel(NOW + timedelta(days=4), tick=False):
        # four days on, the earlier period is [10, 3) days before NOW: "edge" has stopped too, and
        # "returning" (3 days before NOW) is still in the last period, by its included start
        assert _members(api, on_commit, stopped) == {"lapsed", "edge"}


@pytest.mark.parametrize(
    ("condition", "path"),
    [
        ({"type": "stopped", "event": {"name": "report"}, "days": 0}, "definition.conditions[0].days"),
        ({"type": "restarted", "event": {"name": "report"}}, "definition.conditions[0].days"),
        ({"type": "first_time", "event": {"name": ""}, "within_last_days": 7}, "definition.conditions[0].event.name"),
        ({"type": "first_time", "event": {"name": "report"}, "within_last_days": "soon"},
         "definition.conditions[0].within_last_days"),
    ],
)  # fmt: skip
def test_a_wrong_lifecycle_verb_is_named_by_its_path(api, condition, path):
    response = api(
        "post", "/segments/", {"name": "bad", "definition": {"match": "all", "conditions": [condition]}}
    )
    assert response.status_code == 400 and path in response.json(), response.json()
