"""A sequence whose window bounds only its first step, as a funnel's date range does."""

from __future__ import annotations

import pytest

from segments.definition import DefinitionError, validate_definition
from segments.describe import describe_text
from tests.factories import ProjectFactory
from tests.segments import reference
from tests.segments.test_differential import sql_members
from tests.segments.world import store_world

pytestmark = pytest.mark.django_db

# the world's now is Nov 15, 12:00 UTC; the window is Nov 10 to 12, ending Nov 13 00:00
NOV_9_23H, NOV_12_23H, NOV_13_01H, NOV_13_02H, NOV_14_01H = 7980, 3660, 3540, 3480, 2100
NOV_10_01H = 7860
CASES = [
    # (signed_up, created_project in minutes ago, did with the first step in the window, did with every step in it)
    ((NOV_12_23H, NOV_13_01H), True, False),  # the second step after the window's end, within the day
    ((NOV_12_23H, NOV_14_01H), False, False),  # too late even so
    ((NOV_13_01H, NOV_13_02H), False, False),  # the first step after the window
    ((NOV_9_23H, NOV_10_01H), False, False),  # the first step before it
    ((NOV_12_23H + 60, NOV_12_23H), True, True),  # all inside
]


def _definition(covers: str, last_step: str) -> dict:
    return validate_definition({"match": "all", "conditions": [{
        "type": "sequence", "steps": [{"name": "signed_up"}, {"name": "created_project"}], "within_days": 1,
        "last_step": last_step, "window": {"from": "2026-11-10", "to": "2026-11-12"}, "window_covers": covers,
    }]})  # fmt: skip


@pytest.mark.parametrize(("times", "first_step", "all_steps"), CASES)
def test_the_window_can_bound_only_the_first_step(events_backend, times, first_step, all_steps):
    project = ProjectFactory(timezone="UTC")
    events = [
        {"name": name, "minutes_ago": ago, "plan": None, "amount": None, "path": "/"}
        for name, ago in zip(("signed_up", "created_project"), times, strict=True)
    ]
    world = store_world(
        project, [{"properties": {}, "company": None, "surveys": [], "sessions": [], "events": events}]
    )
    for covers, expected in (("first_step", first_step), ("all_steps", all_steps)):
        did = _definition(covers, "did")
        assert bool(sql_members(did, project)) is expected, covers
        assert sql_members(did, project) == reference.members(did, world)
        did_not = _definition(covers, "did_not")
        started = times[0] in (NOV_12_23H, NOV_12_23H + 60)
        assert bool(sql_members(did_not, project)) is (started and not expected), covers
        assert sql_members(did_not, project) == reference.members(did_not, world)


def test_all_steps_is_the_default_and_is_not_stored():
    definition = _definition("all_steps", "did")
    assert "window_covers" not in definition["conditions"][0]
    assert _definition("first_step", "did")["conditions"][0]["window_covers"] == "first_step"


def test_a_bad_value_names_the_field():
    with pytest.raises(DefinitionError) as error:
        _definition("last_step", "did")
    assert error.value.path == "definition.conditions[0].window_covers"


def test_it_is_described_in_words():
    words = describe_text(_definition("first_step", "did_not"), ProjectFactory())
    assert "the first step between 2026-11-10 and 2026-11-12" in words
