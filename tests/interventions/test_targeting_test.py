"""Testing a nudge's or survey's targeting: who would see it now (with the reasons), and preview links."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing

from interventions import services
from interventions.decide import decide_answer
from interventions.eligibility import eligibility
from interventions.models import Exposure
from interventions.preview import preview_entry, preview_link, preview_token
from interventions.targeting import forget, held_out
from segments.services import segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


@pytest.fixture
def pro(project, send, on_commit):
    send(
        [
            event("$identify", "ann", **{"$set": {"plan": "pro"}}),
            event("$identify", "bob", **{"$set": {"plan": "free"}}),
        ]
    )
    with on_commit():
        return segment_create(project=project, name="Pro", definition=PRO)


def nudge(project, **data):
    defaults = {
        "name": "Upgrade",
        "title": "Go pro",
        "status": "live",
        "frequency_days": 7,
        "max_impressions": 0,
    }
    return services.nudge_save(project=project, data={**defaults, **data})


def decided(project, distinct_id: str, **payload) -> dict:
    forget(project.pk)
    return decide_answer(project, distinct_id, payload=payload)


def texts(result) -> list[str]:
    return [r.text for r in result.reasons]


def test_a_member_of_the_segment_would_see_it_and_decide_agrees(project, pro):
    n = nudge(project, segments=[pro.pk])
    result = eligibility(project=project, kind="nudge", obj=n, distinct_id="ann")
    assert result.known and result.sees and not result.blocking
    assert "They are in “Pro”." in texts(result) and result.pages == "on every page"
    assert [item["id"] for item in decided(project, "ann")["nudges"]] == [n.pk]


def test_someone_outside_the_segment_would_not_and_decide_agrees(project, pro):
    n = nudge(project, segments=[pro.pk])
    result = eligibility(project=project, kind="nudge", obj=n, distinct_id="bob")
    assert not result.sees
    assert [r.text for r in result.blocking] == ["They are in none of its segments (“Pro”)."]
    assert decided(project, "bob")["nudges"] == []


def test_an_unknown_distinct_id_is_said_to_be_unknown(project, pro):
    everyone = nudge(project)
    result = eligibility(project=project, kind="nudge", obj=everyone, distinct_id="nobody-yet")
    assert not result.known and result.sees
    assert texts(result)[0].startswith("Nobody with this distinct id has been seen in this project")


def test_a_draft_is_seen_by_nobody(project, pro):
    draft = nudge(project, status="draft", segments=[pro.pk])
    result = eligibility(project=project, kind="nudge", obj=draft, distinct_id="ann")
    assert not result.sees and "It is draft: nobody sees it until it is live." in texts(result)


def test_a_held_out_person_is_told_so(project, pro):
    n = nudge(project, holdout_percent=50)
    kept_out = next(f"v{i}" for i in itertools.count() if held_out("nudge", n.pk, f"v{i}", 50))
    shown = next(f"v{i}" for i in itertools.count() if not held_out("nudge", n.pk, f"v{i}", 50))
    result = eligibility(project=project, kind="nudge", obj=n, distinct_id=kept_out)
    assert result.held_out and not result.sees
    assert any(text.startswith("They are in the holdout (50%") for text in texts(result))
    assert decided(project, kept_out)["nudges"][0]["held_out"] is True
    other = eligibility(project=project, kind="nudge", obj=n, distinct_id=shown)
    assert other.sees and "They are not in the holdout (50%)." in texts(other)


def test_frequency_and_an_earlier_click_are_reasons(project, pro, send, on_commit):
    n = nudge(project, frequency_days=7, stop_after_click=True)
    with on_commit():
        send([event("$nudge_shown", "ann", **{"$nudge_id": n.pk})])
    result = eligibility(project=project, kind="nudge", obj=n, distinct_id="ann")
    assert not result.sees
    assert any(t.startswith("They saw it on ") and "it shows again after" in t for t in texts(result))
    assert decided(project, "ann")["nudges"] == []
    Exposure.objects.filter(object_id=n.pk).update(last_shown_at=datetime.now(UTC) - timedelta(days=30))
    with on_commit():
        send([event("$nudge_clicked", "ann", **{"$nudge_id": n.pk})])
    result = eligibility(project=project, kind="nudge", obj=n, distinct_id="ann")
    assert not result.sees and any(t.startswith("They already clicked it") for t in texts(result))


def test_a_survey_already_answered_is_not_asked_again(project, pro, send, on_commit):
    survey = services.survey_save(project=project, data={"name": "NPS", "key": "nps", "status": "live",
                                                         "questions": [{"key": "q", "type": "open", "prompt": "Why?"}]})  # fmt: skip
    assert eligibility(project=project, kind="survey", obj=survey, distinct_id="ann").sees
    with on_commit():
        send(
            [
                event(
                    "$survey_response",
                    "ann",
                    **{"$survey_id": survey.pk, "$survey": "nps", "$answers": {"q": "ok"}},
                )
            ]
        )
    result = eligibility(project=project, kind="survey", obj=survey, distinct_id="ann")
    assert not result.sees and any(t.startswith("They already answered it") for t in texts(result))
    assert decided(project, "ann")["surveys"] == []


# -- preview links ----------------------------------------------------------------------------------


def test_a_preview_token_shows_the_nudge_to_anyone_marked_as_a_preview(project, pro):
    draft = nudge(project, status="draft", segments=[pro.pk], url="/pricing")
    token = preview_token(kind="nudge", obj=draft)
    assert decided(project, "bob")["nudges"] == []
    [entry] = decided(project, "bob", preview=token)["nudges"]
    assert entry["id"] == draft.pk and entry["preview"] is True and entry["url"] == ""
    assert "segments" not in entry and "holdout" not in entry
    assert not Exposure.objects.filter(object_id=draft.pk).exists()


def test_a_preview_token_works_only_in_its_project_and_unaltered(project, other_project, pro):
    n = nudge(project)
    token = preview_token(kind="nudge", obj=n)
    assert preview_entry(project_id=project.pk, token=token) is not None
    assert preview_entry(project_id=other_project.pk, token=token) is None
    assert preview_entry(project_id=project.pk, token=token[:-2] + "xx") is None
    assert preview_entry(project_id=project.pk, token=12) is None
    forged = signing.dumps({"p": project.pk, "k": "nudge", "i": n.pk}, salt="another purpose")
    assert preview_entry(project_id=project.pk, token=forged) is None


def test_a_preview_token_expires(project, pro, monkeypatch):
    n = nudge(project)
    token = preview_token(kind="nudge", obj=n)
    later = datetime.now(UTC).timestamp() + 25 * 3600
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert preview_entry(project_id=project.pk, token=token) is None


def test_a_preview_link_keeps_the_pages_own_query():
    link = preview_link(page_url="https://shop.test/cart?step=2&sl_preview=old", token="abc:def")
    assert link == "https://shop.test/cart?step=2&sl_preview=abc%3Adef"


# -- the page --------------------------------------------------------------------------------------


def test_the_nudge_page_offers_the_test_and_answers_it(alice_client, project, pro):
    n = nudge(project, segments=[pro.pk])
    page = f"/p/{project.pk}/interventions/nudges/{n.pk}/"
    assert 'id="targeting"' in alice_client.get(page).content.decode()
    test = f"{page}test/"
    fragment = alice_client.get(
        f"{test}?distinct_id=bob", **HTMX, HTTP_HX_TARGET="targeting-test"
    ).content.decode()
    assert fragment.lstrip().startswith('<div id="targeting-test"') and "<html" not in fragment
    assert "would not see it" in fragment and "They are in none of its segments (“Pro”)." in fragment
    full = alice_client.get(f"{test}?distinct_id=ann").content.decode()
    assert "<html" in full and "would see it" in full
    empty = alice_client.get(
        f"{test}?distinct_id=+", **HTMX, HTTP_HX_TARGET="targeting-test"
    ).content.decode()
    assert "Distinct id:" in empty and "would" not in empty


def test_the_survey_page_makes_a_preview_link(alice_client, project, pro):
    survey = services.survey_save(project=project, data={"name": "NPS", "key": "nps",
                                                         "questions": [{"key": "q", "type": "open", "prompt": "Why?"}]})  # fmt: skip
    test = f"/p/{project.pk}/interventions/surveys/{survey.pk}/test/"
    fragment = alice_client.get(
        f"{test}?page_url=https://shop.test/", **HTMX, HTTP_HX_TARGET="targeting-preview"
    )
    body = fragment.content.decode()
    assert fragment.status_code == 200 and body.lstrip().startswith('<div id="targeting-preview"')
    link = body.split('id="preview-link"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert link.startswith("https://shop.test/?sl_preview=")
    token = link.split("sl_preview=")[1].replace("%3A", ":")
    assert preview_entry(project_id=project.pk, token=token)[0] == "survey"
    bad = alice_client.get(f"{test}?page_url=javascript:alert(1)", **HTMX, HTTP_HX_TARGET="targeting-preview")
    assert "Page to preview on:" in bad.content.decode() and "sl_preview" not in bad.content.decode()


def test_another_projects_member_gets_404(bob_client, project, pro):
    n = nudge(project)
    assert (
        bob_client.get(f"/p/{project.pk}/interventions/nudges/{n.pk}/test/?distinct_id=ann").status_code
        == 404
    )
