from __future__ import annotations

import json

import pytest

from tests.e2e.helpers import flush, stored_events

pytestmark = pytest.mark.e2e

# The decide endpoint is answered here with the documented shape; the flags come
# from it, everything else on the page is real.
ANSWER = {
    "flags": {"board-layout": "compact", "bulk-export": True},
    "nudges": [],
    "surveys": [],
    "recording": {"enabled": False},
    "config": {"respect_dnt": False},
}

READ_FLAGS = """async () => {
  const delivered = await new Promise((resolve) => sightline.onFlags(resolve));
  return {
    delivered,
    variant: sightline.getFlag("board-layout"),
    enabled: sightline.isFeatureEnabled("bulk-export"),
    unknown: sightline.isFeatureEnabled("no-such-flag"),
  };
}"""


def test_flags_from_the_decide_answer_are_readable_and_delivered_to_callbacks(page):
    decide_bodies = []

    def answer(route):
        decide_bodies.append((json.loads(route.request.post_data), route.request.headers["content-type"]))
        route.fulfill(json=ANSWER)

    page.route("**/i/v1/decide", answer)
    page.goto("/demo/board/")

    flags = page.evaluate(READ_FLAGS)

    assert flags == {"delivered": ANSWER["flags"], "variant": "compact", "enabled": True, "unknown": False}
    [(body, content_type)] = decide_bodies
    assert content_type == "text/plain"
    flush(page)
    [view] = stored_events(page)
    assert body["api_key"] == page.get_attribute("script[data-key]", "data-key")
    assert body["distinct_id"] == view.distinct_id


def test_identify_asks_again_for_the_flags_of_the_identified_person(page):
    page.route("**/i/v1/decide", lambda route: route.fulfill(json=ANSWER))
    page.goto("/demo/board/")
    page.evaluate(READ_FLAGS)

    with page.expect_request("**/i/v1/decide") as asked:
        page.evaluate("() => sightline.identify('dana@brightpath.test')")

    assert json.loads(asked.value.post_data)["distinct_id"] == "dana@brightpath.test"


def test_a_failing_decide_means_no_flags_and_capture_goes_on(page):
    page.route("**/i/v1/decide", lambda route: route.fulfill(status=404, json={"error": "not found"}))
    page.goto("/demo/board/")

    flags = page.evaluate(READ_FLAGS)

    assert flags == {"delivered": {}, "variant": None, "enabled": False, "unknown": False}
    flush(page)
    assert [e.name for e in stored_events(page)] == ["$pageview"]
