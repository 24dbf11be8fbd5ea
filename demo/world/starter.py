"""What the demo project opens onto: the seeded world plus what a product team would have set up on it.

Starter actions, surveys, segments and a lifecycle model; target metrics and
saved analyses (the Analysis dashboard); the team's nudges and feature flag
(`campaigns`), a webhook and an alert. Everything is created through the
apps' own services, as a product team would create it in the UI. The segments
are computed right here (not by the worker) so that the Segments page is full
on the first visit, and the nudges' and the flag's generated history becomes
exposures, as ingestion would have made them, so that their results pages
measure it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analysis.models import Metric, SavedAnalysis
from analysis.services import metric_create, saved_analysis_create
from demo.world import campaigns
from demo.world.catalog import GOALS, REGRESSION_BROWSER, REGRESSION_DAYS
from demo.world.journeys import GOAL_QUESTION, NPS_QUESTION
from demo.world.recordings import recordings_seed
from demo.world.seed import WorldOptions, project_is_empty, world_seed
from interventions.exposures import record_exposures
from interventions.models import Exposure, FeatureFlag, Nudge, SegmentAlert, Survey, Webhook
from interventions.services import alert_save, flag_save, nudge_save, survey_save, webhook_save
from segments.history import reconstruct
from segments.lifecycle import LifecycleParameters, lifecycle_model_create
from segments.models import Segment, SegmentationModel
from segments.services import segment_compute, segment_create
from tracking.eventstore.bulk import (
    EventFacts,
    events_property_rebind,
    events_with_property,
    first_event_time,
)
from tracking.models import Action, Project
from tracking.services.actions import action_create

DEMO_PERSONS = 2000
DEMO_DAYS = 60
DEMO_SEED = 20261129
LIFECYCLE_NAME = "Lifecycle"
CORE_EVENT = "created_task"
# the lifecycle groups as the dashboard compares them: the others against "Activated"
LIFECYCLE_ORDER = ("Activated", "New", "Power users", "At risk", "Never activated")
CHECKOUT_VIEW = {
    "name": "$pageview",
    "where": [{"property": "$pathname", "operator": "eq", "value": "/demo/checkout/"}],
}
PRICING_VIEW = {
    "name": "$pageview",
    "where": [{"property": "$pathname", "operator": "eq", "value": "/demo/pricing/"}],
}


@dataclass(frozen=True)
class StarterAction:
    name: str
    description: str
    steps: list[dict]


STARTER_ACTIONS: tuple[StarterAction, ...] = (
    StarterAction(
        "Started trial", "Submitted the sign-up form's button.", [{"event": "$autocapture", "selector": "#start-trial"}]
    ),
    StarterAction(
        "Clicked pay", "Clicked the checkout's pay button (whether or not it worked).",
        [{"event": "$autocapture", "selector": "#checkout-pay"}],
    ),
    StarterAction(
        "Paid", "Reached the page shown after a successful payment.",
        [{"event": "$pageview", "url": "/demo/checkout/complete/", "url_matching": "contains"}],
    ),
    StarterAction(
        "Created project", "The onboarding checklist's Create project button.",
        [{"event": "$autocapture", "selector": "#create-project"}],
    ),
    StarterAction(
        "Invited teammate", "Sent an invitation from the checklist.", [{"event": "$autocapture", "selector": "#send-invite"}]
    ),
    StarterAction(
        "Rage-clicked checkout", "Three quick clicks on a pay button that did not respond.",
        [{"event": "$rageclick", "selector": "#checkout-pay"}],
    ),
    StarterAction(
        "Used timeline", "Opened the board's timeline view.",
        [{"event": "$pageview", "url": "/demo/board/timeline/", "url_matching": "contains"}],
    ),
)  # fmt: skip

STARTER_SURVEYS: tuple[dict, ...] = (
    {
        "name": "Net Promoter Score",
        "key": "nps",
        "questions": [
            {
                "key": NPS_QUESTION,
                "type": "rating",
                "prompt": "How likely are you to recommend Tasklane to a colleague?",
                "scale": 10,
            }
        ],
        "status": "paused",
    },
    {
        "name": "Onboarding goal",
        "key": "goal",
        "questions": [
            {
                "key": GOAL_QUESTION,
                "type": "single",
                "prompt": "What do you most want Tasklane to help you with?",
                "choices": list(GOALS),
            }
        ],
        "status": "paused",
    },
)


REGRESSION_SEGMENT = f"{REGRESSION_BROWSER} users in the last {REGRESSION_DAYS} days"
PROMOTERS = "Promoters (NPS ≥ 9)"
POWER_AT_RISK = "Power users at risk"
ENTERPRISE = "Enterprise prospects"


def starter_segments() -> list[tuple[str, str, dict]]:
    """(name, description, definition) of the segments a new demo user finds."""
    return [
        (
            POWER_AT_RISK,
            "Created 10+ tasks, but active on at most 2 of the last 14 days (and still seen this month).",
            {"match": "all", "conditions": [
                {"type": "behavior", "event": {"name": CORE_EVENT}, "count": {"operator": "gte", "value": 10}},
                {"type": "active_days", "count": {"operator": "lte", "value": 2}, "window": {"last_days": 14}},
                {"type": "last_seen", "operator": "within_last_days", "value": 30},
            ]},
        ),
        (
            "Reached checkout but did not pay",
            "Opened the checkout and did not buy within a week.",
            {"match": "all", "conditions": [
                {"type": "sequence", "within_days": 7, "last_step": "did_not", "steps": [
                    {"name": "$pageview", "where": [{"property": "$pathname", "operator": "eq", "value": "/demo/checkout/"}]},
                    {"name": "purchase"},
                ]},
            ]},
        ),
        (
            ENTERPRISE,
            "People at companies of 200+ employees that are not on Business yet.",
            {"match": "all", "conditions": [
                {"type": "company", "property": "size_band", "operator": "in", "value": ["201-1000", "1000+"]},
                {"type": "company", "property": "plan", "operator": "neq", "value": "business"},
            ]},
        ),
        (
            REGRESSION_SEGMENT,
            f"Had a session in {REGRESSION_BROWSER} recently.",
            {"match": "all", "conditions": [
                {"type": "device", "property": "browser", "operator": "eq", "value": REGRESSION_BROWSER,
                 "window": {"last_days": REGRESSION_DAYS}},
            ]},
        ),
        (
            PROMOTERS,
            "Answered 9 or 10 to the NPS survey.",
            {"match": "all", "conditions": [
                {"type": "survey", "survey": "nps", "question": NPS_QUESTION, "operator": "gte", "value": 9},
            ]},
        ),
    ]  # fmt: skip


@dataclass(frozen=True)
class StarterMetric:
    name: str
    kind: str
    description: str
    definition: dict


OUTCOME_METRIC = "Checkout conversion"
WEBHOOK_NAME = "Enterprise prospects to the CRM"
WEBHOOK_URL = "https://hooks.example/crm"
ALERT_EMAIL = "success-team@tasklane.example"
SURVEY_EVENTS = ("$survey_shown", "$survey_dismissed", "$survey_response", "$survey_held_out")
STARTER_METRICS: tuple[StarterMetric, ...] = (
    StarterMetric(
        OUTCOME_METRIC, "conversion",
        "The outcome to move this quarter: of the people who open the checkout, the share who pay within a day. "
        "The “Finish your upgrade” nudge aims at it; the Safari regression pulls it down.",
        {"from": CHECKOUT_VIEW, "to": {"name": "purchase"}, "within": {"value": 1, "unit": "days"}},
    ),
    StarterMetric(
        "Activation", "activation", "New people who create a project within their first week.",
        {"event": {"name": "created_project"}, "within_days": 7},
    ),
    StarterMetric(
        "Week-1 retention", "retention", "New people who come back in their second week.",
        {"event": None, "period": "week", "n": 1},
    ),
    StarterMetric(
        "Revenue per person", "value", "Purchase amounts (USD) per active person.",
        {"event": {"name": "purchase"}, "property": "amount", "aggregate": "sum", "per": "active"},
    ),
    StarterMetric(
        "Churn (14 days inactive)", "churn", "Active people who then stay away for two weeks.", {"days": 14},
    ),
    StarterMetric(
        "Tasks per active day", "frequency", "How much work people get done on the days they show up.",
        {"event": {"name": CORE_EVENT}},
    ),
)  # fmt: skip


def starter_analyses(*, segments: dict[str, int], metrics: dict[str, int]) -> list[tuple[str, str, dict]]:
    """(name, kind, params) of the dashboard's cards, in order; date ranges roll (`last_days`) so they stay current."""
    return [
        (
            f"Checkout by browser, last {REGRESSION_DAYS} days", "funnel",
            {"steps": [PRICING_VIEW, CHECKOUT_VIEW, {"name": "purchase"}], "within": {"value": 1, "unit": "days"},
             "breakdown": {"type": "browser"}, "last_days": REGRESSION_DAYS},
        ),
        (
            "Activation by lifecycle stage", "compare",
            {"metric": metrics["Activation"], "segments": [segments[f"{LIFECYCLE_NAME}: {stage}"] for stage in LIFECYCLE_ORDER],
             "last_days": 30},
        ),
        (
            "Weekly retention: promoters and everyone", "retention",
            {"period": "week", "periods": 6, "event": None, "segments": [segments[PROMOTERS]], "last_days": 56},
        ),
        (
            "Where people go after pricing", "paths",
            {"start": {"path": "/demo/pricing/"}, "direction": "next", "steps": "pageviews", "last_days": 30},
        ),
    ]  # fmt: skip


def _plural(what: str, count: int) -> str:
    if count != 1:
        return what
    return what.removesuffix("es") + "is" if what.endswith("analyses") else what.removesuffix("s")


def _say(stdout: TextIO | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def starters_create(
    *, project: Project, stdout: TextIO | None = None, user=None, compute: bool = True
) -> None:
    """Create the starter objects that are missing (by name), compute every segment among them, record exposures.

    Computed segments get their membership history too, unless SEGMENT_HISTORY_DAYS is 0.
    `compute=False` leaves the new segments to the worker, which computes them
    as it computes any new segment.
    """

    started = time.monotonic()
    for action in STARTER_ACTIONS:
        if not Action.objects.filter(project=project, name=action.name).exists():
            action_create(
                project=project,
                user=user,
                name=action.name,
                steps=action.steps,
                description=action.description,
            )
    new_surveys: list[Survey] = []
    for survey in STARTER_SURVEYS:
        if not Survey.objects.filter(project=project, key=survey["key"]).exists():
            new_surveys.append(survey_save(project=project, data=survey, user=user))

    to_compute: list[Segment] = []
    for name, description, definition in starter_segments():
        if not Segment.objects.filter(project=project, name=name).exists():
            to_compute.append(
                segment_create(
                    project=project,
                    name=name,
                    description=description,
                    definition=definition,
                    created_by=user,
                )
            )
    if not SegmentationModel.objects.filter(project=project, name=LIFECYCLE_NAME).exists():
        model = lifecycle_model_create(
            project=project,
            name=LIFECYCLE_NAME,
            parameters=LifecycleParameters(core_event={"name": CORE_EVENT}),
            created_by=user,
        )
        to_compute += list(model.groups.order_by("model_position"))
    segments = dict(Segment.objects.filter(project=project).values_list("name", "pk"))
    made = _analysis_starters(project=project, segments=segments, user=user)
    made.update(_intervention_starters(project=project, segments=segments, user=user))
    if any(made.values()):
        listed = ", ".join(f"{count} {_plural(what, count)}" for what, count in made.items() if count)
        _say(stdout, f"  {listed} ({time.monotonic() - started:.1f} s)\n")

    now = timezone.now()
    for segment in to_compute if compute else ():
        started = time.monotonic()
        change = segment_compute(segment=segment, now=now)
        history = ""
        if settings.SEGMENT_HISTORY_DAYS > 0:  # 0 turns membership history off, as for the worker
            history = f", history of {reconstruct(segment, now=now).days} days"
        _say(
            stdout,
            f"  segment {segment.name}: {change.size:,} people{history} ({time.monotonic() - started:.1f} s)\n",
        )
    started = time.monotonic()
    recorded = exposures_record(project=project, surveys=new_surveys)
    if recorded:
        _say(
            stdout,
            f"  {recorded:,} exposures to nudges, surveys and the flag ({time.monotonic() - started:.1f} s)\n",
        )


def _analysis_starters(*, project: Project, segments: dict[str, int], user=None) -> dict[str, int]:
    """The target metrics and the dashboard's saved analyses, through the analysis app's services."""

    made = {"metrics": 0, "saved analyses": 0}
    for metric in STARTER_METRICS:
        if not Metric.objects.filter(project=project, name=metric.name).exists():
            metric_create(
                project=project,
                name=metric.name,
                kind=metric.kind,
                definition=metric.definition,
                description=metric.description,
                created_by=user,
            )
            made["metrics"] += 1
    metrics = dict(Metric.objects.filter(project=project).values_list("name", "pk"))
    needed = {PROMOTERS, *(f"{LIFECYCLE_NAME}: {stage}" for stage in LIFECYCLE_ORDER)}
    if not needed <= set(segments) or "Activation" not in metrics:
        return made  # renamed or deleted by someone: leave the dashboard to them
    for name, kind, params in starter_analyses(segments=segments, metrics=metrics):
        if not SavedAnalysis.objects.filter(project=project, name=name).exists():
            saved_analysis_create(project=project, name=name, kind=kind, params=params, created_by=user)
            made["saved analyses"] += 1
    return made


def _intervention_starters(*, project: Project, segments: dict[str, int], user=None) -> dict[str, int]:
    """The team's nudges and flag (live since their first generated event), a webhook and an alert."""

    made = {"nudges": 0, "flags": 0, "webhooks": 0, "alerts": 0}
    for plan in campaigns.NUDGES:
        if plan.segment not in segments or Nudge.objects.filter(project=project, name=plan.name).exists():
            continue
        nudge = nudge_save(
            project=project,
            user=user,
            data={
                "name": plan.name, "kind": plan.kind, "title": plan.title, "body": plan.body,
                "cta_text": plan.cta_text, "cta_url": plan.cta_url, "url_matching": "contains", "url": plan.url,
                "segments": [segments[plan.segment]], "holdout_percent": plan.holdout_percent, "goal": plan.goal,
                "frequency_days": plan.frequency_days, "max_impressions": plan.max_impressions,
                "stop_after_click": True, "trigger": "page_load", "status": "live",
            },
        )  # fmt: skip
        if nudge_events_bind(project=project, ref=plan.ref, nudge_id=nudge.pk):
            first = _first_event(project, campaigns.NUDGE_EVENTS, {"$nudge_id": nudge.pk})
            Nudge.objects.filter(pk=nudge.pk).update(live_since=first, created_at=first)
        made["nudges"] += 1
    goal_action = Action.objects.filter(project=project, name=campaigns.FLAG_GOAL_ACTION).first()
    if (
        campaigns.FLAG_SEGMENT in segments
        and goal_action is not None
        and not FeatureFlag.objects.filter(project=project, key=campaigns.FLAG_KEY).exists()
    ):
        flag = flag_save(
            project=project,
            user=user,
            data={
                "key": campaigns.FLAG_KEY, "description": campaigns.FLAG_DESCRIPTION, "enabled": True,
                "variants": [dict(v) for v in campaigns.FLAG_VARIANTS],
                "rules": [{"segment": segments[campaigns.FLAG_SEGMENT], "rollout": 100},
                          {"segment": None, "rollout": campaigns.FLAG_EVERYONE_ROLLOUT}],
                "goal": {"event": {"action": goal_action.pk}, "within_days": campaigns.FLAG_GOAL_DAYS},
            },
        )  # fmt: skip
        first = _first_event(project, ("$flag_called",), {"$flag": campaigns.FLAG_KEY})
        if first is not None:
            FeatureFlag.objects.filter(pk=flag.pk).update(created_at=first)
        made["flags"] += 1
    if ENTERPRISE in segments and not Webhook.objects.filter(project=project, name=WEBHOOK_NAME).exists():
        # inactive: the address is a placeholder, and nothing should leave a demo
        webhook_save(
            project=project,
            data={"name": WEBHOOK_NAME, "url": WEBHOOK_URL, "segments": [segments[ENTERPRISE]],
                  "on_entry": True, "on_exit": False, "active": False},
        )  # fmt: skip
        made["webhooks"] += 1
    if (
        POWER_AT_RISK in segments
        and not SegmentAlert.objects.filter(project=project, segment_id=segments[POWER_AT_RISK]).exists()
    ):
        alert_save(
            project=project,
            data={"segment": segments[POWER_AT_RISK], "threshold_percent": 25, "window": "week",
                  "emails": ALERT_EMAIL, "active": True},
        )  # fmt: skip
        made["alerts"] += 1
    return made


def _first_event(project: Project, names: tuple[str, ...], properties: dict) -> datetime | None:
    return first_event_time(project.pk, names, properties)


def nudge_events_bind(*, project: Project, ref: str, nudge_id: int) -> int:
    """Point the generated events of the nudge `ref` at the nudge just created (`$nudge_id`); returns how many."""
    return events_property_rebind(project.pk, campaigns.NUDGE_EVENTS, "$nudge_id", ref, nudge_id)


def exposures_record(*, project: Project, surveys=()) -> int:
    """Exposures from the stored events of the starter nudges and flag and of new surveys, as ingestion makes them.

    The seeded events were written with COPY, not ingested, so nothing has
    summarised them yet; `interventions.exposures.record_exposures` does it
    from the same events. A flag's exposure keeps only its first call, so only
    each person's first `$flag_called` is passed.
    """

    events: list[EventFacts] = []
    nudges = [
        str(pk)
        for pk in Nudge.objects.filter(
            project=project, name__in=[p.name for p in campaigns.NUDGES]
        ).values_list("pk", flat=True)
        if not Exposure.objects.filter(project=project, kind="nudge", object_id=pk).exists()
    ]
    if nudges:
        events += events_with_property(project.pk, campaigns.NUDGE_EVENTS, "$nudge_id", nudges)
    keys = [s.key for s in surveys]
    if keys:
        events += events_with_property(project.pk, SURVEY_EVENTS, "$survey", keys)
    flag = FeatureFlag.objects.filter(project=project, key=campaigns.FLAG_KEY).first()
    if (
        flag is not None
        and not Exposure.objects.filter(project=project, kind="flag", object_id=flag.pk).exists()
    ):
        events += events_with_property(
            project.pk, ("$flag_called",), "$flag", [flag.key], first_per_person=True
        )
    with transaction.atomic():  # one commit, not one per row
        return record_exposures(project.pk, events)


def demo_world_options(now: datetime | None = None) -> WorldOptions:
    """The demo project's world: ends at the current hour, so the last days are full of activity."""
    now = (now or timezone.now()).astimezone(UTC)
    return WorldOptions(
        persons=DEMO_PERSONS,
        days=DEMO_DAYS,
        seed=DEMO_SEED,
        until=now.replace(minute=0, second=0, microsecond=0),
    )


def seed_if_empty(
    project: Project, stdout: TextIO | None = None, *, options: WorldOptions | None = None
) -> bool:
    """Seed the project with the demo world and its starters when it has no data yet; True if it did."""
    if not project_is_empty(project):
        return False
    options = options or demo_world_options()
    _say(stdout, f"Seeding the demo project with {options.persons:,} people over {options.days} days…\n")
    report = world_seed(project=project, options=options)
    _say(
        stdout,
        f"  {report.events:,} events, {report.sessions:,} sessions, {report.persons:,} people, "
        f"{report.companies:,} companies in {report.seconds:.1f} s\n",
    )
    starters_create(project=project, stdout=stdout)

    made = recordings_seed(project=project)
    if made:
        _say(stdout, f"  {made} session recordings\n")
    return True
