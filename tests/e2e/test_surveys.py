"""Surveys in the browser: answered in a widget on the demo site, stored as `$survey_response`,
and usable in segment definitions right after a refresh."""

from __future__ import annotations

import itertools
import json
import time

import pytest
from playwright.sync_api import expect

from demo.services import demo_ensure
from interventions.models import Exposure
from interventions.services import survey_save
from interventions.targeting import held_out
from segments.models import SegmentMembership
from segments.refresh import refresh_project
from segments.services import segment_compute, segment_create
from tests.bundles import bundles_build
from tracking.models import Event

pytestmark = pytest.mark.e2e

QUESTIONS = [
    {
        "key": "score",
        "type": "rating",
        "scale": 10,
        "prompt": "How likely are you to recommend Tasklane to a colleague?",
    },
    {
        "key": "used",
        "type": "multiple",
        "prompt": "What do you use most?",
        "choices": ["Boards", "Timeline", "Reports"],
    },
    {
        "key": "team",
        "type": "single",
        "prompt": "Which team are you on?",
        "choices": ["Engineering", "Design", "Sales"],
    },
    {"key": "improve", "type": "open", "prompt": "What should we improve?"},
    {"key": "setup", "type": "rating", "scale": 5, "prompt": "How easy was the setup?"},
]


@pytest.fixture(autouse=True)
def engage_bundle(browser):
    bundles_build()


@pytest.fixture
def demo_project(site):
    return demo_ensure().project


def live_survey(project, **data):
    defaults = {
        "name": "Quarterly NPS", "key": "nps", "intro": "Two minutes, five questions.", "questions": QUESTIONS,
        "thank_you": "Thanks, that helps!", "status": "live",
    }  # fmt: skip
    return survey_save(project=project, data={**defaults, **data})


def recorded(page, name: str, count: int = 1, *, timeout: float = 5.0) -> list[Event]:
    """Stored events named `name` once there are `count`, flushing the page's queue while waiting."""
    deadline = time.monotonic() + timeout
    while True:
        page.evaluate("() => window.sightline && window.sightline.flush()")
        events = list(Event.objects.filter(name=name).order_by("timestamp", "id"))
        if len(events) >= count or time.monotonic() > deadline:
            return events
        page.wait_for_timeout(100)


def test_an_answered_survey_is_stored_and_puts_the_person_in_a_segment_on_its_answers(page, demo_project):
    survey = live_survey(demo_project)
    promoters = segment_create(
        project=demo_project,
        name="Promoters",
        definition={
            "match": "all",
            "conditions": [
                {"type": "survey", "survey": "nps", "question": "score", "operator": "gte", "value": 9}
            ],
        },
    )
    segment_compute(segment=promoters)

    page.goto("/demo/")
    widget = page.get_by_role("region", name="Survey")
    expect(widget).to_be_visible()
    assert page.evaluate(
        "() => !document.querySelector('fieldset') && !!document.querySelector('[data-sl-engage]').shadowRoot.querySelector('fieldset')"
    )
    expect(widget.get_by_text("Two minutes, five questions.")).to_be_visible()
    # The 0-10 scale by keyboard: focus a choice, pick it, Tab to "Next", press Enter.
    scale = widget.get_by_role("group", name="How likely are you to recommend Tasklane to a colleague?")
    expect(scale.get_by_role("radio")).to_have_count(11)
    scale.get_by_role("radio", name="8", exact=True).focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    widget.get_by_role("checkbox", name="Boards").check()
    widget.get_by_role("checkbox", name="Reports").check()
    widget.get_by_role("button", name="Next").click()
    expect(widget.get_by_role("radio", name="Design")).to_be_visible()
    widget.get_by_role("button", name="Next").click()  # "Which team are you on?" left unanswered
    widget.get_by_role("textbox", name="What should we improve?").fill("Faster timeline exports")
    widget.get_by_role("button", name="Next").click()
    widget.locator("label", has_text="4 of 5").click()  # the star, as a visitor clicks it
    expect(widget.get_by_role("radio", name="4 of 5")).to_be_checked()
    widget.get_by_role("button", name="Submit").click()

    expect(widget.get_by_role("status")).to_have_text("Thanks, that helps!")
    [response] = recorded(page, "$survey_response")
    assert response.properties["$survey"] == "nps"
    assert response.properties["$survey_id"] == survey.pk
    assert response.properties["$answers"] == {
        "score": 9,
        "used": ["Boards", "Reports"],
        "improve": "Faster timeline exports",
        "setup": 4,
    }
    [shown] = recorded(page, "$survey_shown")
    assert shown.properties["$survey"] == "nps"
    exposure = Exposure.objects.get(kind="survey", object_id=survey.pk, person_id=response.person_id)
    assert exposure.answered_at is not None and exposure.times_shown == 1
    # The widget lives in a shadow root marked no-capture: none of it reached autocapture.
    events = list(Event.objects.all())
    assert not [e for e in events if e.name in ("$autocapture", "$rageclick", "$dead_click")]
    leaked = [
        e.name for e in events if "Faster timeline" in json.dumps(e.properties) + (e.elements_chain or "")
    ]
    assert leaked == ["$survey_response"]

    refresh_project(demo_project.pk)

    assert SegmentMembership.objects.filter(
        segment=promoters, person_id=response.person_id, exited_at=None
    ).exists()


def test_closing_the_survey_records_a_dismissal(page, demo_project):
    survey = live_survey(demo_project, questions=QUESTIONS[:1])
    page.goto("/demo/")
    widget = page.get_by_role("region", name="Survey")
    expect(widget.get_by_role("button", name="Submit")).to_be_visible()

    widget.get_by_role("button", name="Close survey").click()

    expect(widget).to_have_count(0)
    [dismissed] = recorded(page, "$survey_dismissed")
    assert (dismissed.properties["$survey_id"], dismissed.properties["$survey"]) == (survey.pk, "nps")
    assert not Event.objects.filter(name="$survey_response").exists()
    exposure = Exposure.objects.get(kind="survey", object_id=survey.pk)
    assert exposure.dismissed_at is not None and exposure.answered_at is None


def test_a_survey_waits_for_its_page_in_a_single_page_app(page, demo_project):
    live_survey(demo_project, url="/demo/pricing/")
    page.goto("/demo/")
    page.wait_for_function("() => window.sightlineEngage")
    widget = page.get_by_role("region", name="Survey")
    assert widget.count() == 0

    page.evaluate("() => history.pushState({}, '', '/demo/pricing/')")

    expect(widget).to_be_visible()
    [shown] = recorded(page, "$survey_shown")
    assert shown.properties["$current_url"].endswith("/demo/pricing/")


def test_a_held_out_visitor_sees_no_survey_and_the_holdout_is_recorded(page, demo_project):
    survey = live_survey(demo_project, holdout_percent=90, url="/demo/pricing/")
    distinct_id = next(
        candidate
        for candidate in (f"visitor-{i}@holdout.test" for i in itertools.count())
        if held_out("survey", survey.pk, candidate, 90)
    )
    page.goto("/demo/")
    page.wait_for_function("() => window.sightline")
    # Signing in changes who is asking: the answer for the identified visitor replaces the anonymous one.
    with page.expect_response("**/i/v1/decide") as decided:
        page.evaluate("(id) => sightline.identify(id)", distinct_id)
    assert decided.value.json()["surveys"][0]["held_out"] is True

    page.evaluate("() => history.pushState({}, '', '/demo/pricing/')")

    [event] = recorded(page, "$survey_held_out")
    assert (event.properties["$survey_id"], event.properties["$survey"], event.distinct_id) == (
        survey.pk,
        "nps",
        distinct_id,
    )
    assert page.get_by_role("region", name="Survey").count() == 0
    assert not Event.objects.filter(name="$survey_shown").exists()
    exposure = Exposure.objects.get(kind="survey", object_id=survey.pk)
    assert exposure.held_out and exposure.times_shown == 0
