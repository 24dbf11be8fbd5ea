"""The demo's starters, on the demo's own world: every page has something true to show on first open."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta

import pytest
from django.test import Client

from analysis.kinds import analysis_run
from analysis.models import Metric, SavedAnalysis
from demo.world import campaigns
from demo.world.catalog import REGRESSION_BROWSER
from demo.world.starter import (
    LIFECYCLE_NAME,
    LIFECYCLE_ORDER,
    OUTCOME_METRIC,
    POWER_AT_RISK,
    STARTER_METRICS,
    WEBHOOK_URL,
    starter_analyses,
)
from interventions.measure import measure
from interventions.models import Exposure, FeatureFlag, Nudge, SegmentAlert, Status, Survey, Webhook
from interventions.targeting import bucket, pick_variant
from segments.models import Segment
from tests.demo_world.conftest import OPTIONS, at_now
from tests.factories import MembershipFactory, UserFactory
from tracking.models import Event, PersonDistinctId, Role

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# something each dashboard card shows once computed
SHOWN = {
    "funnel": "<strong>Safari</strong> stands out",
    "compare": "significantly higher",
    "retention": "Week 1",
    "paths": "/demo/checkout/",
}


@pytest.fixture
def member(world) -> Client:
    user = UserFactory(email="demo-world@tasklane.test")
    MembershipFactory(organization=world.project.organization, user=user, role=Role.OWNER)
    client = Client()
    client.force_login(user)
    return client


def _nudge(world, plan: campaigns.NudgePlan) -> Nudge:
    return Nudge.objects.get(project=world.project, name=plan.name)


def _flag(world) -> FeatureFlag:
    return FeatureFlag.objects.get(project=world.project, key=campaigns.FLAG_KEY)


# -- what the starters create -----------------------------------------------------------------------


def test_the_analysis_pages_have_metrics_and_rolling_saved_analyses(world, member):
    project = world.project
    assert sorted(Metric.objects.filter(project=project).values_list("name", flat=True)) == sorted(
        m.name for m in STARTER_METRICS
    )
    saved = list(SavedAnalysis.objects.filter(project=project).order_by("created_at", "pk"))
    anything = defaultdict(int)
    assert [s.name for s in saved] == [
        name for name, _, _ in starter_analyses(segments=anything, metrics=anything)
    ]
    assert {s.kind for s in saved} == {"funnel", "compare", "retention", "paths"}
    assert all("last_days" in s.params and "date_from" not in s.params for s in saved)

    hub = member.get(f"/p/{project.pk}/analysis/").content.decode()
    assert f'Metrics <span class="muted">({len(STARTER_METRICS)})</span>' in hub
    assert f'Saved analyses <span class="muted">({len(saved)})</span>' in hub
    with at_now():
        for card in saved:
            body = member.get(f"/p/{project.pk}/analysis/saved/{card.pk}/", **HTMX).content.decode()
            assert "form-errors" not in body and "Too slow" not in body, card.name
            assert SHOWN[card.kind] in body, card.name


def test_the_interventions_are_live_and_the_surveys_stay_paused(world):
    project = world.project
    for plan in campaigns.NUDGES:
        nudge = _nudge(world, plan)
        assert nudge.status == Status.LIVE and nudge.holdout_percent == plan.holdout_percent
        assert [s.name for s in nudge.segments.all()] == [plan.segment]
        assert nudge.goal["event"]["name"] == plan.goal["event"]["name"]
        # live since its first generated event, three weeks before the world's end
        assert abs((world.options.until - nudge.live_since).days - campaigns.LIVE_DAYS) <= 1
    flag = _flag(world)
    power = Segment.objects.get(project=project, name=campaigns.FLAG_SEGMENT)
    assert flag.enabled and [v["key"] for v in flag.variants] == ["control", "new"]
    assert flag.rules == [{"segment": power.pk, "rollout": 100}, {"segment": None, "rollout": 30}]
    assert set(Survey.objects.filter(project=project).values_list("status", flat=True)) == {Status.PAUSED}
    webhook = Webhook.objects.get(project=project)
    assert webhook.url == WEBHOOK_URL and not webhook.active and not webhook.deliveries.exists()
    alert = SegmentAlert.objects.get(project=project)
    assert alert.segment.name == POWER_AT_RISK and alert.active


# -- the analysis app finds what the world holds ------------------------------------------------------


def _saved(world, kind: str, contains: str) -> SavedAnalysis:
    return SavedAnalysis.objects.get(project=world.project, kind=kind, name__contains=contains)


def test_the_checkout_funnel_by_browser_singles_out_safari(world):
    saved = _saved(world, "funnel", "browser")
    with at_now():
        result = analysis_run(project=world.project, kind="funnel", params=saved.params)

    assert [step.label for step in result.overall.steps][-1] == "purchase"
    assert result.highlight is not None
    assert result.highlight.row.label == REGRESSION_BROWSER and result.highlight.step == 3
    assert result.highlight.rate < result.highlight.rest_rate - 0.2
    assert result.highlight.p_value < 0.05 / result.tests


def test_the_lifecycle_stages_differ_in_activation(world):
    with at_now():
        result = analysis_run(
            project=world.project, kind="compare", params=_saved(world, "compare", "").params
        )
    assert result.query.metric.name == "Activation"
    assert [g.label for g in result.groups] == [f"{LIFECYCLE_NAME}: {s}" for s in LIFECYCLE_ORDER]
    assert any(g.significant for g in result.groups[1:])


# -- the interventions measure their history -----------------------------------------------------------


def test_the_checkout_nudge_lifts_payments_significantly(world):
    nudge = _nudge(world, campaigns.FINISH_UPGRADE)
    with at_now():
        result = measure(project=world.project, kind="nudge", obj=nudge, timeline=False)

    exposed, holdout = result.groups
    assert (exposed.label, holdout.label) == ("exposed", "holdout")
    assert exposed.persons + holdout.persons >= 300
    assert 0.12 <= holdout.persons / (exposed.persons + holdout.persons) <= 0.28  # a 20% holdout
    assert result.comparison.enough_data
    assert exposed.rate > holdout.rate and result.comparison.lift > 0.5
    assert result.comparison.p_value < 0.01


def test_the_checkout_nudge_lifts_payments_within_its_segment_as_overall(world):
    """Membership at exposure comes from the rebuilt history: the targeted segment's people who saw the
    nudge paid as the exposed did overall, not 0% (survivors of a segment first computed after them)."""
    nudge = _nudge(world, campaigns.FINISH_UPGRADE)
    segment = Segment.objects.get(project=world.project, name=campaigns.FINISH_UPGRADE.segment)
    assert segment.history_from is not None and segment.history_from <= OPTIONS.until.date() - timedelta(
        days=50
    )
    with at_now():
        result = measure(
            project=world.project, kind="nudge", obj=nudge, segment_ids=[segment.pk], timeline=False
        )

    overall = {g.label: g for g in result.groups}
    [within] = result.by_segment
    groups = {g["label"]: g for g in within["groups"]}
    # most of the measured people were in the segment when they were first exposed (or held out)
    assert groups["exposed"]["persons"] >= 0.6 * overall["exposed"].persons
    assert groups["holdout"]["persons"] >= 0.6 * overall["holdout"].persons
    assert groups["exposed"]["rate"] > 0.1 and groups["exposed"]["rate"] > groups["holdout"]["rate"]
    assert abs(groups["exposed"]["rate"] - overall["exposed"].rate) < 0.1
    assert abs(groups["holdout"]["rate"] - overall["holdout"].rate) < 0.1


def test_every_exposure_is_summarised_from_its_events(world):
    project = world.project
    nudge = _nudge(world, campaigns.FINISH_UPGRADE)
    refs = [p.ref for p in campaigns.NUDGES]
    assert not Event.objects.filter(
        project_id=project.pk, name__in=campaigns.NUDGE_EVENTS, properties__contains={"$nudge_id": refs[0]}
    ).exists()  # bound to the real nudge
    persons = (
        Event.objects.filter(
            project_id=project.pk,
            name__in=campaigns.NUDGE_EVENTS,
            properties__contains={"$nudge_id": nudge.pk},
        )
        .values("person_id")
        .distinct()
        .count()
    )
    exposures = Exposure.objects.filter(project=project, kind="nudge", object_id=nudge.pk)
    assert exposures.count() == persons
    held_out = exposures.filter(held_out=True)
    assert held_out.exists() and not held_out.filter(times_shown__gt=0).exists()
    assert all(variant == "holdout" for variant in held_out.values_list("variant", flat=True))
    assert (
        exposures.filter(clicked_at__isnull=False).exists()
        and exposures.filter(dismissed_at__isnull=False).exists()
    )
    nps = Survey.objects.get(project=project, key="nps")
    assert Exposure.objects.filter(
        project=project, kind="survey", object_id=nps.pk, answered_at__isnull=False
    ).exists()


def test_the_flag_serves_both_variants_by_the_products_own_rules(world):
    project = world.project
    flag = _flag(world)
    exposures = list(
        Exposure.objects.filter(project=project, kind="flag", object_id=flag.pk).values_list(
            "person_id", "variant"
        )
    )
    variants = [variant for _, variant in exposures]
    assert set(variants) == {"control", "new"}
    assert 0.4 < variants.count("new") / len(variants) < 0.6
    user_ids = dict(
        PersonDistinctId.objects.filter(
            project=project, person_id__in=[p for p, _ in exposures], distinct_id__startswith="tl-user-"
        ).values_list("person_id", "distinct_id")
    )
    for person_id, variant in exposures:
        assert variant == pick_variant(flag.key, user_ids[person_id], flag.variants)
    # everyone else enters the experiment at 30%; power users always do, so more than 30% of those served
    in_rollout = sum(1 for p, _ in exposures if bucket(flag.key, user_ids[p]) * 100 < 30)
    assert in_rollout < len(exposures)

    with at_now():
        result = measure(project=project, kind="flag", obj=flag, timeline=False)
    control, new = result.groups
    assert (control.label, new.label) == ("control", "new") and new.rate > control.rate
    assert result.comparison.p_value < 0.05


# -- the strategy page ---------------------------------------------------------------------------------


def test_the_strategy_page_shows_treated_reporting_only_and_merge_candidates(world, member):
    project = world.project
    with at_now():
        body = member.get(f"/p/{project.pk}/interventions/strategy/").content.decode()

    assert body.count('<span class="badge ok">acted on</span>') >= 3
    assert body.count('<span class="badge warn">reporting only</span>') >= 3
    merges = re.findall(r'<p class="callout merge">(.*?)</p>', body, re.S)
    assert len(merges) == 1 and "get exactly the same treatment — none" in merges[0]
    assert all(
        f"<strong>{group}</strong>" in merges[0]
        for group in ("Dormant", "New", "Activated", "Never activated")
    )
    assert "At risk" not in merges[0] and "Power users" not in merges[0]
    assert f">{OUTCOME_METRIC}</a>" in body  # the outcome, from the analysis app's metrics
    assert "Finish your upgrade" in body and campaigns.FLAG_KEY in body


def test_the_flags_lift_within_power_users_is_measured(world, member):
    project = world.project
    flag = _flag(world)
    power = Segment.objects.get(project=project, name=campaigns.FLAG_SEGMENT)
    with at_now():
        fragment = member.get(
            f"/p/{project.pk}/interventions/flags/{flag.pk}/lift/?segment={power.pk}", **HTMX
        )
    assert fragment.status_code == 200
    assert '<span class="badge ok">better</span>' in fragment.content.decode()
