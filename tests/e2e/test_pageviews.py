from __future__ import annotations

import pytest

from tests.e2e.helpers import autocaptured, flush, stored_events, target_ids

pytestmark = pytest.mark.e2e


def _named(events, name: str):
    return [e for e in events if e.name == name]


def test_switching_board_views_with_push_state_is_a_page_view(page, site):
    page.goto("/demo/board/")
    page.click("a.board-tab[data-tab='list']")
    page.wait_for_url("**/demo/board/list/")
    page.click("a.board-tab[data-tab='list']")  # already there: no new page view
    page.go_back()
    page.wait_for_url("**/demo/board/")
    flush(page)

    events = stored_events(page, lambda es: len(_named(es, "$pageview")) == 3)
    views = _named(events, "$pageview")
    assert [e.path for e in views] == ["/demo/board/", "/demo/board/list/", "/demo/board/"]
    assert views[1].properties["$referrer"] == f"{site}/demo/board/"
    assert views[1].properties["$current_url"] == f"{site}/demo/board/list/"
    leaves = _named(events, "$pageleave")
    assert [e.path for e in leaves] == ["/demo/board/", "/demo/board/list/"]
    assert leaves[0].timestamp <= views[1].timestamp <= leaves[1].timestamp <= views[2].timestamp


def test_a_page_leave_tells_how_long_and_how_far_the_page_was_read(page):
    page.set_viewport_size({"width": 1000, "height": 400})
    page.goto("/demo/")
    page.mouse.wheel(0, 600)
    page.wait_for_function("() => scrollY >= 600")
    page.mouse.wheel(0, -300)
    page.wait_for_function("() => scrollY <= 300")
    deepest = page.evaluate(
        "() => Math.round((600 + innerHeight) / document.documentElement.scrollHeight * 100)"
    )
    page.click("#header-start-trial")  # in the sticky header: no scrolling needed
    page.wait_for_url("**/demo/signup/")
    flush(page)

    [leave] = _named(stored_events(page, lambda es: _named(es, "$pageleave")), "$pageleave")
    assert leave.path == "/demo/"
    assert 0 < leave.properties["$time_on_page"] < 30
    assert 0 < deepest < 100
    assert leave.properties["$scroll_depth"] == deepest


def test_every_event_carries_the_page_and_screen_it_happened_on(page, site):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto("/demo/pricing/")
    flush(page)

    [view] = stored_events(page)
    properties = view.properties
    assert properties["$current_url"] == f"{site}/demo/pricing/"
    assert properties["$pathname"] == "/demo/pricing/"
    assert properties["$host"] == site.removeprefix("http://")
    assert properties["$referrer"] == ""
    assert (properties["$viewport_width"], properties["$viewport_height"]) == (1280, 720)
    assert properties["$screen_width"] > 0 and properties["$screen_height"] > 0
    assert properties["$timezone"] == page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert properties["$lib"] == "sightline-js"
    assert properties["$lib_version"]
    assert view.session_key and view.distinct_id


def test_what_is_queued_when_leaving_a_page_arrives_by_beacon(page, traffic):
    page.goto("/demo/board/")
    page.click("#new-task")
    page.click("#upgrade-cta")  # a real navigation: the queue goes with sendBeacon
    page.wait_for_url("**/demo/checkout/")

    events = stored_events(page, lambda es: _named(es, "$pageleave") and autocaptured(es, "click"))
    assert target_ids(autocaptured(events, "click")) == ["new-task", "upgrade-cta"]
    assert [e.path for e in _named(events, "$pageleave")] == ["/demo/board/"]
    beacons = [s for s in traffic.to("/i/v1/batch") if not s.gzipped]
    assert beacons and all(s.content_type.startswith("text/plain") and "?" not in s.url for s in beacons)
