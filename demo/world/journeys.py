"""What happens inside a visit: the page flows of Tasklane, element by element.

Each function continues a `SessionBuilder` from where it is. Choices are
drawn from the session's random stream; which choices are likely is decided
by the caller (`behaviour`), from who the person is and where they are in
their life with the product.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from demo.world.campaigns import NEW_VIEW_LOOK, NEW_VIEW_TIMELINE
from demo.world.catalog import ANNUAL_PRICES, INVITE_REFERRER, PLAN_PRICES, Source
from demo.world.sessions import SessionBuilder

SLACK_REFERRER = "https://app.slack.com/"
NOTIFICATION_REFERRER = "https://mail.google.com/"
PROJECT_TEMPLATES = ("blank", "marketing launch", "sprint planning", "client project", "content calendar")
GOAL_QUESTION = "main_goal"
NPS_QUESTION = "score"


@dataclass(frozen=True)
class Habits:
    """How likely a work session includes each feature; tied to the person's goal."""

    timeline: float
    list_view: float
    share: float
    export: float
    extra_project: float
    invite: float  # multiplier on the invitations a person sends


GOAL_HABITS: dict[str, Habits] = {
    "plan projects": Habits(
        timeline=0.12, list_view=0.2, share=0.12, export=0.06, extra_project=0.12, invite=1.0
    ),
    "track time": Habits(
        timeline=0.65, list_view=0.12, share=0.08, export=0.06, extra_project=0.04, invite=0.6
    ),
    "collaborate with clients": Habits(
        timeline=0.06, list_view=0.12, share=0.5, export=0.05, extra_project=0.08, invite=3.2
    ),
    "replace spreadsheets": Habits(
        timeline=0.05, list_view=0.6, share=0.08, export=0.3, extra_project=0.06, invite=0.8
    ),
}


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means used here."""
    if mean <= 0:
        return 0
    limit = 2.718281828459045**-mean
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


# -- arriving ------------------------------------------------------------------------------------
def marketing(
    sb: SessionBuilder, *, source: Source, toward_signup: bool, abandon_signup: float = 0.25
) -> str:
    """Land from `source` and look around the marketing pages.

    Returns the plan key chosen on the pricing page ("" when none). When
    `toward_signup` the visit ends on the signup page, ready for `signup`.
    """
    rng = sb.rng
    sb.view("landing", query=source.query, referrer=source.referrer)
    sb.wait(4, 30)
    sb.scroll_to(rng.randint(20, 100))
    roll = rng.random()
    if not toward_signup and roll < 0.25:
        feature = rng.choice(("feature-boards", "feature-timeline", "feature-automations"))
        sb.wait(2, 15)
        destination = {"feature-boards": "board", "feature-timeline": "board-timeline"}.get(
            feature, "pricing"
        )
        sb.go(feature, destination)
        sb.wait(8, 60)
        if destination == "board" and rng.random() < 0.4:
            sb.click("task-card")
            sb.wait(3, 20)
        return ""
    plan = ""
    if roll < 0.6:
        sb.go(rng.choice(("hero-see-pricing", "header-pricing")), "pricing")
        sb.wait(6, 40)
        if rng.random() < 0.35:
            sb.click("billing-annual")
            sb.wait(2, 10)
            if rng.random() < 0.3:
                sb.click("billing-monthly")
                sb.wait(1, 5)
        if rng.random() < 0.2:
            sb.click("faq-trial")
            sb.wait(5, 25)
        if not toward_signup and rng.random() > abandon_signup:
            return ""
        plan = rng.choices(("free", "pro", "business"), (5, 4, 1))[0]
        sb.go(f"choose-plan-{plan}", "signup", query=f"?plan={plan}")
    else:
        sb.wait(2, 20)
        if not toward_signup and rng.random() > abandon_signup:
            return ""
        sb.go(rng.choice(("hero-start-trial", "header-start-trial", "cta-start-trial")), "signup")
    if not toward_signup:
        # started the form, then thought better of it
        sb.wait(3, 12)
        sb.click("name")
        sb.wait(2, 8)
        if rng.random() < 0.5:
            sb.click("email")
            sb.wait(3, 15)
    return plan


def fill_signup_form(sb: SessionBuilder, *, has_company: bool, invited: bool) -> None:
    rng = sb.rng
    sb.wait(3, 10)
    sb.click("name")
    sb.wait(3, 9)
    sb.change("name")
    if not invited:  # an invitation pre-fills the e-mail and the company
        sb.click("email")
        sb.wait(4, 12)
        sb.change("email")
        if has_company:
            sb.click("company")
            sb.wait(2, 8)
            sb.change("company")
            sb.change("company-size")
    if rng.random() < 0.15:
        sb.click("password-label")
    sb.wait(5, 15)
    sb.click("start-trial")
    sb.submit("signup-form")


# -- in the app --------------------------------------------------------------------------------------
def create_project(sb: SessionBuilder, *, first: bool) -> None:
    """The checklist's "Create project" button (a link to the new board)."""
    sb.click("create-project")
    sb.capture("created_project", {"template": sb.rng.choice(PROJECT_TEMPLATES), "first_project": first})
    if first:
        sb.capture("completed_onboarding_step", {"step": "create-project"})
    sb.actor.projects += 1
    sb.wait(0.3, 1.2)
    sb.navigate("board")


def create_task(sb: SessionBuilder) -> None:
    sb.click("new-task")
    sb.wait(6, 40)  # typing the title
    view = sb.page.removeprefix("board-") if sb.page != "board" else "board"
    sb.capture("created_task", {"view": view, "has_due_date": sb.rng.random() < 0.45})
    sb.actor.tasks += 1
    sb.actor.history.task_times.append(sb.t)


def invite(sb: SessionBuilder, *, first_of_checklist: bool, role: str = "member") -> None:
    """Invite a teammate from the checklist page (the form posts back to it with ?invited=1)."""
    sb.wait(4, 20)
    sb.click("send-invite")
    sb.submit("invite-form")
    sb.capture("invited_teammate", {"role": role, "via": "checklist"})
    if first_of_checklist:
        sb.capture("completed_onboarding_step", {"step": "invite-teammate"})
    sb.actor.invites += 1
    sb.wait(0.3, 1.0)
    sb.navigate("onboarding", query="?invited=1")


def connect_slack(sb: SessionBuilder) -> None:
    sb.click("connect-slack")
    sb.capture("completed_onboarding_step", {"step": "connect-slack"})
    sb.wait(5, 20)


def survey(sb: SessionBuilder, key: str, answers: dict | None) -> None:
    """A survey shown on the page: answered, or dismissed when `answers` is None."""
    sb.capture("$survey_shown", {"$survey": key})
    sb.wait(4, 25)
    if answers is None:
        sb.capture("$survey_dismissed", {"$survey": key})
    else:
        sb.capture("$survey_response", {"$survey": key, "$answers": answers})


def board_work(
    sb: SessionBuilder,
    *,
    tasks: int,
    habits: Habits,
    extra_invites: int,
    look_only: bool,
    new_view: bool = False,
) -> None:
    """A working visit to the board: tasks, other views, sharing, the export button that does nothing.

    `new_view` is the redesigned board of the `new-board-view` flag's "new"
    variant: the timeline is one click away, so people open it more often.
    """
    rng = sb.rng
    steps: list[str] = ["task"] * tasks
    if not look_only:
        timeline = (
            habits.timeline + (1 - habits.timeline) * NEW_VIEW_TIMELINE if new_view else habits.timeline
        )
        if rng.random() < timeline:
            steps.append("timeline")
        if rng.random() < habits.list_view:
            steps.append("list")
        if rng.random() < habits.share:
            steps.append("share")
        if rng.random() < habits.export:
            steps.append("export")
    elif new_view and rng.random() < NEW_VIEW_LOOK:
        steps.append("timeline")
    steps += ["card"] * poisson(rng, 0.8 if not look_only else 0.5)
    rng.shuffle(steps)
    for step in steps:
        sb.wait(5, 60)
        if step == "task":
            create_task(sb)
        elif step == "card":
            if sb.page == "board":
                sb.click("task-card")
                sb.wait(5, 40)
        elif step in ("timeline", "list") and sb.page != f"board-{step}":
            # A single-page navigation: the tab's chain is the same from any view where
            # it is not the active one, which is what demo_site lists.
            sb.click(f"tab-{step}")
            previous = sb.url
            sb.leave()
            sb.view(f"board-{step}", referrer=previous)
            sb.wait(10, 90)
            sb.scroll_to(rng.randint(30, 100))
        elif step == "share":
            sb.click("share-board")
        elif step == "export":
            sb.dead_click("export-board")
            if rng.random() < 0.25:
                sb.wait(0.4, 1.5)
                sb.rage_click("export-board")
    sb.wait(5, 45)
    for _ in range(extra_invites):
        sb.navigate("onboarding")
        invite(sb, first_of_checklist=False, role="guest" if rng.random() < 0.3 else "member")


def entry_referrer(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return ""
    return SLACK_REFERRER if roll < 0.8 else NOTIFICATION_REFERRER


# -- money -----------------------------------------------------------------------------------------
COMPARE_FIRST = 0.8  # of the people about to pay, those who look at the plans side by side first


@dataclass(frozen=True)
class Order:
    plan: str
    seats: int
    billing: str

    @property
    def amount(self) -> int:
        if self.billing == "annual":
            return ANNUAL_PRICES[self.plan] * self.seats * 12
        return PLAN_PRICES[self.plan] * self.seats


def checkout(sb: SessionBuilder, *, order: Order | None, fails: bool, arrived: bool = False) -> bool:
    """From the board's upgrade button to the checkout; returns whether a purchase was made.

    `order` None is a look at the price without paying. `arrived` means the
    visitor is already on the checkout (a nudge's call to action took them
    there). Most people who mean to pay compare the plans first: the
    checkout's "Compare plans", then the browser's Back. A failing payment is
    the pay button doing nothing: a dead click, then a burst of rage clicks,
    and the visitor gives up.
    """
    rng = sb.rng
    query = f"?plan={order.plan}" if order is not None and order.plan != "pro" else ""
    if not arrived:
        sb.wait(3, 30)
        sb.go("upgrade-cta", "checkout", query=query)
    sb.wait(5, 30)
    if order is None:
        if rng.random() < 0.4:
            sb.go("compare-plans", "pricing")
            sb.wait(10, 50)
            if rng.random() < 0.3:  # back to the checkout for another look, then not today
                sb.navigate("checkout", query=query)
                sb.wait(5, 40)
        return False
    if rng.random() < COMPARE_FIRST:
        sb.go("compare-plans", "pricing")
        sb.wait(8, 45)
        if rng.random() < 0.4:
            sb.click("billing-annual" if order.billing == "annual" else "billing-monthly")
            sb.wait(2, 8)
        sb.navigate("checkout", query=query)
        sb.wait(3, 15)
    sb.click("billing-email")
    sb.wait(3, 10)
    sb.change("billing-email")
    sb.wait(20, 70)  # the card fields are never captured
    if rng.random() < 0.2:
        sb.click("test-card")
        sb.wait(2, 6)
    if fails:
        sb.dead_click("checkout-pay")
        sb.wait(0.5, 2)
        sb.rage_click("checkout-pay")
        if rng.random() < 0.5:
            sb.wait(1, 4)
            sb.dead_click("checkout-pay")
        sb.wait(5, 30)
        if rng.random() < 0.3:
            sb.go("compare-plans", "pricing")
            sb.wait(5, 20)
        return False
    sb.click("checkout-pay")
    sb.submit("checkout-form")
    sb.actor.history.purchases += 1
    sb.wait(1, 3)
    sb.navigate("checkout_complete")
    sb.set_traits(
        "purchase",
        {
            "amount": order.amount,
            "plan": order.plan,
            "seats": order.seats,
            "billing": order.billing,
            "currency": "USD",
        },
        set_props={"plan": order.plan},
    )
    sb.wait(3, 15)
    if rng.random() < 0.7:
        sb.go("back-to-board", "board")
        sb.wait(5, 30)
    return True


def seats_added(sb: SessionBuilder, *, added: int, seats: int) -> None:
    sb.capture("added_seats", {"seats_added": added, "seats": seats})


def invitee_landing(sb: SessionBuilder, token: str) -> None:
    sb.view("signup", query=f"?invite={token}", referrer=INVITE_REFERRER)
