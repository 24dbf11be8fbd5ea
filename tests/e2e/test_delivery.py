from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.helpers import flush, stored_events
from tests.e2e.traffic import Sent
from tracking.models import Event

pytestmark = pytest.mark.e2e


class FlakyIngest:
    """Answers the first `failures` batches with `status`, then lets the real endpoint answer."""

    def __init__(self, status: int, failures: int = 1, headers: dict | None = None) -> None:
        self.status = status
        self.failures = failures
        self.headers = headers or {}
        self.bodies: list[list[str]] = []

    def __call__(self, route) -> None:
        request = route.request
        sent = Sent(
            url=request.url, method=request.method, content_type="", raw=request.post_data_buffer or b""
        )
        self.bodies.append([event["uuid"] for event in sent.json()["batch"]])
        if len(self.bodies) <= self.failures:
            route.fulfill(status=self.status, headers=self.headers, json={"error": "test", "detail": ""})
        else:
            route.fallback()


def test_a_batch_refused_with_a_server_error_is_retried_in_order_and_stored_once(page):
    ingest = FlakyIngest(503)
    page.route("**/i/v1/batch*", ingest)
    page.goto("/demo/pricing/")
    flush(page)  # 503
    page.click("button.billing-option[data-billing='annual']")
    flush(page)  # the same batch first, then the click

    events = stored_events(page, lambda es: len(es) == 2)
    assert [e.name for e in events] == ["$pageview", "$autocapture"]
    refused, *delivered = ingest.bodies
    assert delivered[0][: len(refused)] == refused  # the refused batch goes first again
    assert [str(e.uuid) for e in events] == [uuid for body in delivered for uuid in body]


def test_a_batch_refused_as_invalid_is_dropped_not_retried(page):
    ingest = FlakyIngest(400)
    page.route("**/i/v1/batch*", ingest)
    page.goto("/demo/pricing/")
    flush(page)  # 400: the page view is dropped
    page.click("button.billing-option[data-billing='annual']")
    flush(page)

    assert [e.name for e in stored_events(page, lambda es: len(es) == 1)] == ["$autocapture"]
    assert len(ingest.bodies) == 2
    assert set(ingest.bodies[0]).isdisjoint(ingest.bodies[1])


def test_a_rate_limited_batch_waits_for_retry_after_even_when_flushed(page):
    page.clock.install()
    ingest = FlakyIngest(429, headers={"Retry-After": "5"})
    page.route("**/i/v1/batch*", ingest)
    page.goto("/demo/pricing/")
    flush(page)  # 429
    flush(page)  # too early: nothing is sent
    assert len(ingest.bodies) == 1

    page.clock.run_for(5100)

    events = stored_events(page, lambda es: len(es) == 1)
    assert [e.name for e in events] == ["$pageview"]
    assert ingest.bodies[1] == ingest.bodies[0]


def test_batches_are_gzipped_plain_text_with_the_api_key(page, traffic, site):
    page.goto("/demo/pricing/")
    flush(page)

    [batch] = [s for s in traffic.observed if s.path == "/i/v1/batch"]
    assert batch.url == f"{site}/i/v1/batch?compression=gzip"
    assert batch.gzipped
    assert batch.content_type == "text/plain"
    body = batch.json()
    assert body["api_key"].startswith("pk_")
    assert body["sent_at"].endswith("Z")
    [event] = body["batch"]
    assert set(event) == {"uuid", "event", "distinct_id", "timestamp", "session_id", "properties"}
    assert Event.objects.filter(uuid=event["uuid"]).exists()


CUSTOMER_PAGE = """<!doctype html>
<html><head><title>Northwind Shop</title>
<script src="{site}/static/sightline.js" data-key="{key}" defer></script></head>
<body><main><h1>Northwind Shop</h1><button id="add-to-cart" class="buy">Add to cart</button></main></body></html>"""


@pytest.fixture
def customer_site(site) -> Iterator[str]:
    """Another origin (127.0.0.1, not localhost) serving a shop page with the snippet installed."""
    from demo import site as demo_site

    page = CUSTOMER_PAGE.format(site=site, key=demo_site.public_key()).encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_the_snippet_on_another_site_sends_to_the_origin_it_was_loaded_from(
    page, traffic, server_tap, customer_site
):
    page.goto(customer_site)
    page.click("#add-to-cart")
    flush(page)

    events = stored_events(page, lambda es: len(es) == 2)
    assert [e.name for e in events] == ["$pageview", "$autocapture"]
    assert events[0].url == customer_site
    assert events[0].properties["$host"] == customer_site.split("/")[2]
    assert events[1].el_text == "Add to cart"
    assert [s.method for s in traffic.received if s.path == "/i/v1/batch"] == ["POST"]
    assert ("POST", "/i/v1/decide") in server_tap.requests
    assert [path for method, path in server_tap.requests if method == "OPTIONS"] == []  # no CORS preflight
