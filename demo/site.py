"""Tasklane, the demo site at `/demo/`: its pages, its content, and what people click there.

Tasklane is a fictional B2B SaaS (task boards for teams) with the Sightline
snippet installed on every page, so that a visitor of the demo produces real
autocaptured data. The demo-data generator produces element chains for the
same pages, so `PAGES` lists each page's key clickable elements as element
chains in the wire format of `tracking.elements` (target first, up to `body`),
exactly as the snippet sends them apart from `nth_child` / `nth_of_type`,
which depend on sibling order and are left out. `tests/demo` renders every
page and checks each chain against the HTML, and the browser tests check one
against what the snippet really sends.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from demo.services import demo_ensure

ROOT = "/demo/"


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    tagline: str
    monthly: int
    annual: int
    cta: str
    features: tuple[str, ...]
    featured: bool = False


@dataclass(frozen=True)
class Task:
    key: str
    title: str
    tag: str
    due: str
    assignee: str
    start: int  # timeline position, % of the quarter
    span: int

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in self.assignee.split()[:2])


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    path: str


@dataclass(frozen=True)
class DemoPage:
    """One page of the demo: where it is, its title, and its key elements by name."""

    key: str
    path: str
    title: str
    elements: dict[str, tuple[dict, ...]] = field(default_factory=dict)


PLANS: tuple[Plan, ...] = (
    Plan(
        key="free",
        name="Free",
        tagline="For small teams getting organised.",
        monthly=0,
        annual=0,
        cta="Start for free",
        features=("Up to 5 seats", "3 active boards", "Board and list views"),
    ),
    Plan(
        key="pro",
        name="Pro",
        tagline="For teams that ship every week.",
        monthly=12,
        annual=10,
        cta="Start 14-day trial",
        features=(
            "Unlimited seats and boards",
            "Timeline and workload views",
            "Automations",
            "Guests for free",
        ),
        featured=True,
    ),
    Plan(
        key="business",
        name="Business",
        tagline="For departments running many teams.",
        monthly=24,
        annual=20,
        cta="Talk to sales",
        features=("Everything in Pro", "SAML single sign-on", "Audit log", "Priority support"),
    ),
)

COMPANY_SIZES: tuple[str, ...] = ("1-10", "11-50", "51-200", "201-1000", "1000+")

BOARD_COLUMNS: tuple[Column, ...] = (
    Column(
        "todo",
        "To do",
        (
            Task("pricing-copy", "Rewrite the pricing page copy", "content", "Jul 18", "Priya Raman", 40, 20),
            Task("og-images", "Social preview images", "design", "Jul 22", "Leo Martins", 55, 15),
            Task("redirects", "Map redirects from old URLs", "engineering", "Jul 25", "Sam Okafor", 60, 20),
        ),
    ),
    Column(
        "doing",
        "In progress",
        (
            Task("hero-design", "Design the new homepage hero", "design", "Jul 12", "Leo Martins", 15, 25),
            Task(
                "cms-migration",
                "Migrate blog posts to the new CMS",
                "engineering",
                "Jul 15",
                "Sam Okafor",
                10,
                35,
            ),
        ),
    ),
    Column(
        "review",
        "Review",
        (
            Task(
                "analytics",
                "Install analytics on every page",
                "engineering",
                "Jul 10",
                "Dana Whitfield",
                5,
                15,
            ),
        ),
    ),
    Column(
        "done",
        "Done",
        (
            Task("sitemap", "Agree on the new sitemap", "content", "Jul 3", "Priya Raman", 0, 10),
            Task("kickoff", "Kick-off with stakeholders", "planning", "Jul 1", "Dana Whitfield", 0, 5),
        ),
    ),
)

BOARD_TABS: tuple[Tab, ...] = (
    Tab("board", "Board", f"{ROOT}board/"),
    Tab("list", "List", f"{ROOT}board/list/"),
    Tab("timeline", "Timeline", f"{ROOT}board/timeline/"),
)

# Shown inside `.sl-no-capture`: the snippet must never send them anywhere.
RECOVERY_CODES: tuple[str, ...] = ("TLN-4KQ7-9XWM", "TLN-8RZP-2HCV", "TLN-6DJN-5TQB")
# Shown inside an `sl-block` element: kept out of recordings and of autocapture alike.
API_TOKEN = "tl_live_7Hq2ZpW9cX4mRv"  # noqa: S105 - a fictional token on the demo site

_SELECTOR = re.compile(r"^([a-z][a-z0-9-]*)(#[\w-]+)?((?:\.[\w-]+)*)$")


def el(selector: str, *, attrs: dict[str, str] | None = None, text: str = "") -> dict:
    """One element in the wire format from `tag#id.class.class`, its allowed attributes and own text."""
    match = _SELECTOR.match(selector)
    if match is None:
        raise ValueError(f"not a simple selector: {selector!r}")
    tag, ident, classes = match.groups()
    element: dict = {"tag": tag}
    if ident:
        element["id"] = ident[1:]
    if classes:
        element["classes"] = classes[1:].split(".")
    if attrs:
        element["attrs"] = dict(attrs)
    if text:
        element["text"] = text
    return element


BODY = el("body")
_MARKETING_MAIN = (el("main#main.site-main"), BODY)
_MARKETING_HEADER = (el("div.container.header-inner"), el("header.site-header"), BODY)
_APP_SHELL = (el("div.app-shell"), BODY)
_APP_MAIN = (el("main#main.app-main"), el("div.app-body"), *_APP_SHELL)
_SIDEBAR_UPGRADE = (el("div.sidebar-upgrade"), el("aside.app-sidebar"), *_APP_SHELL)
_BANNER = (el("div.demo-banner", attrs={"role": "note"}), BODY)

_UPGRADE_CTA = (
    el("a#upgrade-cta.btn.btn-upgrade", attrs={"href": f"{ROOT}checkout/"}, text="Upgrade to Pro"),
    *_SIDEBAR_UPGRADE,
)
_BANNER_LINK = (el("a.demo-banner-link", attrs={"href": "/"}, text="See them in Sightline"), *_BANNER)
_HEADER_START_TRIAL = (
    el("a#header-start-trial.btn.btn-primary", attrs={"href": f"{ROOT}signup/"}, text="Start free trial"),
    el("div.header-actions"),
    *_MARKETING_HEADER,
)
_HEADER_PRICING = (
    el("a.nav-link", attrs={"href": f"{ROOT}pricing/"}, text="Pricing"),
    el("nav.site-nav", attrs={"aria-label": "Main"}),
    *_MARKETING_HEADER,
)


def _landing() -> DemoPage:
    hero_actions = (
        el("div.hero-actions"),
        el("div.container.hero-inner"),
        el("section.hero"),
        *_MARKETING_MAIN,
    )
    features = (
        el("div.feature-grid"),
        el("div.container"),
        el("section#features.features"),
        *_MARKETING_MAIN,
    )

    def feature_link(key: str, href: str, text: str) -> tuple[dict, ...]:
        return (
            el("a.feature-link", attrs={"href": href, "data-feature": key}, text=text),
            el("article.feature-card", attrs={"data-feature": key}),
            *features,
        )

    return DemoPage(
        key="landing",
        path=ROOT,
        title="Task boards for teams that ship",
        elements={
            "hero-start-trial": (
                el(
                    "a#hero-start-trial.btn.btn-primary.btn-large",
                    attrs={"href": f"{ROOT}signup/"},
                    text="Start free trial",
                ),
                *hero_actions,
            ),
            "hero-see-pricing": (
                el(
                    "a#hero-see-pricing.btn.btn-ghost.btn-large",
                    attrs={"href": f"{ROOT}pricing/"},
                    text="See pricing",
                ),
                *hero_actions,
            ),
            "feature-boards": feature_link("boards", f"{ROOT}board/", "Explore boards"),
            "feature-timeline": feature_link("timeline", f"{ROOT}board/timeline/", "See the timeline"),
            "feature-automations": feature_link("automations", f"{ROOT}pricing/", "Automations on Pro"),
            "cta-start-trial": (
                el(
                    "a#cta-start-trial.btn.btn-primary.btn-large",
                    attrs={"href": f"{ROOT}signup/"},
                    text="Start your free trial",
                ),
                el("div.container.cta-inner"),
                el("section.cta-band"),
                *_MARKETING_MAIN,
            ),
            "header-start-trial": _HEADER_START_TRIAL,
            "header-pricing": _HEADER_PRICING,
            "banner-link": _BANNER_LINK,
        },
    )


def _pricing() -> DemoPage:
    container = (el("div.container"), el("section.pricing"), *_MARKETING_MAIN)
    toggle = (
        el("div.billing-toggle", attrs={"role": "group", "aria-label": "Billing period"}),
        el("header.page-header.centered"),
        *container,
    )
    elements: dict[str, tuple[dict, ...]] = {
        "billing-monthly": (
            el(
                "button.billing-option.is-active",
                attrs={"type": "button", "data-billing": "monthly"},
                text="Monthly",
            ),
            *toggle,
        ),
        "billing-annual": (
            el("button.billing-option", attrs={"type": "button", "data-billing": "annual"}, text="Annual"),
            *toggle,
        ),
    }
    for plan in PLANS:
        card = "article.plan-card.plan-featured" if plan.featured else "article.plan-card"
        style = "btn-primary" if plan.featured else "btn-secondary"
        elements[f"choose-plan-{plan.key}"] = (
            el(
                f"a.btn.choose-plan.{style}",
                attrs={"href": f"{ROOT}signup/?plan={plan.key}", "data-plan": plan.key},
                text=plan.cta,
            ),
            el(card, attrs={"data-plan": plan.key}),
            el("div.plans"),
            *container,
        )
    elements["faq-trial"] = (
        el("summary", text="What happens when my trial ends?"),
        el("details.faq-item", attrs={"data-faq": "trial"}),
        el("section.faq"),
        *container,
    )
    elements["header-start-trial"] = _HEADER_START_TRIAL
    return DemoPage(key="pricing", path=f"{ROOT}pricing/", title="Pricing", elements=elements)


def _signup() -> DemoPage:
    form = (
        el("form#signup-form.form"),
        el("div.signup-card.card"),
        el("div.container.signup-inner"),
        el("section.signup"),
        *_MARKETING_MAIN,
    )

    def field_input(selector: str, attrs: dict[str, str]) -> tuple[dict, ...]:
        return (el(selector, attrs=attrs), el("div.field"), *form)

    return DemoPage(
        key="signup",
        path=f"{ROOT}signup/",
        title="Start your free trial",
        elements={
            # The form itself is the target of the `submit` autocapture.
            "signup-form": form,
            "start-trial": (
                el(
                    "button#start-trial.btn.btn-primary.btn-block",
                    attrs={"type": "submit"},
                    text="Start free trial",
                ),
                *form,
            ),
            "name": field_input(
                "input#signup-name", {"name": "name", "type": "text", "placeholder": "Dana Whitfield"}
            ),
            "email": field_input(
                "input#signup-email", {"name": "email", "type": "email", "placeholder": "dana@company.com"}
            ),
            "company": field_input(
                "input#signup-company", {"name": "company", "type": "text", "placeholder": "Acme Inc."}
            ),
            "company-size": field_input("select#signup-company-size", {"name": "company_size"}),
            # A click on the password field is never captured; its label is.
            "password-label": (
                el("label", attrs={"for": "signup-password"}, text="Password"),
                el("div.field"),
                *form,
            ),
        },
    )


def _onboarding() -> DemoPage:
    checklist = (el("ol.checklist"), el("section.onboarding"), *_APP_MAIN)

    def step(key: str, done: bool = False) -> tuple[dict, ...]:
        item = "li.checklist-item.is-done" if done else "li.checklist-item"
        return (el(item, attrs={"data-step": key}), *checklist)

    return DemoPage(
        key="onboarding",
        path=f"{ROOT}welcome/",
        title="Get started",
        elements={
            "create-project": (
                el(
                    "a#create-project.btn.btn-primary.step-action",
                    attrs={"href": f"{ROOT}board/", "data-step": "create-project"},
                    text="Create project",
                ),
                *step("create-project"),
            ),
            "send-invite": (
                el("button#send-invite.btn.btn-secondary", attrs={"type": "submit"}, text="Send invite"),
                el("form#invite-form.inline-form"),
                el("div.step-body"),
                *step("invite-teammate"),
            ),
            "connect-slack": (
                el(
                    "button#connect-slack.btn.btn-secondary.step-action",
                    attrs={"type": "button", "data-step": "connect-slack"},
                    text="Connect Slack",
                ),
                *step("connect-slack"),
            ),
            "skip-onboarding": (
                el("a#skip-onboarding.skip-link", attrs={"href": f"{ROOT}board/"}, text="Skip for now"),
                el("p.skip"),
                el("section.onboarding"),
                *_APP_MAIN,
            ),
            "upgrade-cta": _UPGRADE_CTA,
        },
    )


def _board() -> DemoPage:
    board = (el("section.board", attrs={"data-project": "website-relaunch"}), *_APP_MAIN)
    actions = (el("div.board-actions"), el("header.board-header"), *board)
    tabs = (el("nav.board-tabs", attrs={"aria-label": "Board views"}), *board)
    elements: dict[str, tuple[dict, ...]] = {
        "new-task": (
            el("button#new-task.btn.btn-primary", attrs={"type": "button"}, text="New task"),
            *actions,
        ),
        "share-board": (
            el("button#share-board.btn.btn-ghost", attrs={"type": "button"}, text="Share"),
            *actions,
        ),
        # Looks like it works, does nothing: the demo's source of dead clicks.
        "export-board": (
            el(
                "button#export-board.btn.btn-ghost",
                attrs={"type": "button", "data-action": "export"},
                text="Export",
            ),
            *actions,
        ),
    }
    for tab in BOARD_TABS:
        classes = "a.board-tab.is-active" if tab.key == "board" else "a.board-tab"
        elements[f"tab-{tab.key}"] = (
            el(classes, attrs={"href": tab.path, "data-tab": tab.key}, text=tab.label),
            *tabs,
        )
    first = BOARD_COLUMNS[0]
    elements["task-card"] = (
        el("h3.task-title", text=first.tasks[0].title),
        el("article.task-card", attrs={"data-task": first.tasks[0].key}),
        el("section.board-column", attrs={"data-status": first.key}),
        el("div.tab-panel.board-columns", attrs={"data-panel": "board"}),
        *board,
    )
    elements["upgrade-cta"] = _UPGRADE_CTA
    return DemoPage(key="board", path=f"{ROOT}board/", title="Website relaunch", elements=elements)


def _checkout() -> DemoPage:
    form = (
        el("form#checkout-form.form.card"),
        el("div.checkout-grid"),
        el("section.checkout"),
        *_APP_MAIN,
    )
    return DemoPage(
        key="checkout",
        path=f"{ROOT}checkout/",
        title="Upgrade to Pro",
        elements={
            "checkout-form": form,
            "checkout-pay": (
                el(
                    "button#checkout-pay.btn.btn-primary.btn-block",
                    attrs={"type": "submit"},
                    text="Pay $180 and upgrade",
                ),
                *form,
            ),
            "billing-email": (
                el(
                    "input#billing-email",
                    attrs={"name": "billing_email", "type": "email", "placeholder": "billing@company.com"},
                ),
                el("div.field"),
                *form,
            ),
            # Card fields are never captured; the test card number on the page is
            # captured without its text, which looks like a card number.
            "test-card": (
                el("code.test-card"),
                el("p.card-hint.muted", text="A demo: no payment is taken. Try the test card ."),
                *form,
            ),
            "compare-plans": (
                el("a#compare-plans.summary-link", attrs={"href": f"{ROOT}pricing/"}, text="Compare plans"),
                el("aside.order-summary.card", attrs={"aria-label": "Order summary"}),
                el("div.checkout-grid"),
                el("section.checkout"),
                *_APP_MAIN,
            ),
        },
    )


def _checkout_complete() -> DemoPage:
    return DemoPage(
        key="checkout_complete",
        path=f"{ROOT}checkout/complete/",
        title="You're on Pro",
        elements={
            "back-to-board": (
                el(
                    "a#back-to-board.btn.btn-primary",
                    attrs={"href": f"{ROOT}board/"},
                    text="Back to your board",
                ),
                el("div.card.complete-card"),
                el("section.complete"),
                *_APP_MAIN,
            ),
        },
    )


PAGES: tuple[DemoPage, ...] = (
    _landing(),
    _pricing(),
    _signup(),
    _onboarding(),
    _board(),
    _checkout(),
    _checkout_complete(),
)
_BY_KEY = {page.key: page for page in PAGES}


def page_get(key: str) -> DemoPage:
    return _BY_KEY[key]


def plan_get(key: str | None) -> Plan | None:
    return next((plan for plan in PLANS if plan.key == key), None)


def tab_get(key: str) -> Tab | None:
    return next((tab for tab in BOARD_TABS if tab.key == key), None)


@functools.cache
def public_key() -> str:
    """The demo project's public key for the snippet on every demo page, looked up once per process."""
    return demo_ensure().project.public_key
