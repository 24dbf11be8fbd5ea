"""The survey pages: the form and its questions editor (htmx and without JavaScript), and the answers page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from interventions import services
from interventions.models import Survey
from segments.services import segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}
QUESTIONS = [
    {"key": "nps", "type": "rating", "prompt": "How likely are you to recommend us?", "scale": 10},
    {
        "key": "use",
        "type": "multiple",
        "prompt": "What do you use?",
        "choices": ["Boards", "Time tracking", "Reports"],
    },
    {"key": "role", "type": "single", "prompt": "Your role?", "choices": ["Engineer", "Manager"]},
    {"key": "stars", "type": "rating", "prompt": "Rate the app", "scale": 5},
    {"key": "why", "type": "open", "prompt": "Why?"},
]


def url(project, rest: str = "") -> str:
    return f"/p/{project.pk}/interventions/{rest}"


def rows(questions: list[dict]) -> dict:
    data = {"q-count": str(len(questions))}
    for i, q in enumerate(questions):
        data.update({f"q{i}-key": q.get("key", ""), f"q{i}-type": q["type"], f"q{i}-prompt": q.get("prompt", ""),
                     f"q{i}-choices": "\n".join(q.get("choices", [])), f"q{i}-scale": str(q.get("scale", 10))})  # fmt: skip
    return data


def form_data(questions: list[dict] | None = None, **overrides) -> dict:
    data = {
        "name": "Product survey", "key": "product", "intro": "Two minutes.", "thank_you": "Thanks!",
        "url_matching": "contains", "url": "", "starts_at": "", "ends_at": "", "holdout_percent": "0",
        "goal_source": "none", "goal_event": "", "goal_action": "", "goal_days": "7", "op": "save",
        **rows(QUESTIONS[:2] if questions is None else questions),
    }  # fmt: skip
    data.update(overrides)
    return data


def test_the_list_explains_surveys_when_there_are_none(alice_client, project):
    body = alice_client.get(url(project, "surveys/")).content.decode()
    assert "No surveys yet" in body and "segment conditions" in body


def test_a_survey_is_created_from_the_question_rows(alice_client, project):
    questions = [{"key": "", "type": "single", "prompt": "What almost stopped you?", "choices": ["Price", "Setup"]},
                 {"key": "nps", "type": "rating", "prompt": "Recommend us?", "scale": 5}]  # fmt: skip
    response = alice_client.post(url(project, "surveys/new/"), form_data(questions, op="save_live"))
    survey = Survey.objects.get()
    assert response.status_code == 302 and response["Location"] == url(project, f"surveys/{survey.pk}/")
    assert survey.questions == [
        {
            "key": "what_almost_stopped_you",
            "type": "single",
            "prompt": "What almost stopped you?",
            "choices": ["Price", "Setup"],
        },
        {"key": "nps", "type": "rating", "prompt": "Recommend us?", "scale": 5},
    ]
    assert survey.status == "live" and survey.live_since is not None and survey.key == "product"


def test_question_errors_name_the_question_and_the_field(alice_client, project):
    bad = [
        {"key": "a", "type": "single", "prompt": "Pick", "choices": ["only one"]},
        {"key": "b", "type": "rating", "prompt": ""},
    ]
    body = alice_client.post(url(project, "surveys/new/"), form_data(bad)).content.decode()
    assert "Question 1 choices: At least two choices." in body
    assert not Survey.objects.exists()
    body = alice_client.post(url(project, "surveys/new/"), form_data(bad[1:])).content.decode()
    assert "Question 1 text: The question&#x27;s text is required." in body
    body = alice_client.post(url(project, "surveys/new/"), form_data([], key="Bad Key")).content.decode()
    assert "Key: A lowercase key (letters, digits, - and _), used in segment definitions." in body


def test_a_survey_key_is_unique_in_the_project(alice_client, project):
    services.survey_save(project=project, data={"name": "s", "key": "product", "questions": QUESTIONS[:1]})
    body = alice_client.post(url(project, "surveys/new/"), form_data()).content.decode()
    assert "Key: Another survey already uses the key &#x27;product&#x27;." in body
    assert Survey.objects.count() == 1


def test_adding_a_question_with_htmx_swaps_the_editor(alice_client, project):
    response = alice_client.post(
        url(project, "surveys/new/"), form_data(op="add"), **HTMX, HTTP_HX_TARGET="questions"
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section class="card" id="questions">')
    assert 'name="q-count" value="3"' in body and 'id="q2-type"' in body
    assert 'value="How likely are you to recommend us?"' in body  # the rows typed so far are kept
    assert not Survey.objects.exists()


def test_adding_a_question_without_javascript_returns_the_page(alice_client, project):
    response = alice_client.post(url(project, "surveys/new/"), form_data(op="add"))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body and 'name="q-count" value="3"' in body
    assert not Survey.objects.exists()


def test_questions_move_and_are_removed(alice_client, project):
    body = alice_client.post(
        url(project, "surveys/new/"), form_data(op="down:0"), **HTMX, HTTP_HX_TARGET="questions"
    ).content.decode()
    assert body.index("What do you use?") < body.index("How likely are you to recommend us?")
    body = alice_client.post(url(project, "surveys/new/"), form_data(op="remove:0")).content.decode()
    assert (
        'name="q-count" value="1"' in body
        and "How likely are you" not in body.split('id="questions"')[1].split("</section>")[0]
    )


def test_the_json_textarea_replaces_the_rows(alice_client, project):
    new = [{"key": "mood", "type": "single", "prompt": "Mood?", "choices": ["good", "bad"]}]
    data = form_data(op="apply_json", questions_json=json.dumps(new))
    fragment = alice_client.post(
        url(project, "surveys/new/"), data, **HTMX, HTTP_HX_TARGET="questions"
    ).content.decode()
    assert 'name="q-count" value="1"' in fragment and 'value="Mood?"' in fragment
    broken = alice_client.post(
        url(project, "surveys/new/"), form_data(op="apply_json", questions_json="[{")
    ).content.decode()
    assert "Questions as JSON: not valid JSON" in broken and "<html" in broken


def test_saving_without_javascript_uses_json_edited_in_the_textarea(alice_client, project):
    """Without JavaScript someone may edit the JSON and press Save: the JSON wins over the untouched rows."""
    new = [{"key": "mood", "type": "open", "prompt": "How do you feel?"}]
    page = alice_client.get(url(project, "surveys/new/")).content.decode()
    shown = re.search(r'name="questions_json_shown" value="([^"]*)"', page).group(1)
    data = form_data(questions_json=json.dumps(new), questions_json_shown=shown.replace("&quot;", '"'))
    alice_client.post(url(project, "surveys/new/"), data)
    assert Survey.objects.get().questions == new


@pytest.fixture
def answered(project, send, on_commit):
    """A survey and the answers of six people (ann answers twice: her latest answer counts)."""
    survey = services.survey_save(
        project=project, data={"name": "Product", "key": "product", "questions": QUESTIONS}
    )
    t0 = datetime.now(UTC) - timedelta(hours=3)

    def response(distinct_id: str, answers: dict, minutes: int = 0, by_key: bool = False) -> dict:
        ident = {"$survey": "product"} if by_key else {"$survey": "product", "$survey_id": survey.pk}
        return event(
            "$survey_response",
            distinct_id,
            timestamp=(t0 + timedelta(minutes=minutes)).isoformat(),
            **ident,
            **{"$answers": answers},
        )

    batch = [event("$identify", who, **{"$set": {"plan": plan}}) for who, plan in
             [("ann", "pro"), ("bea", "pro"), ("cy", "free"), ("dan", "free"), ("eve", "free"), ("fay", "pro")]]  # fmt: skip
    batch += [
        response("ann", {"nps": 3, "use": ["Boards"], "why": "slow"}, 0),
        response(
            "ann", {"nps": 10, "use": ["Boards", "Reports"], "role": "Manager", "why": "much faster now"}, 30
        ),
        response("bea", {"nps": 9, "use": ["Boards"], "role": "Engineer", "stars": 4}, 5),
        response(
            "cy", {"nps": 6, "use": ["Time tracking"], "role": "Engineer", "stars": 2, "why": "pricey"}, 6
        ),
        response("dan", {"nps": 7, "role": "Engineer", "stars": 5}, 7, by_key=True),
        response("eve", {"nps": "0", "role": "Intern"}, 8),
        response("fay", {"use": [], "why": ""}, 9),
        event("$survey_response", "gus", **{"$survey": "another", "$answers": {"nps": 10}}),  # another survey
    ]
    with on_commit():
        assert send(batch).json()["accepted"] == len(batch)
        pro = segment_create(project=project, name="Pro", definition=PRO)
    return survey, pro


def _question(body: str, key: str) -> str:
    return body.split(f'id="question-{key}"')[1].split("</section>")[0]


def _row(answer: str, people: int, share: int) -> str:
    return f'<tr><td>{answer}</td><td class="num">{people}</td><td class="num">{share}%</td>'


def test_the_answers_page_shows_each_questions_distribution(events_backend, alice_client, project, answered):
    survey, _ = answered
    body = alice_client.get(url(project, f"surveys/{survey.pk}/results/")).content.decode()
    assert '<div class="stat">7</div><div class="stat-label">responses</div>' in body
    assert '<div class="stat">6</div><div class="stat-label">people answered</div>' in body
    nps = _question(body, "nps")
    # latest answers: ann 10, bea 9, cy 6, dan 7, eve 0 -> 2 promoters, 1 passive, 2 detractors of 5
    assert "5 answered" in nps
    assert '<div class="stat">0</div><div class="stat-label">NPS' in nps
    assert '<div class="stat">2</div><div class="stat-label">promoters (9' in nps
    assert '<div class="stat">2</div><div class="stat-label">detractors (0' in nps
    assert _row("10", 1, 20) in nps and _row("3", 0, 0) in nps and _row("0", 1, 20) in nps
    assert nps.count('<rect class="bar"') == 11  # 0 to 10
    use = _question(
        body, "use"
    )  # multiple choice: ann (Boards, Reports), bea (Boards), cy (Time tracking), fay (none)
    assert (
        "4 answered" in use
        and _row("Boards", 2, 50) in use
        and _row("Reports", 1, 25) in use
        and _row("Time tracking", 1, 25) in use
    )
    role = _question(body, "role")  # an answer outside the choices is shown after them
    assert (
        role.index(_row("Engineer", 3, 60))
        < role.index(_row("Manager", 1, 20))
        < role.index(_row("Intern", 1, 20))
    )
    stars = _question(body, "stars")
    assert '<span class="stat">3.7</span>' in stars and _row("5", 1, 33) in stars
    why = _question(body, "why")
    assert (
        "much faster now" in why and "pricey" in why and "slow" not in why
    )  # ann's earlier answer was replaced


def test_the_answers_split_by_a_segment(alice_client, project, answered):
    survey, pro = answered
    page = url(project, f"surveys/{survey.pk}/results/?segment={pro.pk}")
    body = alice_client.get(page).content.decode()
    nps = _question(body, "nps")
    # members (ann 10, bea 9): NPS 100; others (cy 6, dan 7, eve 0): 2 detractors of 3 -> -67
    assert "(2 members, 3 others)" in nps
    assert (
        '<tfoot><tr><th>NPS</th><td></td><td class="num">0</td><td class="num">100</td><td class="num">-67</td></tr></tfoot>'
        in nps
    )
    assert (
        '<td class="num">1 <span class="muted">(50%)</span></td><td class="num">0 <span class="muted">(0%)</span></td>'
        in nps
    )
    why = _question(body, "why")
    assert why.index("much faster now") < why.index('<span class="badge accent">member</span>')


def test_the_answers_fragment_is_paired_with_the_page(alice_client, project, answered):
    survey, pro = answered
    page = url(project, f"surveys/{survey.pk}/results/?segment={pro.pk}")
    fragment = alice_client.get(page, **HTMX, HTTP_HX_TARGET="answers").content.decode()
    assert (
        fragment.lstrip().startswith('<div id="answers">')
        and "<html" not in fragment
        and "(2 members, 3 others)" in fragment
    )
    assert "Did it move the goal?" not in fragment
    full = alice_client.get(page).content.decode()
    assert "<html" in full and "(2 members, 3 others)" in full and "Did it move the goal?" in full


def test_a_segment_of_another_project_cannot_split_the_answers(
    alice_client, project, other_project, answered
):
    survey, _ = answered
    theirs = segment_create(project=other_project, name="Theirs", definition=PRO)
    assert (
        alice_client.get(url(project, f"surveys/{survey.pk}/results/?segment={theirs.pk}")).status_code == 404
    )
    assert alice_client.get(url(project, f"surveys/{survey.pk}/results/?segment=x")).status_code == 404


def test_the_surveys_measurement_fragment_is_paired_with_the_page(alice_client, project, answered):
    survey, _ = answered
    page = url(project, f"surveys/{survey.pk}/results/?goal_source=event&goal_event=upgraded&goal_days=3")
    fragment = alice_client.get(page, **HTMX, HTTP_HX_TARGET="measurement").content.decode()
    assert fragment.lstrip().startswith('<section class="card measurement" id="measurement">')
    assert "did upgraded within 3 days of first exposure" in fragment and 'id="answers"' not in fragment
    full = alice_client.get(page).content.decode()
    assert (
        "<html" in full and 'id="answers"' in full and "did upgraded within 3 days of first exposure" in full
    )


def test_an_untouched_json_textarea_leaves_the_rows_in_charge(alice_client, project):
    """Browsers send a textarea with CRLF line endings: that is no edit, so the edited rows are saved."""
    page = alice_client.get(url(project, "surveys/new/")).content.decode()
    shown = re.search(r'name="questions_json_shown" value="([^"]*)"', page).group(1).replace("&quot;", '"')
    rows_now = [{"key": "nps", "type": "rating", "prompt": "Would you recommend us?", "scale": 10}]
    alice_client.post(
        url(project, "surveys/new/"),
        form_data(rows_now, questions_json=shown.replace("\n", "\r\n"), questions_json_shown=shown),
    )
    assert Survey.objects.get().questions == rows_now
