"""The snippet on a page driven by a browser-automation suite, and its last batch as the page goes.

Suites wait for "network idle": no request in flight for 500 ms. Chromium reports no
request as finished while its answer is unread, so a snippet that leaves an answer unread
(or sends ordinary batches to outlive the page) keeps every page from ever being idle.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid

import pytest

from demo import site as demo_site
from tests.e2e.customer_pages import CHECKOUT_PAGE, SHOP_PAGE
from tests.e2e.helpers import stored_events

pytestmark = pytest.mark.e2e

IDLE_WITHIN_MS = 5000
WARM_UP = "warm-up-visitor"


def _named(events, name: str):
    return [e for e in events if e.name == name]


def _is_batch(request) -> bool:
    return "/i/v1/batch" in request.url


def _warm_up(page, site: str) -> None:
    """One decide and one batch from elsewhere: the live server's first answers take seconds.

    A customer's suite talks to a Sightline that has been up for a while; the five seconds
    are the snippet's, not this test server's start-up.
    """
    key = demo_site.public_key()
    assert page.request.post(f"{site}/i/v1/decide", data={"api_key": key, "distinct_id": WARM_UP}).ok
    event = {"uuid": str(uuid.uuid4()), "event": "$pageview", "distinct_id": WARM_UP, "properties": {}}
    assert page.request.post(f"{site}/i/v1/batch", data={"api_key": key, "batch": [event]}).ok


def test_a_page_with_the_snippet_reaches_network_idle_within_five_seconds(
    page, site, customer_pages, server_tap
):
    shop = customer_pages({"/": SHOP_PAGE}).origin
    _warm_up(page, site)
    started = time.monotonic()
    page.goto(shop + "/", wait_until="networkidle", timeout=IDLE_WITHIN_MS)
    assert time.monotonic() - started < IDLE_WITHIN_MS / 1000
    # the snippet asked decide, and the recorder (this project records every session) sent a chunk
    assert {("POST", "/i/v1/decide"), ("POST", "/i/v1/recording")} <= set(server_tap.requests)

    # A batch is a request that finishes too: what "networkidle" waits for on every request.
    page.click("#add-to-cart")
    with page.expect_event("requestfinished", predicate=_is_batch, timeout=IDLE_WITHIN_MS) as finished:
        page.evaluate("() => { window.sightline.flush(); }")
    assert finished.value.response().status == 200
    events = [e for e in stored_events(page, lambda es: len(es) == 3) if e.distinct_id != WARM_UP]
    assert [e.name for e in events] == ["$pageview", "$autocapture"]


def test_a_batch_queued_just_before_pagehide_still_arrives(page, customer_pages):
    shop = customer_pages({"/": SHOP_PAGE, "/checkout/": CHECKOUT_PAGE}).origin
    page.goto(shop + "/", wait_until="networkidle")
    page.evaluate("() => window.sightline.capture('checkout_started', {items: 2})")
    page.click("#to-checkout")  # a real navigation, long before the queue's next send
    page.wait_for_url("**/checkout/")

    events = stored_events(page, lambda es: _named(es, "checkout_started") and _named(es, "$pageleave"))
    [started] = _named(events, "checkout_started")
    assert started.properties["items"] == 2
    assert [e.url for e in _named(events, "$pageleave")] == [shop + "/"]


def test_a_batch_still_in_flight_when_the_tab_is_closed_arrives_all_the_same(context, customer_pages):
    def hold_the_first_batch(path: str, raw: bytes) -> bool:
        return path.startswith("/i/v1/batch") and not shop.held

    shop = customer_pages({"/": SHOP_PAGE}, relay=True, hold=hold_the_first_batch)
    page = context.new_page()
    page.goto(shop.origin + "/")
    page.click("#add-to-cart")
    page.evaluate("() => { window.sightline.flush(); }")
    while not shop.held:  # sent, never answered: still in flight when the tab closes
        page.wait_for_timeout(20)
    in_flight = {event["uuid"] for event in json.loads(gzip.decompress(shop.held[0]))["batch"]}
    page.close()

    # both the beacon and the released batch, however busy the machine (a bound, not a speed goal)
    events = stored_events(
        context.new_page(),
        lambda es: _named(es, "$pageleave") and in_flight <= {str(e.uuid) for e in es},
        timeout=20.0,
    )
    assert [e.name for e in events] == ["$pageview", "$autocapture", "$pageleave"]
    assert in_flight and in_flight <= {str(e.uuid) for e in events}
