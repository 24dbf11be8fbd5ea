"""The strategy page: outcome metrics, which segment gets which treatment, reporting-only segments, merge candidates."""

from __future__ import annotations

import re

import pytest

from analysis.models import Metric
from interventions import services
from segments.lifecycle import custom_model_create
from segments.services import segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
GOAL = {"event": {"name": "upgraded"}, "within_days": 7}


def rule(plan: str) -> dict:
    return {
        "match": "all",
        "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": plan}],
    }


def url(project) -> str:
    return f"/p/{project.pk}/interventions/strategy/"


@pytest.fixture
def world(project, send, on_commit):
    """A model Plans = Pro / Team / Everyone else, and two standalone segments."""
    send([event("$identify", f"u{i}", **{"$set": {"plan": plan, "country": "FR" if i % 2 else "DE"}})
          for i, plan in enumerate(["pro", "team", "free", "free"])])  # fmt: skip
    with on_commit():
        model = custom_model_create(
            project=project,
            name="Plans",
            groups=[("Pro", rule("pro")), ("Team", rule("team"))],
            remainder_name="Everyone else",
        )
        french = segment_create(project=project, name="French", definition={"match": "all", "conditions": [
            {"type": "person", "property": "country", "operator": "eq", "value": "FR"}]})  # fmt: skip
        germans = segment_create(project=project, name="Germans", definition={"match": "all", "conditions": [
            {"type": "person", "property": "country", "operator": "eq", "value": "DE"}]})  # fmt: skip
    groups = {g.name.removeprefix("Plans: "): g for g in model.groups.all()}
    return model, groups, french, germans


def _row(body: str, segment) -> str:
    match = re.search(
        rf'<tr class="[^"]*">\s*<td><a href="/p/\d+/segments/{segment.pk}/">.*?</tr>', body, re.S
    )
    assert match, segment.name
    return match.group(0)


def test_segments_no_intervention_acts_on_are_reporting_only(alice_client, project, world):
    _, groups, french, germans = world
    services.nudge_save(
        project=project,
        data={
            "name": "Upgrade nudge",
            "title": "t",
            "segments": [groups["Pro"].pk],
            "status": "live",
            "goal": GOAL,
        },
    )
    services.nudge_save(project=project, data={"name": "Draft nudge", "title": "t", "segments": [french.pk]})
    services.alert_save(project=project, data={"segment": germans.pk, "threshold_percent": 10})
    body = alice_client.get(url(project)).content.decode()
    pro = _row(body, groups["Pro"])
    assert "Upgrade nudge" in pro and '<span class="badge ok">acted on</span>' in pro
    # a draft changes nothing yet; an alert tells the team, not the segment's people
    draft = _row(body, french)
    assert (
        'class="reporting-only"' in draft
        and "Draft nudge" in draft
        and 'class="treatment not-acting"' in draft
    )
    watched = _row(body, germans)
    assert '<span class="badge warn">reporting only</span>' in watched and "±10% within a day" in watched
    assert "4 segments</strong> are reporting only" in body  # Team, Everyone else, French, Germans


def test_groups_of_a_model_with_the_same_treatment_are_candidates_to_merge(alice_client, project, world):
    model, groups, *_ = world
    pro, team, rest = groups["Pro"], groups["Team"], groups["Everyone else"]
    services.nudge_save(
        project=project, data={"name": "Upgrade nudge", "title": "t", "segments": [pro.pk], "status": "live"}
    )
    flag = services.flag_save(project=project, data={"key": "seats", "enabled": True,
                                                     "rules": [{"segment": team.pk, "rollout": 50}, {"segment": rest.pk, "rollout": 50}]})  # fmt: skip
    body = alice_client.get(url(project)).content.decode()
    section = body.split(f'id="model-{model.pk}"')[1].split("</section>")[0]
    candidates = re.findall(r'<p class="callout merge">.*?</p>', section, re.S)
    assert len(candidates) == 1
    assert (
        "<strong>Team</strong>, <strong>Everyone else</strong>" in candidates[0]
        and "flag seats" in candidates[0]
    )
    assert "<strong>Pro</strong>" not in candidates[0]
    assert "merge-candidate" in _row(section, team) and "merge-candidate" not in _row(section, pro)
    # a different rollout is a different gate: nothing left to merge
    services.flag_save(
        project=project,
        flag=flag,
        data={"rules": [{"segment": team.pk, "rollout": 50}, {"segment": rest.pk, "rollout": 0}]},
    )
    body = alice_client.get(url(project)).content.decode()
    assert 'class="callout merge"' not in body


def test_a_model_none_of_whose_groups_is_treated_is_reporting_only_as_a_whole(alice_client, project, world):
    model, groups, *_ = world
    services.flag_save(
        project=project,
        data={"key": "off", "enabled": False, "rules": [{"segment": groups["Pro"].pk, "rollout": 100}]},
    )
    body = alice_client.get(url(project)).content.decode()
    section = body.split(f'id="model-{model.pk}"')[1].split("</section>")[0]
    assert "No group of this model is treated differently: the whole model is reporting only." in section
    assert 'class="callout merge"' not in section


def test_interventions_for_everyone_are_listed_apart(alice_client, project, world):
    services.survey_save(project=project, data={"name": "NPS for all", "key": "nps", "status": "live",
                                                "questions": [{"key": "q", "type": "open", "prompt": "Why?"}]})  # fmt: skip
    body = alice_client.get(url(project)).content.decode()
    everyone = body.split('id="for-everyone"')[1].split("</section>")[0]
    assert "NPS for all" in everyone


def test_each_treatments_lift_within_the_segment_is_measured_lazily(alice_client, project, world):
    _, groups, *_ = world
    nudge = services.nudge_save(
        project=project,
        data={"name": "n", "title": "t", "segments": [groups["Pro"].pk], "status": "live", "goal": GOAL},
    )
    body = alice_client.get(url(project)).content.decode()
    lift = f"/p/{project.pk}/interventions/nudges/{nudge.pk}/lift/?segment={groups['Pro'].pk}"
    assert f'hx-get="{lift}" hx-trigger="revealed"' in body
    fragment = alice_client.get(lift, **HTMX).content.decode()
    assert f'id="lift-nudge-{nudge.pk}-s{groups["Pro"].pk}"' in fragment and "not enough data yet" in fragment


def test_the_outcomes_are_the_projects_target_metrics(alice_client, project, world):
    body = alice_client.get(url(project)).content.decode()
    assert "No outcome written down yet." in body and f'href="/p/{project.pk}/analysis/metrics/new/"' in body
    metric = Metric.objects.create(project=project, name="Activation", kind="activation",
                                   definition={"event": {"name": "created_project"}, "within_days": 7})  # fmt: skip
    body = alice_client.get(url(project)).content.decode()
    assert f'<a href="/p/{project.pk}/analysis/metrics/{metric.pk}/">Activation</a>' in body
    assert "did created_project within 7 days of first being seen" in body
    assert f"/p/{project.pk}/analysis/compare/?metric={metric.pk}" in body
