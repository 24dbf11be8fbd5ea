"""What a unit's simulation keeps track of: the visits still to render, each person's life, the company's plan."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from demo.world.engagement import Archetype, Curve
from demo.world.journeys import Habits
from demo.world.world import CompanyProfile


@dataclass(order=True)
class Visit:
    start: float
    order: int
    kind: str = field(compare=False)  # pre, signup, work, checkout, invite, seats
    payload: dict = field(compare=False, default_factory=dict)


@dataclass
class Life:
    """What is decided up front for a person who signs up."""

    signup_at: float
    archetype: Archetype
    curve: Curve
    depth: int  # 0 signed up, 1 used the checklist, 2 created a project, 3 created a task (activated)
    invited: bool
    habits: Habits
    invite_rate: float  # mean invitations sent beyond the accepted ones


@dataclass
class CompanyTimeline:
    """Plan and seats over time, as the champion's purchases leave them."""

    profile: CompanyProfile
    joins: list[float]
    changes: list[tuple[float, str, int]] = field(default_factory=list)  # (time, plan, seats)
    group_sets: list[tuple[float, dict]] = field(default_factory=list)

    def plan_at(self, t: float) -> tuple[str, int]:
        plan, seats = "free", 0
        for when, changed_plan, changed_seats in self.changes:
            if when > t:
                break
            plan, seats = changed_plan, changed_seats
        if plan == "free":
            seats = bisect.bisect_right(self.joins, t)
        return plan, seats

    def traits_at(self, t: float) -> dict:
        plan, seats = self.plan_at(t)
        return {**self.profile.traits(), "plan": plan, "seats": max(seats, 1)}
