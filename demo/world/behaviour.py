"""Behaviour: who does what, when — engagement curves, activation, expansion, the planted patterns.

A unit (a company's team, a solo user, a visitor) is simulated as a whole:

- **Engagement**: archetypes and their curves of visits over the days since
  sign-up (see `engagement`); people who never create a task only explore
  for a few days.
- **Activation**: sign up → onboarding checklist → first project → first
  task → invite a teammate, with drop-off at each step.
- **Firmographics**: bigger companies bring more teammates, send more
  invitations, upgrade and add seats more often, and move to Business.
- **Psychographics**: the goal a person states in the onboarding survey
  drives the features they adopt (see `journeys.GOAL_HABITS`).
- **Technographics**: in the last `REGRESSION_DAYS` days the checkout's pay
  button fails for most `REGRESSION_BROWSER` sessions (a planted regression).
- **The team's experiments** (see `campaigns`): for the last three weeks a
  checkout reminder and an at-risk banner (each with a holdout) and the
  `new-board-view` flag, shown on the board to the people they target, with
  what they change: more purchases, tasks and timeline use.

The champion (first member) is simulated first, so the plan and seat
changes they make are known when teammates join later.
"""

from __future__ import annotations

import heapq
import math
from datetime import UTC, datetime

from demo.world import journeys
from demo.world.catalog import (
    SIZE_BANDS,
    SOURCES,
)
from demo.world.engagement import (
    ARCHETYPES,
    DAY,
    HOUR,
    IDLE,
    Period,
    archetype_for,
    curve_for,
    session_times,
)
from demo.world.journeys import GOAL_HABITS, GOAL_QUESTION, NPS_QUESTION, poisson
from demo.world.purchases import Purchases
from demo.world.records import Batch, CompanyRow, EventIds, PersonRow
from demo.world.sessions import Actor, SessionBuilder
from demo.world.visits import CompanyTimeline, Life, Visit
from demo.world.world import (
    GOAL,
    DeviceUse,
    PersonProfile,
    Unit,
    Weighted,
    random_id,
)

DIRECT = next(source for source in SOURCES if source.key == "direct")
SOLO_INVITES = 0.3
SOLO_PRO = 0.35
PEEK = 0.85  # activated people who, once, open the checkout from the board just to see the price


class UnitSimulation(Purchases):
    """Everything one unit does over the period, as rows for the writers."""

    def __init__(self, unit: Unit, period: Period, *, salt: int) -> None:
        self.unit = unit
        self.rng = unit.rng
        self.period = period
        self.batch = Batch()
        self.ids = EventIds(salt, unit.index)
        self.timeline: CompanyTimeline | None = None
        self.order = 0

    def run(self) -> Batch:
        if self.unit.kind == "visitor":
            self._visitor(self.unit.people[0])
        elif self.unit.kind == "solo":
            person = self.unit.people[0]
            signup = self._signup_time()
            life = self._life(person, signup_at=signup, invited=False, champion_of_team=False, band_index=0)
            self._user(person, life, forced=self._upgrades(life, pro=SOLO_PRO, business=0.0))
        else:
            self._company()
        return self.batch

    # -- planning ----------------------------------------------------------------------------------
    def _next(self) -> int:
        self.order += 1
        return self.order

    def _signup_time(self) -> float:
        # First sign-ups a little more often early on: their teammates join later, so the
        # user base still grows through the period without the newest weeks dominating.
        return self.period.clamp(
            self.period.start + 6 * HOUR + self.period.span * self.rng.random() ** 1.1, margin=4 * HOUR
        )

    def _life(
        self,
        person: PersonProfile,
        *,
        signup_at: float,
        invited: bool,
        champion_of_team: bool,
        band_index: int,
    ) -> Life:
        rng = self.rng
        habits = GOAL_HABITS[person.goal]
        archetype = archetype_for(rng, band_index=band_index, champion_of_team=champion_of_team)
        if invited:
            depth = 3 if rng.random() < 0.82 else 1
        elif champion_of_team:
            depth = 3  # someone who brought their team along uses the product
        else:
            # the activation funnel: checklist, first project, first task; bouncers drop more
            keen = archetype != "bounce"
            depth = 0 if rng.random() < 0.06 else 1
            if depth and rng.random() < (0.8 if keen else 0.45):
                depth = 3 if rng.random() < (0.88 if keen else 0.5) else 2
        if depth < 3:
            archetype = "explorer"
        invites = self.unit.company.band.invites if self.unit.company else SOLO_INVITES
        return Life(
            signup_at=signup_at,
            archetype=ARCHETYPES[archetype],
            curve=curve_for(rng, archetype),
            depth=depth,
            invited=invited,
            habits=habits,
            invite_rate=invites * habits.invite * (1.0 if depth == 3 else 0.15),
        )

    def _upgrades(self, life: Life, *, pro: float, business: float) -> list[Visit]:
        """The first checkout attempt, if this person will upgrade (retries follow failures)."""
        rng = self.rng
        if life.depth < 3 or rng.random() >= pro:
            return []
        at = life.signup_at + (1 + rng.expovariate(1 / 8)) * DAY
        if at >= self.period.end - 3 * HOUR:
            return []
        go_business = rng.random() < business
        return [
            Visit(at, self._next(), "checkout", {"plan": "pro", "attempt": 1, "then_business": go_business})
        ]

    def _company(self) -> None:
        rng = self.rng
        company = self.unit.company
        assert company is not None
        members = self.unit.people
        band_index = SIZE_BANDS.index(company.band)
        joins = [self._signup_time()]
        latest = self.period.end - 4 * HOUR
        for _ in members[1:]:
            gap = rng.expovariate(1 / (7 / (1 + 0.3 * band_index))) * DAY + HOUR
            at = joins[-1] + gap
            if at >= latest:
                at = joins[-1] + (latest - joins[-1]) * rng.random()
            joins.append(at)
        self.timeline = CompanyTimeline(profile=company, joins=joins)
        lives = [
            self._life(
                person,
                signup_at=joins[k],
                invited=k > 0,
                champion_of_team=k == 0 and len(members) > 1,
                band_index=band_index,
            )
            for k, person in enumerate(members)
        ]
        forced: list[list[Visit]] = [[] for _ in members]
        forced[0] = self._upgrades(lives[0], pro=company.band.pro, business=company.band.business)
        for k in range(1, len(members)):
            # each teammate was invited by someone already there (the champion most often)
            weights = [2.0 if j == 0 else 1.0 for j in range(k)]
            inviter = Weighted(
                range(k), [w * GOAL_HABITS[members[j].goal].invite for j, w in enumerate(weights)]
            ).pick(rng)
            room = joins[k] - joins[inviter] - 10 * 60
            invite_at = joins[k] - min(room, rng.uniform(0.05, 1.5) * DAY) * rng.uniform(0.5, 1.0)
            forced[inviter].append(Visit(invite_at, self._next(), "invite", {"token": random_id(rng)[:8]}))
            forced[0].append(
                Visit(joins[k] + rng.uniform(1, 30) * HOUR, self._next(), "seats", {"member": k})
            )
        for person, life, visits in zip(members, lives, forced, strict=True):
            self._user(person, life, forced=visits)
        sets = sorted(self.timeline.group_sets, key=lambda item: item[0])
        properties: dict = {}
        for _, traits in sets:
            properties.update(traits)
        self.batch.companies.append(
            CompanyRow(
                index=company.index,
                key=company.key,
                properties=properties,
                created_at=sets[0][0],
                updated_at=sets[-1][0],
                traits=sets,
            )
        )

    # -- people --------------------------------------------------------------------------------------
    def _visitor(self, person: PersonProfile) -> None:
        rng = self.rng
        actor = Actor(profile=person, distinct_id=person.anon_id)
        t = self.period.clamp(self.period.start + self.period.span * rng.random())
        for number in range(1 + poisson(rng, 0.5)):
            if t >= self.period.end - HOUR:
                break
            sb = self._session(actor, person.device, t)
            journeys.marketing(sb, source=DIRECT if number else person.source, toward_signup=False)
            end = sb.finish()
            t = (end or t) + IDLE + rng.expovariate(1 / 4) * DAY
        self._person_row(actor)

    def _session(self, actor: Actor, device: DeviceUse, start: float) -> SessionBuilder:
        return SessionBuilder(
            batch=self.batch,
            ids=self.ids,
            rng=self.rng,
            actor=actor,
            key=random_id(self.rng),
            device=device,
            place=actor.profile.place,
            start=start,
        )

    def _user(self, person: PersonProfile, life: Life, *, forced: list[Visit]) -> None:
        rng = self.rng
        period = self.period
        actor = Actor(
            profile=person,
            distinct_id=person.anon_id,
            company_index=self.unit.company.index if self.unit.company else None,
        )
        visits: list[Visit] = list(forced)
        visits.append(Visit(life.signup_at, self._next(), "signup"))
        if not life.invited and rng.random() < 0.55:
            for _ in range(1 + (rng.random() < 0.35)):
                at = life.signup_at - rng.uniform(0.2, 9) * DAY
                if at > period.start:
                    visits.append(Visit(at, self._next(), "pre"))
        natural = session_times(
            rng,
            life.curve,
            begin=life.signup_at + IDLE,
            end=period.end - HOUR,
            utc_offset=person.place.country.utc_offset,
        )
        visits += [Visit(t, self._next(), "work") for t in natural]
        # invitations beyond the accepted ones, spread over working visits
        extra = poisson(rng, life.invite_rate)
        work_visits = [v for v in visits if v.kind == "work"]
        for visit in rng.sample(work_visits, min(extra, len(work_visits))):
            visit.payload["invites"] = visit.payload.get("invites", 0) + 1
        if life.depth == 3 and work_visits and rng.random() < PEEK:
            rng.choice(work_visits).payload["peek"] = True  # a look at the price, no purchase
        heapq.heapify(visits)
        self._render(actor, life, visits)
        self._person_row(actor)

    def _render(self, actor: Actor, life: Life, visits: list[Visit]) -> None:
        rng = self.rng
        person = actor.profile
        period = self.period
        previous_end = -math.inf
        nps_after = life.signup_at + 10 * DAY
        known_devices = {id(person.device)}
        nps_shown = False
        while visits:
            visit = heapq.heappop(visits)
            start = visit.start
            if start < previous_end + IDLE:
                start = previous_end + IDLE + rng.uniform(5, 90) * 60
            if start > period.end - HOUR:
                continue
            if visit.kind not in ("pre", "signup") and not actor.identified:
                continue  # the sign-up itself did not fit in the period: nothing after it happens
            device = person.device
            if visit.payload.get("device") is not None:
                device = visit.payload["device"]
            elif visit.kind == "work" and person.second_device is not None and rng.random() < 0.2:
                device = person.second_device
            sb = self._session(actor, device, start)
            if visit.kind == "pre":
                journeys.marketing(sb, source=person.source, toward_signup=False, abandon_signup=0.4)
            elif visit.kind == "signup":
                self._signup(sb, life)
            else:
                self._log_in(sb, device, known_devices)
                self._app_visit(sb, life, visit, visits)
                if not nps_shown and life.depth == 3 and start >= nps_after and visit.kind == "work":
                    nps_shown = True
                    if rng.random() < 0.6:
                        journeys.survey(sb, "nps", self._nps(actor, life) if rng.random() < 0.65 else None)
            end = sb.finish()
            if end is not None:
                previous_end = end

    def _log_in(self, sb: SessionBuilder, device: DeviceUse, known: set[int]) -> None:
        """On a device the person never used before, the visit starts anonymous and logs in."""
        actor = sb.actor
        if id(device) in known:
            if actor.identified:
                actor.switch_to(actor.profile.user_id)
            return
        known.add(id(device))
        person = actor.profile
        anon = person.second_anon_id if device is person.second_device else random_id(self.rng)
        actor.switch_to(anon)
        sb.view("board", referrer="")
        sb.wait(1, 4)
        sb.identify(set_props=person.traits())

    def _signup(self, sb: SessionBuilder, life: Life) -> None:
        rng = self.rng
        actor = sb.actor
        person = actor.profile
        company = self.unit.company
        if life.invited:
            journeys.invitee_landing(sb, random_id(rng)[:8])
        elif rng.random() < 0.3:
            sb.view("signup", referrer="")  # came back straight to the form
        else:
            journeys.marketing(sb, source=person.source, toward_signup=True)
        journeys.fill_signup_form(sb, has_company=company is not None, invited=life.invited)
        sb.wait(0.5, 2)
        sb.navigate("board" if life.invited else "onboarding")
        plan = self.timeline.plan_at(sb.t)[0] if self.timeline else "free"
        source = "invite" if life.invited else person.source.key
        sb.identify(
            set_props={**person.traits(), "plan": plan},
            set_once={
                "signup_source": source,
                "signed_up_at": datetime.fromtimestamp(sb.t, UTC).date().isoformat(),
            },
        )
        if company is not None and self.timeline is not None:
            traits = self.timeline.traits_at(sb.t)
            sb.group(company.key, traits)
            self.timeline.group_sets.append((sb.t, traits))
        sb.capture("signed_up", {"source": source, "plan": plan})
        if life.invited:
            if life.depth == 3:
                for _ in range(1 + poisson(rng, 0.6)):
                    sb.wait(5, 40)
                    journeys.create_task(sb)
            return
        sb.capture("completed_onboarding_step", {"step": "account"})
        sb.wait(5, 30)
        if life.depth == 0:
            return
        if rng.random() < 0.25:
            journeys.connect_slack(sb)
        if life.depth == 1:
            if rng.random() < 0.5:
                sb.go("skip-onboarding", "board")
                sb.wait(10, 60)
            return
        journeys.create_project(sb, first=True)
        if life.depth == 3 and rng.random() < 0.75:
            for _ in range(1 + poisson(rng, 1.0)):
                sb.wait(5, 40)
                journeys.create_task(sb)
            if rng.random() < 0.7:
                self._goal_survey(sb)

    def _goal_survey(self, sb: SessionBuilder) -> None:
        rng = self.rng
        sb.actor.asked_goal = True
        if rng.random() < 0.7:
            goal = sb.actor.profile.goal if rng.random() < 0.88 else GOAL.pick(rng)
            journeys.survey(sb, "goal", {GOAL_QUESTION: goal})
            sb.actor.answered_goal = True
        else:
            journeys.survey(sb, "goal", None)

    def _nps(self, actor: Actor, life: Life) -> dict:
        mean = life.archetype.nps - 2.5 * min(actor.failed_checkouts, 1)
        score = round(self.rng.gauss(mean, 1.4))
        actor.answered_nps = True
        return {NPS_QUESTION: max(0, min(10, score))}

    def _app_visit(self, sb: SessionBuilder, life: Life, visit: Visit, visits: list[Visit]) -> None:
        rng = self.rng
        actor = sb.actor
        if not sb.page:
            sb.view("board", referrer=journeys.entry_referrer(rng))
        variant, taken_over = self._campaigns(sb, life, visit, visits)
        if taken_over:
            return
        days = (sb.t - life.signup_at) / DAY
        if visit.kind == "invite":
            sb.wait(5, 60)
            sb.navigate("onboarding")
            journeys.invite(sb, first_of_checklist=actor.invites == 0)
            sb.go("skip-onboarding", "board")
        if visit.kind == "checkout":
            self._checkout(sb, visit, visits)
            return
        if visit.kind == "seats":
            self._seats(sb)
        if life.depth < 2:
            # never got going: a look at the board or the plans, then gone
            if rng.random() < 0.3:
                sb.go("upgrade-cta", "checkout")
                sb.wait(5, 30)
            else:
                sb.wait(10, 90)
            return
        look_only = life.depth < 3 or days > life.curve.active_days
        tasks = (
            0
            if look_only
            else poisson(rng, life.archetype.tasks * max(life.curve.rate(days) / life.curve.peak, 0.35))
        )
        if life.depth >= 2 and rng.random() < life.habits.extra_project * (0 if look_only else 1):
            sb.navigate("onboarding")
            journeys.create_project(sb, first=False)
        journeys.board_work(
            sb,
            tasks=tasks,
            habits=life.habits,
            extra_invites=visit.payload.get("invites", 0),
            look_only=look_only,
            new_view=variant == "new",
        )
        if not actor.asked_goal and life.depth >= 2 and sb.page.startswith("board"):
            self._goal_survey(sb)
        if visit.payload.get("peek") and not sb.page.startswith("checkout") and self._on_free_plan(sb.t):
            journeys.checkout(sb, order=None, fails=False)

    def _person_row(self, actor: Actor) -> None:
        if actor.first_seen is None:
            return
        self.batch.persons.append(
            PersonRow(
                index=actor.profile.index,
                company=actor.company_index if actor.identified else None,
                properties=actor.properties,
                is_identified=actor.identified,
                first_seen=actor.first_seen,
                last_seen=actor.last_seen,
                distinct_ids=list(actor.distinct_ids),
                traits=actor.trait_writes,
            )
        )
