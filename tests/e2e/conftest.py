"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

A missing /usr/bin/chromium fails these tests (set SKIP_E2E=1 to skip them
instead); a browser is never downloaded.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from demo import site as demo_site
from tests.bundles import bundles_build
from tests.e2e.customer_pages import customer_site_factory
from tests.e2e.server import ServerTap
from tests.e2e.traffic import Traffic
from tracking.ingest.http import forget_project_cache

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ordinary_user_agent() -> str:
    """Chromium's user agent without "HeadlessChrome", which ingestion flags as a bot.

    The browser tests stand for people: their events must be stored as a person's
    and counted wherever a test asserts counts, so the headless browser introduces
    itself as the desktop Chrome it is — for every request, beacons included
    (a launch flag; a context's user agent misses beacons sent as a page unloads).
    """
    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=True).stdout
    number = next((word for word in version.split() if word[:1].isdigit()), "120.0.0.0")
    return f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{number} Safari/537.36"


def _skip_requested() -> bool:
    return os.environ.get("SKIP_E2E", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def browser():
    if _skip_requested():
        pytest.skip("SKIP_E2E is set: browser tests skipped")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's chromium package "
            "(`make test` does so when run as root) or set SKIP_E2E=1 to skip the browser tests.",
            pytrace=False,
        )
    bundles_build()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*LAUNCH_ARGS, f"--user-agent={ordinary_user_agent()}"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server_tap(live_server) -> ServerTap:
    tap = ServerTap()
    httpd = live_server.thread.httpd
    httpd.set_app(tap.wrap(httpd.get_app()))
    return tap


@pytest.fixture
def site(live_server, server_tap, transactional_db) -> Iterator[str]:
    """The live server's origin, with a demo project of this test's own."""
    demo_site.public_key.cache_clear()
    forget_project_cache()
    server_tap.open()
    yield live_server.url
    server_tap.close()  # before the database is emptied: see tests/e2e/server.py
    demo_site.public_key.cache_clear()
    forget_project_cache()


@pytest.fixture
def context(browser, site):
    context = browser.new_context(base_url=site)
    context.set_default_timeout(5000)
    yield context
    for page in context.pages:
        # Nothing more from this test: a page leave sent now would land in the next one.
        try:
            page.evaluate("() => window.sightline && window.sightline.optOut()")
        except PlaywrightError:
            pass  # closed, crashed or navigating: it sends nothing either
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def traffic(page, server_tap) -> Traffic:
    """Every request body the page sends: as the browser reports them, and as the server read them."""
    recorder = Traffic(received=server_tap.received)
    page.on("request", recorder.observe)
    return recorder


@pytest.fixture
def customer_pages(site):
    """`customer_pages({path: html}, …)`: a customer's site serving pages with the snippet (see customer_pages.py)."""
    yield from customer_site_factory(site, demo_site.public_key())
