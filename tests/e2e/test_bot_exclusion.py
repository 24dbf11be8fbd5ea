"""A person on the overview sees bots left out, how many, and can let them back in."""

from __future__ import annotations

import urllib.request
import uuid
from datetime import UTC, datetime

import orjson
import pytest

from demo.services import DEMO_EMAIL, DEMO_PASSWORD, demo_ensure
from tests.e2e.helpers import flush, stored_events
from tracking.models import Session

pytestmark = pytest.mark.e2e


def _crawl(site: str, public_key: str) -> None:
    """What a script does: post a page view with Python's urllib (User-Agent: Python-urllib/3.x)."""
    body = orjson.dumps(
        {
            "api_key": public_key,
            "batch": [
                {"uuid": str(uuid.uuid4()), "event": "$pageview", "distinct_id": "crawler-1",
                 "session_id": "crawler-session", "timestamp": datetime.now(UTC).isoformat(),
                 "properties": {"$current_url": f"{site}/demo/pricing/"}}
            ],
        }
    )  # fmt: skip
    request = urllib.request.Request(
        f"{site}/i/v1/batch", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def test_the_overview_leaves_bots_out_says_how_many_and_lets_them_back_in(page, site):
    page.goto("/demo/pricing/")
    flush(page)
    stored_events(page, lambda events: any(e.name == "$pageview" for e in events))
    project = demo_ensure().project
    _crawl(site, project.public_key)
    sessions = Session.objects.filter(project=project).values_list("is_bot", "browser")
    assert sorted(sessions) == [
        (False, "Chrome"),  # the test browser introduces itself as desktop Chrome: counted
        (True, "Python-urllib"),
    ]

    page.goto(f"/login/?next=/p/{project.pk}/overview/")
    page.fill("#id_username", DEMO_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/p/{project.pk}/overview/")

    excluded = page.get_by_test_id("traffic-excluded")
    assert "1 bot session excluded" in excluded.inner_text()
    browsers = page.locator("#browsers")
    assert "Chrome" in browsers.inner_text() and "Python-urllib" not in browsers.inner_text()

    page.get_by_label("Include bots").check()
    page.locator("#overview-traffic button[type=submit]").click()
    page.wait_for_url("**include_bots=on**")
    assert "bots included" in page.get_by_test_id("traffic-excluded").inner_text()
    assert "Python-urllib" in page.locator("#browsers").inner_text()
    assert page.get_by_label("Include bots").is_checked()
