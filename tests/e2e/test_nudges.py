"""Nudges in the browser: who sees them, where they render, what the visitor's answers record.

The demo site at /demo/ runs the real snippet against the live server; nudges are saved
through the service and reach the page through decide, like in production.
"""

from __future__ import annotations

import itertools
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from demo.services import demo_ensure
from interventions.models import Exposure, Nudge
from interventions.services import nudge_save
from interventions.targeting import forget as forget_decide_cache
from interventions.targeting import held_out
from segments.models import SegmentMembership
from segments.refresh import refresh_project
from segments.services import segment_compute, segment_create
from tests.bundles import bundles_build
from tests.e2e.helpers import flush, stored_events
from tracking.models import Event, Person

pytestmark = pytest.mark.e2e

HOST = "[data-sl-engage]"
IN_SHADOW_ONLY = """(selector) => {
  const host = document.querySelector("[data-sl-engage]");
  return !document.querySelector(selector) && !!host && !!host.shadowRoot.querySelector(selector);
}"""
FOCUS_IN_DIALOG = """() => {
  const root = document.querySelector("[data-sl-engage]").shadowRoot;
  return !!root.activeElement && !!root.activeElement.closest("[role=dialog]");
}"""


@pytest.fixture(autouse=True)
def engage_bundle(browser):
    bundles_build()


@pytest.fixture
def demo_project(site):
    return demo_ensure().project


@pytest.fixture
def pro_plan(demo_project):
    segment = segment_create(
        project=demo_project,
        name="Pro plan",
        definition={
            "match": "all",
            "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
        },
    )
    segment_compute(segment=segment)
    return segment


def live_nudge(project, **data):
    defaults = {
        "name": data.get("title", "Nudge"),
        "kind": "banner",
        "status": "live",
        "frequency_days": 0,
        "max_impressions": 0,
    }
    return nudge_save(project=project, data={**defaults, **data})


def recorded(page, name: str, count: int = 1, *, timeout: float = 5.0) -> list[Event]:
    """Stored events named `name` once there are `count`, flushing the page's queue while waiting."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            page.evaluate("() => window.sightline && window.sightline.flush()")
        except PlaywrightError:
            pass  # navigating: the leaving page sends its queue by beacon
        events = list(Event.objects.filter(name=name).order_by("timestamp", "id"))
        if len(events) >= count or time.monotonic() > deadline:
            return events
        page.wait_for_timeout(100)


def visit_as_member(page, project, distinct_id: str, traits: dict) -> Person:
    """Identify on the demo, let live membership catch up, and load the next page (a fresh decide)."""
    page.goto("/demo/")
    page.evaluate("([id, traits]) => sightline.identify(id, traits)", [distinct_id, traits])
    flush(page)
    stored_events(page, lambda events: any(e.name == "$identify" for e in events))
    refresh_project(project.pk)  # what the worker does after each ingested batch
    with page.expect_response("**/i/v1/decide") as decided:
        page.reload()
    page.decide_answer = decided.value.json()
    return Person.objects.get(distinct_ids__distinct_id=distinct_id)


def test_a_segment_member_sees_the_modal_in_a_shadow_root_and_escape_dismisses_it(
    page, demo_project, pro_plan
):
    nudge = live_nudge(
        demo_project, kind="modal", title="Plan the quarter", body="The timeline shows every due date.",
        cta_text="Open the timeline", cta_url="/demo/board/timeline/", segments=[pro_plan.pk],
    )  # fmt: skip

    person = visit_as_member(page, demo_project, "dana@brightpath.test", {"plan": "pro"})

    dialog = page.get_by_role("dialog", name="Plan the quarter")
    expect(dialog).to_be_visible()
    assert SegmentMembership.objects.filter(segment=pro_plan, person=person, exited_at=None).exists()
    assert page.evaluate(IN_SHADOW_ONLY, "[role=dialog]")
    assert dialog.get_attribute("aria-modal") == "true"
    expect(dialog).to_have_accessible_description("The timeline shows every due date.")
    expect(dialog.get_by_role("button", name="Close")).to_be_visible()
    assert page.evaluate(FOCUS_IN_DIALOG)
    for _ in range(4):  # Tab cycles through the close button and the call to action, never out
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_IN_DIALOG)

    page.keyboard.press("Escape")

    expect(dialog).to_have_count(0)
    [shown] = recorded(page, "$nudge_shown")
    [dismissed] = recorded(page, "$nudge_dismissed")
    assert shown.properties["$nudge_id"] == dismissed.properties["$nudge_id"] == nudge.pk
    assert dismissed.person_id == person.pk
    exposure = Exposure.objects.get(kind="nudge", object_id=nudge.pk, person=person)
    assert (exposure.times_shown, exposure.held_out) == (1, False)
    assert exposure.dismissed_at is not None and exposure.clicked_at is None


def test_the_call_to_action_opens_its_page_in_the_same_tab_and_records_the_click(
    page, demo_project, pro_plan
):
    nudge = live_nudge(
        demo_project, kind="banner", title="Annual billing saves 20%", body="Switch any time.",
        cta_text="Compare plans", cta_url="/demo/pricing/", segments=[pro_plan.pk], url=r"/demo/$", url_matching="regex",
    )  # fmt: skip
    person = visit_as_member(page, demo_project, "dana@brightpath.test", {"plan": "pro"})
    banner = page.get_by_role("region", name="Annual billing saves 20%")
    expect(banner).to_be_visible()

    banner.get_by_role("link", name="Compare plans").click()

    page.wait_for_url("**/demo/pricing/")
    [clicked] = recorded(page, "$nudge_clicked")
    assert clicked.properties["$nudge_id"] == nudge.pk
    assert clicked.person_id == person.pk
    assert len(page.context.pages) == 1
    # `$nudge_shown` may come in a batch of its own, after the click's
    recorded(page, "$nudge_shown")
    exposure = _exposure_clicked(page, nudge, person)
    assert exposure is not None and exposure.clicked_at is not None and exposure.times_shown == 1


def _exposure_clicked(page, nudge, person, *, timeout: float = 5.0) -> Exposure | None:
    """The person's exposure to `nudge` once its click is summarised in it (written as events are stored)."""
    deadline = time.monotonic() + timeout
    while True:
        exposure = Exposure.objects.filter(kind="nudge", object_id=nudge.pk, person=person).first()
        if (exposure is not None and exposure.clicked_at is not None) or time.monotonic() > deadline:
            return exposure
        page.wait_for_timeout(100)


def test_a_visitor_outside_the_segment_sees_nothing(page, demo_project, pro_plan):
    live_nudge(demo_project, kind="modal", title="Plan the quarter", segments=[pro_plan.pk])
    bundles = []
    page.on("request", lambda request: "engage.js" in request.url and bundles.append(request.url))

    visit_as_member(page, demo_project, "lee@fernway.test", {"plan": "free"})
    page.wait_for_timeout(300)

    assert page.decide_answer["nudges"] == []
    assert bundles == []
    assert page.locator(HOST).count() == 0
    assert not Event.objects.filter(name__startswith="$nudge_").exists()


def test_a_held_out_member_sees_nothing_and_the_holdout_is_recorded(page, demo_project, pro_plan):
    nudge = live_nudge(
        demo_project, kind="modal", title="Plan the quarter", segments=[pro_plan.pk], holdout_percent=90
    )
    # The holdout is a stable hash of the visitor: pick someone it keeps out.
    distinct_id = next(
        candidate
        for candidate in (f"member-{i}@holdout.test" for i in itertools.count())
        if held_out("nudge", nudge.pk, candidate, 90)
    )

    person = visit_as_member(page, demo_project, distinct_id, {"plan": "pro"})

    assert page.decide_answer["nudges"] == [
        {"id": nudge.pk, "held_out": True, "url_matching": "contains", "url": ""}
    ]
    [event] = recorded(page, "$nudge_held_out")
    assert event.properties["$nudge_id"] == nudge.pk
    assert event.person_id == person.pk
    assert page.locator(HOST).count() == 0
    assert not Event.objects.filter(name="$nudge_shown").exists()
    exposure = Exposure.objects.get(kind="nudge", object_id=nudge.pk, person=person)
    assert (exposure.held_out, exposure.variant, exposure.times_shown) == (True, "holdout", 0)


def test_a_tooltip_shows_beside_its_anchor_and_never_without_one(page, demo_project):
    beside = live_nudge(
        demo_project, kind="tooltip", anchor_selector="#hero-see-pricing", title="Compare the plans"
    )
    missing = live_nudge(
        demo_project, kind="tooltip", anchor_selector="#no-such-element", title="Nothing to point at"
    )
    late = live_nudge(demo_project, kind="tooltip", anchor_selector="#rendered-later", title="Found it")

    page.goto("/demo/")
    tooltip = page.get_by_role("tooltip", name="Compare the plans")
    expect(tooltip).to_be_visible()
    anchor = page.locator("#hero-see-pricing").bounding_box()
    box = tooltip.bounding_box()
    assert box["y"] >= anchor["y"] + anchor["height"] or box["y"] + box["height"] <= anchor["y"]
    # An app that renders the anchor a moment later still gets its tooltip.
    page.evaluate("""() => {
      const button = document.createElement("button");
      button.id = "rendered-later";
      button.textContent = "Rendered later";
      document.querySelector("main").prepend(button);
    }""")
    expect(page.get_by_role("tooltip", name="Found it")).to_be_visible()
    page.wait_for_timeout(2200)  # past the wait for late anchors

    assert page.get_by_role("tooltip", name="Nothing to point at").count() == 0
    shown = recorded(page, "$nudge_shown", 2)
    assert sorted(e.properties["$nudge_id"] for e in shown) == sorted([beside.pk, late.pk])
    assert not Exposure.objects.filter(object_id=missing.pk).exists()


def test_banners_follow_their_pages_through_single_page_navigation_and_stack(page, demo_project):
    live_nudge(demo_project, title="Welcome to Tasklane", url=r"/demo/$", url_matching="regex")
    pricing = live_nudge(
        demo_project, title="Annual billing saves 20%", url="/DEMO/pricing/", url_matching="contains"
    )
    everywhere = live_nudge(demo_project, title="Tasklane is hiring")

    page.goto("/demo/")
    welcome_banner = page.get_by_role("region", name="Welcome to Tasklane")
    expect(welcome_banner).to_be_visible()
    expect(page.get_by_role("region", name="Tasklane is hiring")).to_be_visible()
    assert page.get_by_role("region", name="Annual billing saves 20%").count() == 0

    page.evaluate("() => history.pushState({}, '', '/demo/pricing/')")

    pricing_banner = page.get_by_role("region", name="Annual billing saves 20%")
    expect(pricing_banner).to_be_visible()
    expect(welcome_banner).to_have_count(0)
    hiring = page.get_by_role("region", name="Tasklane is hiring").bounding_box()
    below = pricing_banner.bounding_box()
    assert hiring["y"] == 0 and below["y"] >= hiring["y"] + hiring["height"] - 1
    shown = recorded(page, "$nudge_shown", 3)
    assert shown[-1].properties["$nudge_id"] == pricing.pk
    assert everywhere.pk in {e.properties["$nudge_id"] for e in shown}
    assert shown[-1].properties["$current_url"].endswith("/demo/pricing/")


def test_a_top_banner_pushes_the_page_down_instead_of_covering_its_header(page, demo_project):
    live_nudge(demo_project, title="Finish your upgrade", body="Two steps left.")
    page.goto("/demo/")
    logo = page.locator(".site-header").get_by_role("link", name="Tasklane home")
    banner = page.get_by_role("region", name="Finish your upgrade")
    expect(banner).to_be_visible()
    page.wait_for_function("() => parseFloat(getComputedStyle(document.documentElement).paddingTop) > 0")
    box, header = banner.bounding_box(), page.locator(".site-header").bounding_box()
    assert box["y"] == 0
    assert header["y"] >= box["y"] + box["height"] - 1  # below the banner, not under it
    pushed = logo.bounding_box()
    # the topmost thing where the logo is drawn is the logo itself
    hit = page.evaluate(
        "([x, y]) => { const el = document.elementFromPoint(x, y); return !!el && !!el.closest('.logo'); }",
        [pushed["x"] + 5, pushed["y"] + 5],
    )
    assert hit

    banner.get_by_role("button", name="Close").click()
    expect(banner).to_have_count(0)
    page.wait_for_function("() => getComputedStyle(document.documentElement).paddingTop === '0px'")
    assert abs(logo.bounding_box()["y"] - (pushed["y"] - box["height"])) < 1  # the page moves back up


def test_focus_moves_into_a_modal_and_comes_back_when_it_closes(page, demo_project):
    live_nudge(demo_project, kind="modal", title="Invite your team", cta_text="Invite", url="/demo/pricing/")
    page.goto("/demo/")
    page.wait_for_function("() => window.sightlineEngage")
    page.focus("#hero-see-pricing")

    page.evaluate("() => history.pushState({}, '', '/demo/pricing/')")
    dialog = page.get_by_role("dialog", name="Invite your team")
    expect(dialog).to_be_visible()
    assert page.evaluate(FOCUS_IN_DIALOG)
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUS_IN_DIALOG)

    dialog.get_by_role("button", name="Close").click()

    expect(dialog).to_have_count(0)
    assert page.evaluate("() => document.activeElement.id") == "hero-see-pricing"
    assert len(recorded(page, "$nudge_dismissed")) == 1


def test_server_text_is_shown_as_text_and_a_javascript_link_is_refused(page, demo_project):
    nudge = live_nudge(
        demo_project, kind="modal", title='<img src="x" onerror="window.injected = 1">Hello',
        body="<b>not bold</b>", cta_text="Run it", cta_url="/demo/",
    )  # fmt: skip
    # The service refuses such links; the browser must refuse them too (defence in depth,
    # e.g. for rows written before that validation or by hand).
    Nudge.objects.filter(pk=nudge.pk).update(cta_url=" javascript:window.injected = 2")
    forget_decide_cache()

    page.goto("/demo/")
    dialog = page.get_by_role("dialog", name='<img src="x" onerror="window.injected = 1">Hello')
    expect(dialog).to_be_visible()
    assert (
        page.evaluate(
            "() => document.querySelector('[data-sl-engage]').shadowRoot.querySelectorAll('img, b').length"
        )
        == 0
    )
    assert dialog.get_by_role("link").count() == 0

    dialog.get_by_role("button", name="Run it").click()

    expect(dialog).to_have_count(0)
    [clicked] = recorded(page, "$nudge_clicked")
    assert clicked.properties["$nudge_id"] == nudge.pk
    assert page.evaluate("() => window.injected") is None
    assert page.url.endswith("/demo/")


def test_the_site_css_cannot_hide_or_restyle_a_nudge(page, demo_project):
    live_nudge(
        demo_project,
        kind="modal",
        title="Still readable",
        body="Whatever the page's styles say.",
        cta_text="Got it",
    )
    page.goto("/demo/")
    # Everything but the document and its body, the host included, hidden with !important.
    page.add_style_tag(
        content="*:not(html):not(body) { display: none !important; visibility: hidden !important; opacity: 0 !important;"
        " color: red !important; font-size: 2px !important; transform: scale(0) !important }"
    )

    expect(page.locator("#hero-see-pricing")).to_be_hidden()
    dialog = page.get_by_role("dialog", name="Still readable")
    expect(dialog).to_be_visible()
    title = dialog.get_by_role("heading", name="Still readable")
    assert title.evaluate("el => getComputedStyle(el).fontSize") == "18px"
    assert title.evaluate("el => getComputedStyle(el).color") != "rgb(255, 0, 0)"
    assert dialog.bounding_box()["width"] > 200
    dialog.get_by_role("button", name="Got it").click()
    expect(dialog).to_have_count(0)


def test_the_team_tests_a_person_and_a_preview_link_shows_the_nudge_without_counting_it(
    page, site, demo_project, pro_plan
):
    from demo.services import DEMO_EMAIL, DEMO_PASSWORD

    nudge = live_nudge(
        demo_project, kind="banner", title="Annual billing saves 20%", status="draft", segments=[pro_plan.pk]
    )
    edit = f"/p/{demo_project.pk}/interventions/nudges/{nudge.pk}/"
    page.goto(f"/login/?next={edit}")
    page.fill("#id_username", DEMO_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{edit}")

    # who would see it now: a draft is seen by nobody, and the page says why
    page.fill("#id_targeting_distinct_id", "someone-new@example.test")
    page.get_by_role("button", name="Would they see it?").click()
    answer = page.locator("#targeting-test")
    expect(answer).to_contain_text("would not see it")
    expect(answer).to_contain_text("Nobody with this distinct id has been seen in this project")
    expect(answer).to_contain_text("It is draft: nobody sees it until it is live.")

    # the preview link, followed, shows it on the site
    page.fill("#id_targeting_page_url", f"{site}/demo/")
    page.get_by_role("button", name="Make a preview link").click()
    link = page.get_by_role("link", name="Open the preview")
    expect(link).to_be_visible()
    with page.context.expect_page() as opened:
        link.click()
    preview = opened.value
    banner = preview.get_by_role("region", name="Annual billing saves 20%")
    expect(banner).to_be_visible()
    banner.get_by_role("button", name="Close").click()
    expect(banner).to_have_count(0)

    # the page's own events arrive; none of the nudge's, and no exposure
    recorded(preview, "$pageview")
    preview.wait_for_timeout(300)
    flush(preview)
    assert Event.objects.filter(name="$pageview", url__contains="sl_preview=").exists()
    assert not Event.objects.filter(name__startswith="$nudge_").exists()
    assert not Exposure.objects.filter(kind="nudge", object_id=nudge.pk).exists()
