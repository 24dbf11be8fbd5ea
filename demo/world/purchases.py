"""Buying, and the team's experiments: checkouts (with the planted Safari regression), upgrades,
seats, and the nudges and flag of `campaigns`.

A mixin of `behaviour.UnitSimulation`, which owns the state these read and write:
`rng`, `unit`, `period`, `timeline` and the order of the visits still to render.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable
from typing import TYPE_CHECKING

from demo.world import campaigns, journeys
from demo.world.campaigns import FINISH_UPGRADE, PICK_UP, NudgePlan, NudgeState
from demo.world.catalog import CHECKOUT_FAILURE, REGRESSION_BROWSER, REGRESSION_FAILURE
from demo.world.engagement import DAY, HOUR
from demo.world.journeys import Order, poisson
from demo.world.sessions import Actor, SessionBuilder
from demo.world.visits import Life, Visit
from demo.world.world import DESKTOP, device_use

if TYPE_CHECKING:
    import random

    from demo.world.engagement import Period
    from demo.world.visits import CompanyTimeline
    from demo.world.world import Unit


class Purchases:
    rng: random.Random
    unit: Unit
    period: Period
    timeline: CompanyTimeline | None
    _next: Callable[[], int]  # the order of the next visit to render

    def _checkout(
        self, sb: SessionBuilder, visit: Visit, visits: list[Visit], *, arrived: bool = False
    ) -> None:
        rng = self.rng
        actor = sb.actor
        payload = visit.payload
        plan = payload["plan"]
        if plan == "pro" and actor.history.purchases:
            return  # bought already (a nudge brought the purchase forward)
        if self.timeline is not None:
            current, seats = self.timeline.plan_at(sb.t)
            if current == plan or (current == "business" and plan == "pro"):
                return
            seats = max(seats, bisect.bisect_right(self.timeline.joins, sb.t), 3)
        else:
            seats = 1
        order = Order(plan=plan, seats=seats, billing="annual" if rng.random() < 0.35 else "monthly")
        regression = sb.device.browser == REGRESSION_BROWSER and sb.t >= self.period.regression_from
        fails = rng.random() < (REGRESSION_FAILURE if regression else CHECKOUT_FAILURE)
        sb.wait(10, 120)
        paid = journeys.checkout(sb, order=order, fails=fails, arrived=arrived)
        if not paid:
            actor.failed_checkouts += 1
            if payload["attempt"] < 3 and rng.random() < 0.75:
                retry = dict(payload, attempt=payload["attempt"] + 1)
                # after a failure some try another browser, which works
                if rng.random() < 0.4:
                    other = DESKTOP.pick(rng)
                    while other.browser == sb.device.browser:
                        other = DESKTOP.pick(rng)
                    retry["device"] = device_use(rng, other)
                else:
                    retry["device"] = sb.device
                heapq.heappush(
                    visits, Visit(sb.t + rng.uniform(0.2, 3) * DAY, self._next(), "checkout", retry)
                )
            return
        if self.timeline is not None and self.unit.company is not None:
            self.timeline.changes.append((sb.t, plan, seats))
            self.timeline.changes.sort()
            traits = {"plan": plan, "seats": seats}
            sb.group(self.unit.company.key, traits)
            self.timeline.group_sets.append((sb.t, traits))
        if payload.get("then_business") and plan == "pro":
            at = sb.t + (2 + rng.expovariate(1 / 12)) * DAY
            if at < self.period.end - 3 * HOUR:
                heapq.heappush(
                    visits, Visit(at, self._next(), "checkout", {"plan": "business", "attempt": 1})
                )

    # -- the team's nudges and flag (see `campaigns`) ---------------------------------------------------
    def _campaigns(
        self, sb: SessionBuilder, life: Life, visit: Visit, visits: list[Visit]
    ) -> tuple[str, bool]:
        """On the board at the start of a visit since they went live: the flag, then the nudges the person is due.

        Returns the flag variant served ("" for none) and whether a nudge's call
        to action took the visit over.
        """
        actor = sb.actor
        if sb.t < self.period.end - campaigns.LIVE_DAYS * DAY or not actor.identified:
            return "", False
        history = actor.history
        stage = campaigns.lifecycle_stage(
            history, first_seen=actor.first_seen, last_seen=actor.last_seen, t=sb.t
        )
        variant = campaigns.flag_variant(actor.distinct_id, power_user=stage == "power")
        if variant:
            sb.capture("$flag_called", {"$flag": campaigns.FLAG_KEY, "$flag_response": variant})
        if (
            history.viewed_checkout
            and not history.purchases
            and self._finish_upgrade(sb, life, visit, visits)
        ):
            return variant, True
        if stage == "at_risk":
            self._pick_up(sb)
        return variant, False

    def _nudge_turn(self, sb: SessionBuilder, plan: NudgePlan) -> tuple[NudgeState, str]:
        """Held out (reported once), shown (within the nudge's frequency rules), or nothing: "held_out", "shown", ""."""
        history = sb.actor.history
        state = history.nudges.get(plan.ref)
        if state is None:
            state = history.nudges[plan.ref] = NudgeState(
                held_out=campaigns.held_out(plan, sb.actor.distinct_id)
            )
        if state.held_out:
            if state.first_at is not None:
                return state, ""
            state.first_at = sb.t
            sb.capture("$nudge_held_out", {"$nudge_id": plan.ref})
            return state, "held_out"
        if state.clicked or state.shown >= plan.max_impressions:
            return state, ""
        if state.last_shown is not None and sb.t - state.last_shown < plan.frequency_days * DAY:
            return state, ""
        if state.first_at is None:
            state.first_at = sb.t
        state.shown += 1
        state.last_shown = sb.t
        sb.capture("$nudge_shown", {"$nudge_id": plan.ref})
        return state, "shown"

    def _on_free_plan(self, t: float) -> bool:
        return self.timeline is None or self.timeline.plan_at(t)[0] == "free"

    def _can_upgrade(self, actor: Actor, life: Life, t: float) -> bool:
        """Could this person buy Pro now? Active users of a free workspace nobody else upgrades later."""
        if life.depth < 3:
            return False
        if self.timeline is None:
            return True
        if self.timeline.plan_at(t)[0] != "free":
            return False
        champion = actor.profile is self.unit.people[0]
        return champion or all(when <= t for when, _, _ in self.timeline.changes)

    def _finish_upgrade(self, sb: SessionBuilder, life: Life, visit: Visit, visits: list[Visit]) -> bool:
        """The checkout reminder; True when its call to action took the visit to the checkout."""
        rng = self.rng
        state, turn = self._nudge_turn(sb, FINISH_UPGRADE)
        if not turn:
            return False
        can_buy = self._can_upgrade(sb.actor, life, sb.t)
        if turn == "held_out":
            if can_buy and rng.random() < campaigns.UPGRADE_LATER_HELD_OUT:
                self._upgrade_later(sb, visits)
            return False
        first = state.shown == 1
        if rng.random() < (campaigns.UPGRADE_CLICK if first else campaigns.UPGRADE_CLICK / 2):
            sb.wait(2, 12)
            state.clicked = True
            sb.capture("$nudge_clicked", {"$nudge_id": FINISH_UPGRADE.ref})
            sb.navigate("checkout")
            if life.depth == 3:
                payload = visit.payload if visit.kind == "checkout" else {"plan": "pro", "attempt": 1}
                self._checkout(sb, Visit(sb.t, self._next(), "checkout", payload), visits, arrived=True)
            else:
                journeys.checkout(sb, order=None, fails=False, arrived=True)
            return True
        sb.wait(2, 10)
        if rng.random() < campaigns.UPGRADE_DISMISS:
            sb.capture("$nudge_dismissed", {"$nudge_id": FINISH_UPGRADE.ref})
        if first and can_buy and rng.random() < campaigns.UPGRADE_LATER_EXPOSED:
            self._upgrade_later(sb, visits)
        return False

    def _upgrade_later(self, sb: SessionBuilder, visits: list[Visit]) -> None:
        at = sb.t + self.rng.uniform(0.3, 6) * DAY
        heapq.heappush(visits, Visit(at, self._next(), "checkout", {"plan": "pro", "attempt": 1}))

    def _pick_up(self, sb: SessionBuilder) -> None:
        """The banner for people at risk: its call to action adds a task on the spot."""
        rng = self.rng
        state, turn = self._nudge_turn(sb, PICK_UP)
        if turn != "shown":
            return
        sb.wait(2, 10)
        if rng.random() < (campaigns.PICK_UP_CLICK if state.shown == 1 else campaigns.PICK_UP_CLICK / 2):
            state.clicked = True
            sb.capture("$nudge_clicked", {"$nudge_id": PICK_UP.ref})
            for _ in range(1 + poisson(rng, 0.5)):
                sb.wait(5, 40)
                journeys.create_task(sb)
        elif rng.random() < campaigns.PICK_UP_DISMISS:
            sb.capture("$nudge_dismissed", {"$nudge_id": PICK_UP.ref})

    def _seats(self, sb: SessionBuilder) -> None:
        """A teammate joined a paid workspace: bigger companies buy the seat (and sometimes more)."""
        timeline = self.timeline
        company = self.unit.company
        assert timeline is not None and company is not None
        plan, seats = timeline.plan_at(sb.t)
        joined = bisect.bisect_right(timeline.joins, sb.t)
        if plan == "free" or seats >= joined + 2 or self.rng.random() >= company.band.expand:
            return
        added = max(1, joined - seats) + poisson(self.rng, 0.3 * company.band.team)
        total = seats + added
        sb.wait(5, 40)
        journeys.seats_added(sb, added=added, seats=total)
        sb.group(company.key, {"seats": total})
        timeline.group_sets.append((sb.t, {"seats": total}))
        timeline.changes.append((sb.t, plan, total))
        timeline.changes.sort()
