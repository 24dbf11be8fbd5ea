from __future__ import annotations

import json

import pytest

from demo import site as demo_site
from tests.e2e.helpers import autocaptured, chain_of, flush, stored_events, target_ids

pytestmark = pytest.mark.e2e

PASSWORD = "pw-canary-5d1e93"
CARD_NUMBER = "4000 0025 0000 3155"
CVC = "cvc-canary-737"
EXPIRY = "08 / 31"
COMPANY = "company-canary-77ab"
EMAIL = "email-canary-4f2@example.com"
TEST_CARD_ON_PAGE = "4242 4242 4242 4242"
SECRET_FIELDS = {"signup-password", "card-name", "card-number", "card-expiry", "card-cvc"}


def _type_secrets_on_signup(page) -> None:
    page.goto("/demo/signup/")
    page.fill("#signup-password", PASSWORD)
    page.click("#signup-password")
    page.fill("#signup-company", COMPANY)
    page.click("label[for='signup-password']")
    page.click("#signup-email")  # leaving the fields fires their change events
    flush(page)


def _type_card_on_checkout(page) -> None:
    page.goto("/demo/checkout/")
    page.fill("#card-number", CARD_NUMBER)
    page.fill("#card-expiry", EXPIRY)
    page.fill("#card-cvc", CVC)
    page.click("#card-number")
    page.click("code.test-card")
    page.click("#billing-email")
    flush(page)


def _type_emails(page) -> None:
    for path, field, leave in (
        ("/demo/signup/", "#signup-email", "#signup-company"),
        ("/demo/checkout/", "#billing-email", "#card-number"),
    ):
        page.goto(path)
        page.fill(field, EMAIL)
        page.click(leave)  # a change event for the e-mail field
    flush(page)


def _click_recovery_codes(page) -> None:
    page.goto("/demo/welcome/")
    page.click("#copy-recovery-codes")
    page.click(".recovery-code >> nth=0")
    page.click("#copy-api-token")
    page.click("code.api-token")
    page.click("#create-project")  # leave by a real navigation: the rest goes by beacon
    page.wait_for_url("**/demo/board/")
    flush(page)


def test_passwords_card_details_and_excluded_text_never_leave_the_page(page, traffic):
    _type_secrets_on_signup(page)
    _type_card_on_checkout(page)
    _type_emails(page)
    _click_recovery_codes(page)

    sent = traffic.events()
    # The page really was captured: the canaries had every chance to leak.
    assert {e["properties"]["$pathname"] for e in sent if e["event"] == "$pageview"} == {
        "/demo/signup/",
        "/demo/checkout/",
        "/demo/welcome/",
        "/demo/board/",
    }
    assert any(s.gzipped for s in traffic.to("/i/v1/batch"))
    assert any(not s.gzipped for s in traffic.to("/i/v1/batch"))  # the beacon
    # Typed values and excluded text: in no request at all (session recordings included).
    for secret in (
        PASSWORD,
        CARD_NUMBER,
        CARD_NUMBER.replace(" ", ""),
        CVC,
        COMPANY,
        EMAIL,
        demo_site.API_TOKEN,
        *demo_site.RECOVERY_CODES,
    ):
        assert not traffic.contains(secret), f"{secret!r} left the page"
    # Card-number-like page text: never in autocaptured events (a recording may show the page as it is).
    assert TEST_CARD_ON_PAGE not in json.dumps(sent)
    sent_ids = {element.get("id") for e in sent for element in e["properties"].get("$elements", [])}
    assert "signup-email" in sent_ids
    assert sent_ids.isdisjoint(
        SECRET_FIELDS | {"recovery-codes", "copy-recovery-codes", "api-token", "copy-api-token"}
    )
    assert not [
        e
        for e in sent
        for el in e["properties"].get("$elements", [])
        if el.get("attrs", {}).get("type") == "password"
    ]


def test_a_changed_field_is_recorded_without_its_value(page):
    _type_secrets_on_signup(page)

    events = stored_events(page, lambda es: autocaptured(es, "change"))
    [change] = autocaptured(events, "change")
    assert chain_of(change) == list(demo_site.page_get("signup").elements["company"])
    assert COMPANY not in str(change.properties) and COMPANY not in change.elements_chain
    clicks = autocaptured(events, "click")
    assert target_ids(clicks) == ["", "signup-email"]  # the password label, the email field
    assert chain_of(clicks[0]) == list(demo_site.page_get("signup").elements["password-label"])


def test_text_that_looks_like_a_card_number_is_dropped_but_the_click_is_kept(page):
    _type_card_on_checkout(page)

    events = stored_events(page, lambda es: len(autocaptured(es, "click")) == 2)
    clicks = autocaptured(events, "click")
    assert target_ids(clicks) == ["", "billing-email"]
    assert chain_of(clicks[0]) == list(demo_site.page_get("checkout").elements["test-card"])
    assert "text" not in chain_of(clicks[0])[0]
    assert not autocaptured(events, "change")  # card fields changed, billing email did not


GLOBAL_PRIVACY_CONTROL = (
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })"
)


def _decide_answers(page, config: dict) -> None:
    page.route(
        "**/i/v1/decide",
        lambda route: route.fulfill(
            json={"flags": {}, "nudges": [], "surveys": [], "recording": {"enabled": False}, "config": config}
        ),
    )


def test_a_visitor_asking_not_to_be_tracked_sends_nothing_when_the_project_respects_it(page, traffic):
    page.add_init_script(GLOBAL_PRIVACY_CONTROL)
    _decide_answers(page, {"respect_dnt": True})
    page.goto("/demo/pricing/")
    page.click("button.billing-option[data-billing='annual']")
    flush(page)

    assert traffic.to("/i/v1/batch") == []
    assert stored_events(page, timeout=0.5) == []


def test_a_visitor_asking_not_to_be_tracked_is_tracked_when_the_project_does_not_respect_it(page):
    page.add_init_script(GLOBAL_PRIVACY_CONTROL)
    _decide_answers(page, {"respect_dnt": False})
    page.goto("/demo/pricing/")
    page.click("button.billing-option[data-billing='annual']")
    flush(page)

    assert [e.name for e in stored_events(page)] == ["$pageview", "$autocapture"]


def test_opting_out_stops_capture_until_opting_back_in_even_across_pages(page):
    page.goto("/demo/pricing/")
    flush(page)
    page.evaluate("() => sightline.optOut()")
    page.click("button.billing-option[data-billing='annual']")
    page.reload()
    page.click("button.billing-option[data-billing='annual']")
    flush(page)
    assert [e.name for e in stored_events(page, timeout=0.5)] == ["$pageview"]

    page.evaluate("() => sightline.optIn()")
    page.click("button.billing-option[data-billing='monthly']")
    flush(page)

    events = stored_events(page, lambda es: len(es) == 2)
    assert [e.name for e in events] == ["$pageview", "$autocapture"]
