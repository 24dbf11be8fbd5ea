"""The real posthog-js and @segment/analytics-next in Chromium, pointed at Sightline.

A customer's page (served by a Playwright route on the live server's origin)
loads one client bundle (tests/e2e/clients, built by `npm run build:test-clients`)
configured with the project's public key as its API key or write key. What the
clients send is checked through Sightline's own REST API and pages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from django.test import Client
from django_q.conf import Conf

from interventions.models import FeatureFlag
from replay.models import Recording
from segments.models import SegmentMembership
from segments.services import segment_create
from tests.bundles import POSTHOG_PAGE, SEGMENT_PAGE, client_bundles_build
from tracking.models import PersonDistinctId
from tracking.services.actions import action_create

pytestmark = pytest.mark.e2e

SECRET = "nia.secret@example.com"
SHOP = """
<h1>Acme shop</h1>
<div class="hero"><button id="start-trial" class="btn primary" data-plan="pro" type="button">Start trial</button></div>
<form onsubmit="return false"><label for="email">Email</label><input id="email" name="email" type="email"></form>
"""


@pytest.fixture(autouse=True)
def _setup(browser, monkeypatch, site):
    client_bundles_build()
    monkeypatch.setattr(Conf, "SYNC", True)  # segment refreshes run inside the ingest request


@pytest.fixture
def api(alice_api_key, project):
    client = Client()

    def call(method: str, path: str, body: dict | None = None):
        return getattr(client, method)(
            f"/api/v1/projects/{project.pk}{path}",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {alice_api_key}",
        ).json()

    return call


def open_shop(page, site: str, project, bundle, body: str = SHOP) -> None:
    config = json.dumps({"key": project.public_key, "host": site})
    html = (
        f"<!doctype html><html><head><title>Acme shop</title></head><body>{body}"
        f"<script>window.COMPAT_CONFIG = {config};</script><script src='/shop-assets/client.js'></script>"
        "</body></html>"
    )
    page.route(
        f"{site}/shop/**", lambda route: route.fulfill(status=200, content_type="text/html", body=html)
    )
    page.route(
        f"{site}/shop-assets/client.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript", path=str(bundle)),
    )
    page.goto(f"{site}/shop/")


def until(page, check: Callable[[], object], *, timeout: float = 15.0, what: str = "condition"):
    """Poll the database through the page (Playwright serves the browser only while one of its calls runs)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)


def person_of(distinct_id: str) -> int | None:
    return (
        PersonDistinctId.objects.filter(distinct_id=distinct_id).values_list("person_id", flat=True).first()
    )


def test_a_posthog_js_autocaptured_click_matches_a_selector_action_and_feeds_a_segment(
    page, site, project, api
):
    action = action_create(
        project=project,
        user=None,
        name="Started trial",
        steps=[{"event": "$autocapture", "selector": ".hero > button#start-trial[data-plan=pro]"}],
    )
    trialists = segment_create(
        project=project,
        name="Trialists",
        definition={"match": "all", "conditions": [{"type": "behavior", "event": {"action": action.pk}}]},
    )
    open_shop(page, site, project, POSTHOG_PAGE)
    # autocapture starts once posthog-js has read its remote config from Sightline
    page.wait_for_function("() => window.posthog && posthog.autocapture && posthog.autocapture.isEnabled")
    distinct_id = page.evaluate("() => window.posthog.get_distinct_id()")
    page.click("#start-trial")

    matched = until(
        page, lambda: api("get", f"/actions/{action.pk}/events/")["results"], what="the action's event"
    )
    assert [e["event"] for e in matched] == ["$autocapture"]
    assert matched[0]["properties"]["$current_url"].endswith("/shop/")
    member = until(
        page,
        lambda: SegmentMembership.objects.filter(segment=trialists, exited_at__isnull=True).first(),
        what="segment entry",
    )
    assert member.person_id == person_of(distinct_id)
    pageviews = api("get", f"/events/?distinct_id={distinct_id}&event=$pageview")["results"]
    assert len(pageviews) == 1


def test_posthog_js_identify_group_and_flags_agree_with_sightline(page, site, project, api):
    upgraded = segment_create(
        project=project,
        name="Upgraded",
        definition={"match": "all", "conditions": [{"type": "behavior", "event": {"name": "upgraded"}}]},
    )
    FeatureFlag.objects.create(
        project=project, key="beta", enabled=True, rules=[{"segment": upgraded.pk, "rollout": 100}]
    )
    FeatureFlag.objects.create(
        project=project,
        key="layout",
        enabled=True,
        rules=[{"segment": None, "rollout": 100}],
        variants=[{"key": "compact", "weight": 50}, {"key": "roomy", "weight": 50}],
    )
    open_shop(page, site, project, POSTHOG_PAGE)
    page.wait_for_function("() => window.posthog && window.posthog.__loaded")
    anonymous = page.evaluate("() => window.posthog.get_distinct_id()")
    page.evaluate(
        """() => {
        posthog.capture('upgraded', {plan: 'team'});
        posthog.identify('user-js-1', {email: 'nia@example.com'});
        posthog.group('company', 'acme', {name: 'Acme', seats: 12});
    }"""
    )
    # anonymous -> identified: one person with both ids, their traits, and the company
    until(
        page, lambda: person_of("user-js-1") and person_of("user-js-1") == person_of(anonymous), what="merge"
    )
    person = until(
        page,
        lambda: (p := api("get", f"/persons/{person_of('user-js-1')}/")) and p["company"] and p,
        what="the person's company",
    )
    assert set(person["distinct_ids"]) == {anonymous, "user-js-1"}
    assert person["properties"]["email"] == "nia@example.com"
    company = api("get", "/companies/")["results"]
    assert [(c["key"], c["properties"]) for c in company] == [("acme", {"name": "Acme", "seats": 12})]
    until(page, lambda: SegmentMembership.objects.filter(segment=upgraded).exists(), what="segment entry")

    # flags, as posthog-js reads them, equal Sightline's server-side evaluation
    page.evaluate(
        "() => new Promise(done => { posthog.onFeatureFlags(() => done()); posthog.reloadFeatureFlags(); })"
    )
    page.wait_for_function("() => posthog.isFeatureEnabled('beta') === true", timeout=10000)
    expected = api("post", "/flags/evaluate", {"distinct_ids": ["user-js-1", "someone-else"]})
    seen = page.evaluate(
        "() => ({beta: posthog.isFeatureEnabled('beta'), layout: posthog.getFeatureFlag('layout'),"
        " payload: posthog.getFeatureFlagPayload('beta') ?? null})"
    )
    assert seen == {
        "beta": expected["user-js-1"]["beta"],
        "layout": expected["user-js-1"]["layout"],
        "payload": None,
    }
    assert expected["user-js-1"]["beta"] is True and expected["someone-else"]["beta"] is False


def test_a_posthog_js_recording_plays_in_the_viewer_with_inputs_masked(page, site, project, alice, password):
    project.recording_enabled = True
    project.save()
    from tracking.ingest.http import forget_project_cache

    forget_project_cache()
    open_shop(page, site, project, POSTHOG_PAGE)
    page.wait_for_function("() => window.posthog && window.posthog.sessionRecordingStarted()", timeout=10000)
    session_id = page.evaluate("() => window.posthog.get_session_id()")
    page.click("#email")
    page.keyboard.type(SECRET, delay=10)
    page.click("#start-trial")

    def recorded() -> Recording | None:
        recording = Recording.objects.filter(project=project, session_key=session_id).first()
        return recording if recording and recording.click_count >= 1 else None

    recording = until(page, recorded, timeout=20, what="a recording with the click")
    from replay.selectors import chunk_json

    stored = b"".join(chunk_json(chunk) for chunk in recording.chunks.all())
    assert SECRET.encode() not in stored

    page.goto(f"{site}/login/?next=/p/{project.pk}/replay/{recording.pk}/")
    page.fill("#id_username", alice.email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-player-ready]", state="attached", timeout=15000)
    page.evaluate("() => window.sightlinePlayer.pause(60 * 60 * 1000)")  # the end: everything typed
    frame = page.locator(".replayer-wrapper iframe").element_handle().content_frame()
    assert frame.locator("h1").first.text_content() == "Acme shop"
    value = frame.locator("#email").input_value()
    assert value and set(value) == {"*"}


def test_segment_analytics_next_events_identify_and_group(page, site, project, api):
    open_shop(page, site, project, SEGMENT_PAGE)
    page.wait_for_function("() => window.analytics")
    anonymous = page.evaluate(
        """async () => {
        await analytics.page('Shop');
        await analytics.track('Trial Started', {plan: 'pro'});
        await analytics.identify('user-seg-1', {email: 'sam@example.com'});
        await analytics.group('globex', {name: 'Globex'});
        const user = await analytics.user();
        return user.anonymousId();
    }"""
    )
    until(
        page,
        lambda: person_of("user-seg-1") and person_of("user-seg-1") == person_of(anonymous),
        what="merge",
    )
    person = until(
        page,
        lambda: (p := api("get", f"/persons/{person_of('user-seg-1')}/")) and p["company"] and p,
        what="the person's company",
    )
    assert person["properties"]["email"] == "sam@example.com"
    names = [e["event"] for e in api("get", "/events/?distinct_id=user-seg-1&order=asc")["results"]]
    assert names[:3] == ["$pageview", "Trial Started", "$identify"]
    assert api("get", "/companies/")["results"][0]["properties"] == {"name": "Globex"}
