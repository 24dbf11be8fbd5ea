from __future__ import annotations

import pytest

from demo import site as demo_site
from tests.e2e.helpers import autocaptured, chain_of, flush, stored_events, target_ids
from tracking.elements import decode

pytestmark = pytest.mark.e2e


def test_a_click_is_stored_with_its_element_chain_up_to_body(events_backend, page):
    page.goto("/demo/pricing/")
    page.click(".plan-card[data-plan='pro'] .choose-plan")
    page.wait_for_url("**/demo/signup/?plan=pro")
    flush(page)

    [click] = autocaptured(stored_events(page, lambda es: autocaptured(es, "click")), "click")
    chain = decode(click.elements_chain)
    assert chain[0]["tag"] == "a"
    assert chain[0]["classes"] == ["btn", "choose-plan", "btn-primary"]
    assert chain[0]["attrs"] == {"href": "/demo/signup/?plan=pro", "data-plan": "pro"}
    assert chain[0]["text"] == "Start 14-day trial"
    assert chain[1]["tag"] == "article" and chain[1]["attrs"] == {"data-plan": "pro"}
    assert chain[-1]["tag"] == "body"
    assert chain_of(click) == list(demo_site.page_get("pricing").elements["choose-plan-pro"])
    assert click.el_text == "Start 14-day trial"
    assert click.path == "/demo/pricing/"


def test_a_form_submission_is_stored_with_the_forms_chain(events_backend, page):
    page.goto("/demo/signup/")
    page.fill("#signup-name", "Dana Whitfield")
    page.fill("#signup-email", "dana@brightpath.test")
    page.fill("#signup-password", "correct horse battery")
    page.select_option("#signup-company-size", "11-50")
    page.click("button#start-trial")
    page.wait_for_url("**/demo/welcome/")
    flush(page)

    events = stored_events(page, lambda es: autocaptured(es, "submit"))
    [submit] = autocaptured(events, "submit")
    assert chain_of(submit) == list(demo_site.page_get("signup").elements["signup-form"])
    assert chain_of(submit)[0]["id"] == "signup-form"
    start_trial = [e for e in autocaptured(events, "click") if target_ids([e]) == ["start-trial"]]
    assert [chain_of(e) for e in start_trial] == [list(demo_site.page_get("signup").elements["start-trial"])]
    assert target_ids(autocaptured(events, "change")) == [
        "signup-name",
        "signup-email",
        "signup-company-size",
    ]


def test_three_quick_clicks_in_one_place_are_stored_as_one_rageclick(page):
    page.goto("/demo/board/")
    page.click("#export-board", click_count=3)
    page.click("#export-board")  # a fourth click within the second: still the same burst
    flush(page)

    events = stored_events(page, lambda es: any(e.name == "$rageclick" for e in es))
    rageclicks = [e for e in events if e.name == "$rageclick"]
    assert len(rageclicks) == 1
    assert chain_of(rageclicks[0]) == list(demo_site.page_get("board").elements["export-board"])
    assert len(autocaptured(events, "click")) == 4


def test_clicks_far_apart_are_not_a_rageclick(page):
    page.goto("/demo/board/")
    page.click("#export-board")
    page.click("#new-task")
    page.click("#cancel-new-task")
    flush(page)

    events = stored_events(page, lambda es: len(autocaptured(es, "click")) == 3)
    assert len(autocaptured(events, "click")) == 3
    assert not [e for e in events if e.name == "$rageclick"]


def test_a_click_that_changes_nothing_is_stored_as_a_dead_click(page):
    page.clock.install()
    page.goto("/demo/board/")
    page.click("#share-board")  # shows a toast: the page responded
    page.clock.run_for(3000)
    page.click("#export-board")  # does nothing at all
    page.clock.run_for(3000)
    flush(page)

    events = stored_events(page, lambda es: any(e.name == "$dead_click" for e in es))
    dead = [e for e in events if e.name == "$dead_click"]
    assert [chain_of(e) for e in dead] == [list(demo_site.page_get("board").elements["export-board"])]


def test_a_single_page_navigation_is_not_a_dead_click(page):
    page.clock.install()
    page.goto("/demo/board/")
    page.click("a.board-tab[data-tab='timeline']")
    page.clock.run_for(3000)
    flush(page)

    events = stored_events(page, lambda es: len([e for e in es if e.name == "$pageview"]) == 2)
    assert [e.path for e in events if e.name == "$pageview"] == ["/demo/board/", "/demo/board/timeline/"]
    assert not [e for e in events if e.name == "$dead_click"]


# Clicks every listed element (and submits every listed form) without letting the page
# react, so each is captured as the page was served.
_ACTIVATE_EVERY_LISTED_ELEMENT = """
(selectors) => {
  const freeze = (event) => { event.preventDefault(); event.stopPropagation(); };
  addEventListener("click", freeze, true);
  addEventListener("submit", freeze, true);
  const missing = [];
  for (const [selector, type] of selectors) {
    const element = document.querySelector(selector);
    if (!element) { missing.push(selector); continue; }
    element.dispatchEvent(type === "submit"
      ? new Event("submit", { bubbles: true, cancelable: true })
      : new MouseEvent("click", { bubbles: true, cancelable: true }));
  }
  return missing;
}
"""


def _css(element: dict) -> str:
    selector = element["tag"]
    if "id" in element:
        selector += f"#{element['id']}"
    selector += "".join(f".{c}" for c in element.get("classes", ()))
    selector += "".join(f'[{name}="{value}"]' for name, value in element.get("attrs", {}).items())
    return selector


def test_every_element_the_demo_site_lists_is_captured_exactly_as_listed(page):
    expected: list[list[dict]] = []
    for demo_page in demo_site.PAGES:
        page.goto(demo_page.path)
        selectors = [
            [" > ".join(_css(e) for e in reversed(chain)), "submit" if chain[0]["tag"] == "form" else "click"]
            for chain in demo_page.elements.values()
        ]
        assert page.evaluate(_ACTIVATE_EVERY_LISTED_ELEMENT, selectors) == [], demo_page.key
        flush(page)
        expected += [list(chain) for chain in demo_page.elements.values()]

    events = stored_events(page, lambda es: len([e for e in es if e.name == "$autocapture"]) >= len(expected))
    captured = [chain_of(e) for e in events if e.name == "$autocapture"]
    assert captured == expected
