from __future__ import annotations

import pytest

from tests.e2e.customer_pages import TODO_APP
from tests.e2e.helpers import flush, stored_events

pytestmark = pytest.mark.e2e


def _named(events, name: str):
    return [e for e in events if e.name == name]


def _urls(events) -> list[str]:
    return [e.properties["$current_url"] for e in events]


def test_each_hash_route_change_is_one_page_view_and_an_anchor_jump_none(page, customer_pages):
    app = customer_pages({"/todos/": TODO_APP}).origin + "/todos/"
    page.goto(app)
    page.click("#active")
    page.wait_for_url("**/todos/#/active")
    page.click("#completed")
    page.wait_for_url("**/todos/#/completed")
    page.click("#to-notes")  # an in-page anchor: still the "completed" page
    page.wait_for_url("**/todos/#notes")
    page.click("#completed")  # so this is no new page either
    page.wait_for_url("**/todos/#/completed")
    page.click("#all")
    page.wait_for_url("**/todos/#/")
    page.click("#all")  # already there
    flush(page)

    events = stored_events(page, lambda es: len(_named(es, "$pageview")) >= 4)
    views = _named(events, "$pageview")
    assert _urls(views) == [app, app + "#/active", app + "#/completed", app + "#/"]
    assert [e.path for e in views] == ["/todos/"] * 4
    assert [v.properties["$referrer"] for v in views[1:]] == _urls(views[:-1])
    leaves = _named(events, "$pageleave")
    assert _urls(leaves) == _urls(views[:-1])
    in_order = [e.name for e in events if e.name in ("$pageview", "$pageleave")]
    assert in_order == ["$pageview"] + ["$pageleave", "$pageview"] * 3
    # Each link announced its change twice (popstate, then hashchange), and counted once.
    assert page.evaluate("announced") == {"popstate": 6, "hashchange": 5}


def test_a_route_pushed_and_announced_twice_and_a_back_step_are_one_page_view_each(page, customer_pages):
    app = customer_pages({"/todos/": TODO_APP}).origin + "/todos/"
    page.goto(app + "#/active")
    page.click("#push-completed")  # pushState, then the router's own hashchange
    page.wait_for_url("**/todos/#/completed")
    page.go_back()  # popstate and hashchange again
    page.wait_for_url("**/todos/#/active")
    flush(page)

    events = stored_events(page, lambda es: len(_named(es, "$pageview")) >= 3)
    assert _urls(_named(events, "$pageview")) == [app + "#/active", app + "#/completed", app + "#/active"]
    assert _urls(_named(events, "$pageleave")) == [app + "#/active", app + "#/completed"]


def test_an_anchor_on_a_page_loaded_with_one_is_no_page_view_either(page, customer_pages):
    app = customer_pages({"/todos/": TODO_APP}).origin + "/todos/"
    page.goto(app + "#notes")
    page.click("#back-to-top")  # "#top": an anchor again, from the root route
    page.wait_for_url("**/todos/#top")
    page.click("#all")  # "#/" is the root route the anchors were on
    page.wait_for_url("**/todos/#/")
    page.click("#active")
    page.wait_for_url("**/todos/#/active")
    flush(page)

    events = stored_events(page, lambda es: len(_named(es, "$pageview")) >= 2)
    assert _urls(_named(events, "$pageview")) == [app + "#notes", app + "#/active"]


def test_with_hash_routes_off_a_hash_route_change_is_no_page_view(page, customer_pages):
    app = (
        customer_pages({"/todos/": TODO_APP}, snippet_attributes=' data-hash-routes="off"').origin + "/todos/"
    )
    page.goto(app)
    page.click("#active")
    page.wait_for_url("**/todos/#/active")
    page.click("#push-completed")
    page.wait_for_url("**/todos/#/completed")
    page.click("#all")
    page.wait_for_url("**/todos/#/")
    flush(page)

    # the clicks are stored: the page views, had there been any, would have been too
    events = stored_events(page, lambda es: len(_named(es, "$autocapture")) >= 3)
    assert len(_named(events, "$autocapture")) == 3
    assert _urls(_named(events, "$pageview")) == [app]
    assert _named(events, "$pageleave") == []
