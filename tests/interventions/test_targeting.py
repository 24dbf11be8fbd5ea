"""Flags, nudges and surveys reach the right people through decide, within one refresh."""

from __future__ import annotations

import orjson
import pytest

from interventions import services, targeting
from interventions.models import Exposure, Nudge
from segments.services import segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


def decide(client, project, distinct_id: str) -> dict:
    response = client.post(
        "/i/v1/decide",
        data=orjson.dumps({"api_key": project.public_key, "distinct_id": distinct_id}),
        content_type="text/plain",
    )
    assert response.status_code == 200
    return response.json()


def test_bucketing_is_deterministic_and_rollouts_hold_their_proportion():
    flag = {"key": "new-editor", "enabled": True, "rules": [{"segment": None, "rollout": 30}], "variants": []}
    first = [targeting.flag_value(flag, f"user-{i}", set()) for i in range(10_000)]
    again = [targeting.flag_value(flag, f"user-{i}", set()) for i in range(10_000)]
    assert first == again
    assert 0.28 <= sum(first) / 10_000 <= 0.32


def test_variants_split_by_weight_and_stay_put():
    flag = {"key": "pricing", "enabled": True, "rules": [{"segment": None, "rollout": 100}],
            "variants": [{"key": "control", "weight": 50}, {"key": "annual", "weight": 25}, {"key": "monthly", "weight": 25}]}  # fmt: skip
    values = [targeting.flag_value(flag, f"p{i}", set()) for i in range(10_000)]
    share = {v: values.count(v) / 10_000 for v in ("control", "annual", "monthly")}
    assert 0.48 <= share["control"] <= 0.52 and 0.23 <= share["annual"] <= 0.27
    assert values == [targeting.flag_value(flag, f"p{i}", set()) for i in range(10_000)]


def test_holdouts_hold_their_proportion():
    held = sum(targeting.held_out("nudge", 7, f"v{i}", 20) for i in range(10_000))
    assert 1800 <= held <= 2200


def test_the_kill_switch_turns_a_flag_off_for_everyone():
    flag = {"key": "x", "enabled": False, "rules": [{"segment": None, "rollout": 100}], "variants": []}
    assert not any(targeting.flag_value(flag, f"u{i}", set()) for i in range(100))


def test_a_person_entering_a_segment_gets_the_flag_on_the_next_decide(client, project, send, on_commit):
    with on_commit():
        segment = segment_create(project=project, name="Pro", definition=PRO)
    services.flag_save(
        project=project,
        data={"key": "beta", "enabled": True, "rules": [{"segment": segment.pk, "rollout": 100}]},
    )
    send([event(distinct_id="ann")])
    assert decide(client, project, "ann")["flags"] == {"beta": False}
    with on_commit():  # ingestion's commit queues the live refresh (inline in tests)
        send([event("$identify", "ann", **{"$set": {"plan": "pro"}})])
    targeting.forget()
    assert decide(client, project, "ann")["flags"] == {"beta": True}


def test_a_nudge_reaches_members_only_and_never_holdouts(client, project, send, on_commit):
    with on_commit():
        segment = segment_create(project=project, name="Pro", definition=PRO)
    with on_commit():
        send(
            [
                event("$identify", f"u{i}", **{"$set": {"plan": "pro" if i < 40 else "free"}})
                for i in range(60)
            ]
        )
    nudge = services.nudge_save(
        project=project,
        data={
            "name": "Try boards",
            "title": "Try boards",
            "body": "…",
            "status": "live",
            "segments": [segment.pk],
            "holdout_percent": 50,
        },
    )
    seen, held = set(), set()
    for i in range(60):
        answer = decide(client, project, f"u{i}")["nudges"]
        if i >= 40:
            assert answer == []
            continue
        assert len(answer) == 1
        (held if answer[0].get("held_out") else seen).add(i)
        if answer[0].get("held_out"):
            assert "title" not in answer[0]  # held-out visitors get no content to show
    assert seen and held and not seen & held
    assert all(targeting.held_out("nudge", nudge.pk, f"u{i}", 50) for i in held)


def test_shown_clicked_and_answered_events_update_exposures_and_caps(client, project, send, on_commit):
    nudge = services.nudge_save(
        project=project,
        data={"name": "n", "title": "Hello", "status": "live", "max_impressions": 1, "frequency_days": 0},
    )
    survey = services.survey_save(project=project, data={"name": "NPS", "key": "nps", "status": "live",
                                                         "questions": [{"key": "score", "type": "rating", "scale": 10, "prompt": "How likely…?"}]})  # fmt: skip
    send([event(distinct_id="v")])
    assert [n["id"] for n in decide(client, project, "v")["nudges"]] == [nudge.pk]
    assert [s["key"] for s in decide(client, project, "v")["surveys"]] == ["nps"]
    with on_commit():  # exposures are updated once the batch commits
        send(
            [
                event("$nudge_shown", "v", **{"$nudge_id": nudge.pk}),
                event(
                    "$survey_response",
                    "v",
                    **{"$survey": "nps", "$survey_id": survey.pk, "$answers": {"score": 9}},
                ),
            ]
        )
    exposure = Exposure.objects.get(kind="nudge", object_id=nudge.pk)
    assert exposure.times_shown == 1
    assert decide(client, project, "v")["nudges"] == []  # max one impression
    assert decide(client, project, "v")["surveys"] == []  # answered


def test_exposures_are_kept_only_for_the_projects_own_nudges_and_surveys(
    project, other_project, send, on_commit
):
    """The ids in the events are claims from the page: one naming nothing, or another project's, is dropped."""
    ours = services.nudge_save(project=project, data={"name": "n", "title": "Hi", "status": "live"})
    theirs = services.nudge_save(project=other_project, data={"name": "n", "title": "Hi", "status": "live"})
    their_survey = services.survey_save(project=other_project, data={"name": "NPS", "key": "nps", "status": "live",
                                                                     "questions": [{"key": "score", "type": "rating", "scale": 10, "prompt": "?"}]})  # fmt: skip
    with on_commit():
        response = send(
            [
                event("$nudge_shown", "v", **{"$nudge_id": ours.pk}),
                event("$nudge_shown", "v", **{"$nudge_id": theirs.pk}),
                event("$nudge_shown", "v", **{"$nudge_id": ours.pk + 1_000_000}),
                event("$survey_response", "v", **{"$survey_id": their_survey.pk, "$answers": {"score": 1}}),
            ]
        )
    assert response.json()["accepted"] == 4  # the events themselves are kept, as sent
    assert list(Exposure.objects.values_list("project_id", "kind", "object_id")) == [
        (project.pk, "nudge", ours.pk)
    ]


def test_a_segment_entry_nudge_skips_people_who_were_already_members(client, project, send, on_commit):
    with on_commit():
        send([event("$identify", "old", **{"$set": {"plan": "pro"}})])
        segment = segment_create(project=project, name="Pro", definition=PRO)
    services.nudge_save(project=project, data={"name": "Welcome to Pro", "title": "Welcome", "status": "live",
                                               "segments": [segment.pk], "trigger": Nudge.Trigger.SEGMENT_ENTRY})  # fmt: skip
    with on_commit():
        send([event("$identify", "new", **{"$set": {"plan": "pro"}})])
    targeting.forget()
    assert decide(client, project, "old")["nudges"] == []
    assert len(decide(client, project, "new")["nudges"]) == 1
