"""What the Tasklane team runs on its users: two nudges and a feature flag, as the world plays them.

The same definitions serve the generator, which writes three weeks of their
history (who saw what, who was held out, who was served which variant, and
what they did next), and the starters, which create the nudges and the flag
through the interventions app so that their results pages measure that
history.

Generated events cannot know the database id of a nudge that does not exist
yet, so they carry the nudge's `ref` in `$nudge_id`; the starters replace it
with the real id when they create the nudge (`nudge_events_bind`). The flag
is named by its key, as `$flag_called` always is.

Who is served what follows the product's own rules: the flag's rollout and
variant come from `interventions.targeting` with the visitor's distinct id,
exactly as decide computes them, with the person's lifecycle stage taken
from their history so far. Nudge holdouts use the same stable hashing, keyed
by the nudge's ref (decide keys them by the nudge's id, which is not known
while the world is generated).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from demo.world.engagement import DAY
from interventions.targeting import bucket, pick_variant

LIVE_DAYS = 21  # the nudges and the flag went live three weeks before the world's end

# -- the nudges ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NudgePlan:
    ref: str  # stands in for the nudge's id in generated events until the starters create the nudge
    name: str
    segment: str  # the starter segment it targets (by name)
    kind: str
    title: str
    body: str
    cta_text: str
    cta_url: str
    url: str  # shown on pages whose URL contains this
    goal: dict  # {"event": E, "within_days": n}, events by name
    holdout_percent: int = 20
    frequency_days: int = 7
    max_impressions: int = 3


FINISH_UPGRADE = NudgePlan(
    ref="finish-upgrade",
    name="Finish your upgrade",
    segment="Reached checkout but did not pay",
    kind="modal",
    title="Finish your upgrade",
    body="You were one step away from Pro: unlimited projects, the timeline and automations for your whole team.",
    cta_text="Finish upgrading",
    cta_url="/demo/checkout/",
    url="/demo/board/",
    goal={"event": {"name": "purchase"}, "within_days": 7},
)
PICK_UP = NudgePlan(
    ref="pick-up",
    name="Pick up where you left off",
    segment="Lifecycle: At risk",
    kind="banner",
    title="Pick up where you left off",
    body="Your board kept everything in place. Add the next task and get the week moving.",
    cta_text="Add a task",
    cta_url="/demo/board/",
    url="/demo/board/",
    goal={"event": {"name": "created_task"}, "within_days": 7},
    holdout_percent=50,  # an experiment on half of the group: is a reminder worth it at all?
)
NUDGES: tuple[NudgePlan, ...] = (FINISH_UPGRADE, PICK_UP)
NUDGE_EVENTS = ("$nudge_shown", "$nudge_clicked", "$nudge_dismissed", "$nudge_held_out")

# How people answer "Finish your upgrade" the first time they see it (later times: half as often).
UPGRADE_CLICK = 0.3
UPGRADE_DISMISS = 0.45  # of the rest; the others close it by leaving the page
UPGRADE_LATER_EXPOSED = 0.12  # came back to pay within days without clicking
UPGRADE_LATER_HELD_OUT = 0.07  # the same, for people who never saw it
# "Pick up where you left off": a click adds a task at once.
PICK_UP_CLICK = 0.3
PICK_UP_DISMISS = 0.5

# -- the flag ------------------------------------------------------------------------------------------

FLAG_KEY = "new-board-view"
FLAG_DESCRIPTION = (
    "The redesigned board with the timeline one click away. Everyone in Power users gets a variant "
    "(control or new, half each); 30% of everyone else is in the experiment too."
)
FLAG_VARIANTS: tuple[dict, ...] = ({"key": "control", "weight": 50}, {"key": "new", "weight": 50})
FLAG_SEGMENT = "Lifecycle: Power users"
FLAG_EVERYONE_ROLLOUT = 30
FLAG_GOAL_ACTION = "Used timeline"  # the flag's goal: this starter action within 7 days
FLAG_GOAL_DAYS = 7
# With the new view, a working visit opens the timeline this much more often (of the chance left),
# and a visit that only looks around sometimes opens it too.
NEW_VIEW_TIMELINE = 0.12
NEW_VIEW_LOOK = 0.05


def flag_variant(distinct_id: str, *, power_user: bool) -> str:
    """The variant decide serves this visitor ("" for none): the flag's rules in order, as `flag_value` runs them."""

    if not power_user and bucket(FLAG_KEY, distinct_id) * 100 >= FLAG_EVERYONE_ROLLOUT:
        return ""
    return pick_variant(FLAG_KEY, distinct_id, list(FLAG_VARIANTS))


def held_out(plan: NudgePlan, distinct_id: str) -> bool:
    return bucket(f"holdout.nudge.{plan.ref}", distinct_id) * 100 < plan.holdout_percent


# -- a person's state, for eligibility -------------------------------------------------------------------


@dataclass
class NudgeState:
    held_out: bool
    first_at: float | None = None
    shown: int = 0
    last_shown: float | None = None
    clicked: bool = False


@dataclass
class History:
    """What a person has done so far that decides which segments they are in (kept while generating)."""

    task_times: list[float] = field(default_factory=list)  # in time order
    active_days: set[int] = field(default_factory=set)  # UTC day numbers with an event
    viewed_checkout: bool = False
    purchases: int = 0
    nudges: dict[str, NudgeState] = field(default_factory=dict)

    def tasks_since(self, t: float) -> int:
        return len(self.task_times) - bisect.bisect_left(self.task_times, t)

    def active_days_since(self, t: float) -> int:
        first = int(t // DAY)
        return sum(1 for day in self.active_days if day >= first)


def lifecycle_stage(history: History, *, first_seen: float | None, last_seen: float | None, t: float) -> str:
    """The person's group in the starter lifecycle model at `t` (its default parameters), first match wins."""
    if first_seen is None or last_seen is None:
        return "new"
    if last_seen < t - 30 * DAY:
        return "dormant"
    if first_seen >= t - 14 * DAY:
        return "new"
    if history.active_days_since(t - 27 * DAY) >= 8 and history.tasks_since(t - 28 * DAY) >= 10:
        return "power"
    if history.tasks_since(t - 14 * DAY):
        return "activated"
    if history.task_times:
        return "at_risk"
    return "never"
