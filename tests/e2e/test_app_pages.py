"""The app's own pages in the browser: what a product manager meets on a first day.

Each test drives a page the way a person does (typing, choosing, clicking) and reads
what is on screen; the data is made through the services and the ingest endpoint.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from analysis.services import saved_analysis_create
from interventions.models import Nudge
from interventions.services import nudge_save
from segments.services import segment_compute, segment_create
from tests.e2e.helpers import sign_in
from tests.ingest.conftest import event
from tracking.models import Event, PersonalApiKey
from tracking.services.accounts import api_key_create

pytestmark = pytest.mark.e2e

SHARE = [{"tag": "button", "id": "share-board", "classes": ["btn"], "text": "Share"}, {"tag": "body"}]
PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


@pytest.fixture
def app(context, page, site, alice, project):
    """Alice's browser, signed in, on her project."""
    sign_in(context, alice, site)
    page.project = project
    return page


def path(page, rest: str) -> str:
    return f"/p/{page.project.pk}/{rest}"


@pytest.fixture
def clicks(send):
    """The Share button clicked on two pages, by three people."""
    batch = [
        event(
            "$autocapture",
            who,
            session_id=f"s-{who}",
            **{"$current_url": url, "$elements": SHARE, "$event_type": "click"},
        )
        for who, url in [
            ("ann", "https://app.test/board/"),
            ("ben", "https://app.test/board/"),
            ("cy", "https://app.test/timeline/"),
        ]
    ]
    assert send(batch).json()["accepted"] == 3


def test_an_action_from_a_top_clicked_element_matches_it_on_every_page_unless_asked(app, clicks):
    app.goto(path(app, "overview/"))
    app.get_by_role("link", name="Define an action from this element").first.click()

    expect(app.locator("#preview-events")).to_have_text("3")  # both pages
    assert app.locator('input[name="steps-0-url"]').input_value() == ""
    scope = app.locator("#draft-scope")
    expect(scope).to_contain_text("This element on every page.")

    scope.get_by_role("link").click()

    url_field = app.locator('input[name="steps-0-url"]')
    assert url_field.input_value().startswith("https://app.test/")
    expect(app.locator("#preview-events")).to_have_text(
        "2" if url_field.input_value().endswith("/board/") else "1"
    )
    expect(app.locator("#draft-scope")).to_contain_text("Only clicks on")


def test_adding_a_filter_in_the_segment_builder_shows_no_error_until_saving(app, clicks):
    app.goto(path(app, "segments/new/"))
    app.fill('input[name="name"]', "Sharers")
    app.fill('input[name="n-r_0-ev_name"]', "$autocapture")
    expect(app.locator("#preview-count")).to_be_visible()

    app.get_by_role("button", name="+ filter").first.click()

    expect(app.locator('input[name="n-r_0-ev_w0_property"]')).to_be_visible()
    expect(app.locator("#preview-unfilled")).to_contain_text("Fill in")
    expect(app.get_by_role("alert")).to_have_count(0)
    expect(app.get_by_text("must be a non-empty string")).to_have_count(0)

    app.get_by_role("button", name="Save segment").click()

    expect(app.get_by_role("alert").first).to_contain_text("must be a non-empty string")


def test_choosing_a_person_property_breakdown_waits_for_the_property(app, send):
    send([event("$identify", f"u{i}", session_id=f"s{i}", **{"$set": {"plan": "pro"}}) for i in range(3)])
    segment = segment_create(project=app.project, name="Pro", definition=PRO)
    segment_compute(segment=segment)
    app.goto(path(app, f"segments/{segment.pk}/"))

    app.select_option("#id_by", "person")

    expect(app.locator("#breakdown-waiting")).to_be_visible()
    expect(app.locator("#breakdown").get_by_role("alert")).to_have_count(0)
    app.fill("#breakdown input[name=property]", "plan")
    app.locator("#breakdown").get_by_role("button", name="Show").click()
    expect(app.locator("#breakdown h3")).to_have_text("Person property “plan”")


def test_a_browser_segment_explains_members_latest_sessions(app, send):
    send([event("$pageview", "ann", session_id="s1")])
    definition = {
        "match": "all",
        "conditions": [{"type": "device", "property": "browser", "operator": "eq", "value": "Chrome"}],
    }
    segment = segment_create(project=app.project, name="Chrome users", definition=definition)
    segment_compute(segment=segment)
    app.goto(path(app, f"segments/{segment.pk}/?by=browser"))
    expect(app.locator("#breakdown h3")).to_have_text("Browser of each member's latest session")
    expect(app.locator("#breakdown-defined-by")).to_contain_text("whose browser is Chrome")


def test_pickers_are_searchable_and_funnel_filters_are_rows(app, send):
    names = [f"step_{n:02d}" for n in range(12)]
    send([event(name, "ann", session_id="s1") for name in names] + [event("signup", "ann", session_id="s1")])
    for n in range(10):
        segment_create(project=app.project, name=f"Cohort {n:02d}", definition=PRO)
    app.goto(path(app, "analysis/funnels/"))

    search = app.get_by_role("combobox", name="Step 2", exact=True)
    expect(search).to_have_attribute("list", "id_step_2-choices")
    search.fill("sign")
    search.press("Enter")
    assert app.locator("#id_step_2").input_value() == "e:signup"
    expect(search).to_have_value("signup")

    # the segments checklist filters as one types, keeping ticked ones
    checklist = app.locator("fieldset.segment-picker")
    checklist.get_by_label("Cohort 03").check()
    checklist.get_by_role("searchbox").fill("07")
    expect(checklist.get_by_label("Cohort 07")).to_be_visible()
    expect(checklist.get_by_label("Cohort 05")).to_be_hidden()
    expect(checklist.get_by_label("Cohort 03")).to_be_visible()

    # a step's filters are rows, not JSON
    app.get_by_text("property filters").first.click()
    app.get_by_label("Step 1 filter 1 property").fill("plan")
    app.get_by_label("Step 1 filter 1 comparison").select_option("is_not_set")
    app.get_by_role("button", name="Show").click()
    expect(app.get_by_label("Step 1 filter 1 property")).to_have_value("plan")
    expect(app.get_by_label("Step 1 filter 2 property")).to_have_value("")
    assert "step_0_property=plan" in app.url


def test_revoking_a_key_and_ending_a_live_nudge_ask_first(app, alice):
    key = api_key_create(user=alice, label="CI").key
    app.goto(path(app, "settings/api-keys/"))
    app.get_by_role("button", name="Revoke").click()

    expect(app.get_by_role("heading", name="Revoke the key “CI”?")).to_be_visible()
    assert PersonalApiKey.objects.get(pk=key.pk).revoked_at is None
    app.get_by_role("button", name="Revoke key").click()
    expect(app.get_by_text("Key “CI” revoked.")).to_be_visible()
    assert PersonalApiKey.objects.get(pk=key.pk).revoked_at is not None

    nudge = nudge_save(project=app.project, data={"name": "Upgrade", "title": "Go pro", "status": "live"})
    app.goto(path(app, f"interventions/nudges/{nudge.pk}/"))
    app.get_by_role("button", name="End", exact=True).click()
    expect(app.get_by_role("heading", name="End the nudge “Upgrade”?")).to_be_visible()
    app.get_by_role("link", name="Cancel").click()
    assert Nudge.objects.get(pk=nudge.pk).status == "live"
    app.get_by_role("button", name="End", exact=True).click()
    app.get_by_role("button", name="End nudge").click()
    expect(app.get_by_text("has ended").first).to_be_visible()
    assert Nudge.objects.get(pk=nudge.pk).status == "ended"


def test_a_new_flag_starts_enabled_and_its_code_copies(app, context, site):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    app.goto(path(app, "interventions/flags/new/"))
    expect(app.get_by_label("Enabled")).to_be_checked()
    copy = app.locator('button.copy[data-copy-target="flag-code-page"]')
    copy.click()
    expect(copy).to_have_text("Copied")
    assert 'sightline.isFeatureEnabled("your-flag")' in app.evaluate("() => navigator.clipboard.readText()")


def test_new_project_is_in_plain_sight_and_its_page_keeps_the_sidebar(app):
    app.goto(path(app, "overview/"))
    app.locator(".sidebar").get_by_role("link", name="+ New project").click()
    expect(app.get_by_role("heading", name="New project")).to_be_visible()
    expect(app.locator(".sidebar").get_by_role("link", name="Segments")).to_be_visible()


def test_a_saved_funnel_opens_under_the_funnels_tab(app):
    saved = saved_analysis_create(
        project=app.project,
        name="Signup funnel",
        kind="funnel",
        params={"steps": [{"name": "a"}, {"name": "b"}]},
    )
    app.goto(path(app, f"analysis/saved/{saved.pk}/"))
    tabs = app.get_by_role("navigation", name="Analysis")
    expect(tabs.locator("[aria-current=page]")).to_have_text("Funnels")


def test_watching_dropped_people_says_why_there_are_few_recordings(app, send):
    send([event("$pageview", who, session_id=f"s-{who}") for who in ("ann", "ben")])
    ids = ",".join(str(e.person_id) for e in Event.objects.filter(project=app.project))
    app.goto(path(app, f"replay/?persons={ids}"))
    coverage = app.locator("#recording-coverage")
    expect(coverage).to_contain_text("0 of 2 people have a recording")
    expect(coverage).to_contain_text("Recording is off for this project")
