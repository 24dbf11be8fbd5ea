"""What the demo project opens onto: the seeded world plus starter actions, surveys, segments and a lifecycle model.

Everything is created through the apps' own services, as a product team
would create it in the UI, and the segments are computed right here (not by
the worker) so that the Segments page is full on the first visit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from django.utils import timezone

from tracking.demo_world.catalog import GOALS, REGRESSION_BROWSER, REGRESSION_DAYS
from tracking.demo_world.journeys import GOAL_QUESTION, NPS_QUESTION
from tracking.demo_world.seed import WorldOptions, project_is_empty, world_seed
from tracking.models import Action, Project

DEMO_PERSONS = 2000
DEMO_DAYS = 60
DEMO_SEED = 20261129
LIFECYCLE_NAME = "Lifecycle"
CORE_EVENT = "created_task"


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


def starter_segments() -> list[tuple[str, str, dict]]:
    """(name, description, definition) of the segments a new demo user finds."""
    return [
        (
            "Power users at risk",
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
            "Enterprise prospects",
            "People at companies of 200+ employees that are not on Business yet.",
            {"match": "all", "conditions": [
                {"type": "company", "property": "size_band", "operator": "in", "value": ["201-1000", "1000+"]},
                {"type": "company", "property": "plan", "operator": "neq", "value": "business"},
            ]},
        ),
        (
            f"{REGRESSION_BROWSER} users in the last {REGRESSION_DAYS} days",
            f"Had a session in {REGRESSION_BROWSER} recently.",
            {"match": "all", "conditions": [
                {"type": "device", "property": "browser", "operator": "eq", "value": REGRESSION_BROWSER,
                 "window": {"last_days": REGRESSION_DAYS}},
            ]},
        ),
        (
            "Promoters (NPS ≥ 9)",
            "Answered 9 or 10 to the NPS survey.",
            {"match": "all", "conditions": [
                {"type": "survey", "survey": "nps", "question": NPS_QUESTION, "operator": "gte", "value": 9},
            ]},
        ),
    ]  # fmt: skip


def _say(stdout: TextIO | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def starters_create(*, project: Project, stdout: TextIO | None = None, user=None) -> None:
    """Create the starter objects that are missing (by name) and compute every segment among them."""
    from interventions.models import Survey
    from interventions.services import survey_save
    from segments.lifecycle import LifecycleParameters, lifecycle_model_create
    from segments.models import Segment, SegmentationModel
    from segments.services import segment_compute, segment_create
    from tracking.services.actions import action_create

    for action in STARTER_ACTIONS:
        if not Action.objects.filter(project=project, name=action.name).exists():
            action_create(
                project=project,
                user=user,
                name=action.name,
                steps=action.steps,
                description=action.description,
            )
    for survey in STARTER_SURVEYS:
        if not Survey.objects.filter(project=project, key=survey["key"]).exists():
            survey_save(project=project, data=survey, user=user)

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
    now = timezone.now()
    for segment in to_compute:
        started = time.monotonic()
        change = segment_compute(segment=segment, now=now)
        _say(
            stdout, f"  segment {segment.name}: {change.size:,} people ({time.monotonic() - started:.1f} s)\n"
        )


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
    from tracking.demo_world.recordings import recordings_seed

    made = recordings_seed(project=project)
    if made:
        _say(stdout, f"  {made} session recordings\n")
    return True
