"""The segment builder: new and edit, structural edits with and without htmx, the live preview, suggestions."""

from __future__ import annotations

import json
from html import unescape
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.utils import timezone

from segments.compiler import compile_definition
from segments.definition import validate_definition
from segments.models import Segment
from segments.services import segment_create
from tests.ingest.conftest import event
from tracking.models import Action

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


class _Form(HTMLParser):
    """What a browser would submit from one form: named inputs, checked boxes, selected options, textareas."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.depth = 0
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.select_value: str | None = None
        self.first_option: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self.select, self.select_value, self.first_option = a["name"], None, None
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if self.first_option is None:
                self.first_option = value
            if "selected" in a:
                self.select_value = value
        elif tag == "textarea" and a.get("name"):
            self.textarea, self.text = a["name"], ""

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "select" and self.select:
            value = self.select_value if self.select_value is not None else self.first_option
            self.fields.append((self.select, value or ""))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, unescape(self.text)))
            self.textarea = None
        elif tag == "form":
            self.inside = False

    def handle_data(self, data):
        if self.textarea:
            self.text += data


def form_fields(html: str, form_id: str = "builder-form") -> dict[str, str]:
    parser = _Form(form_id)
    parser.feed(html)
    assert parser.fields, f"no form #{form_id}"
    return dict(parser.fields)


def count_of(project, definition: dict) -> int:
    query = compile_definition(
        validate_definition(definition, project_id=project.pk), project=project, now=timezone.now()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({query.sql}) q", query.params)
        return cursor.fetchone()[0]


@pytest.fixture
def urls(project):
    base = f"/p/{project.pk}/segments"
    return {"new": f"{base}/new/", "preview": f"{base}/preview/", "suggest": f"{base}/suggest/", "base": base}


@pytest.fixture
def people(send):
    batch = [
        event(
            "$identify", f"user-{i}", **{"$set": {"plan": "pro" if i % 2 else "free", "email": f"u{i}@x.io"}}
        )
        for i in range(6)
    ]
    batch += [
        event("created_project", "user-1", template="kanban"),
        event("created_project", "user-2", template="list"),
    ]
    response = send(batch)
    assert response.json()["accepted"] == len(batch)


# -- pages -------------------------------------------------------------------------------------


def test_the_new_segment_page_starts_with_one_condition_and_its_size(alice_client, urls, people):
    response = alice_client.get(urls["new"])
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="n-r_0-type"' in body and 'name="n-r_1-type"' not in body
    assert 'id="preview-count"' in body
    assert "Advanced: edit JSON" in body
    assert 'src="/static/segment_builder.js"' in body
    # Enter in a field presses the form's first submit button: it must preview, never remove
    form = body[body.index('<form id="builder-form"') :]
    first_submit = form.index('type="submit"')
    assert form[first_submit:].startswith('type="submit" name="op" value="preview"')


def test_a_starter_fills_in_the_builder(alice_client, urls):
    response = alice_client.get(urls["new"] + "?starter=slipping")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="Slipping away"' in body
    assert 'name="n-r_1-type"' in body  # two conditions


def test_saving_from_the_fields_creates_and_computes_the_segment(
    alice_client, urls, project, people, on_commit
):
    page = alice_client.get(urls["new"]).content.decode()
    data = form_fields(page)
    data.update({"name": "Kanban makers", "op": "save"})
    data.update({"n-r_0-ev_name": "created_project", "n-r_0-window_kind": "all"})
    data.update(
        {"n-r_0-ev_w0_property": "template", "n-r_0-ev_w0_operator": "eq", "n-r_0-ev_w0_value": "kanban"}
    )
    with on_commit():
        response = alice_client.post(urls["new"], data)
    segment = Segment.objects.get(name="Kanban makers")
    assert response.status_code == 302 and response["Location"] == f"{urls['base']}/{segment.pk}/"
    assert segment.definition["conditions"][0]["event"] == {
        "name": "created_project", "where": [{"property": "template", "operator": "eq", "value": "kanban"}],
    }  # fmt: skip
    assert "window" not in segment.definition["conditions"][0]
    assert segment.status == "ready" and segment.size == 1
    assert segment.created_by.email == "alice@acme.test"


def test_saving_an_invalid_definition_shows_the_path_in_words_and_keeps_the_form(alice_client, urls, project):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"name": "Almost", "description": "kept as typed", "op": "save", "n-r_0-count_value": "-2"})
    response = alice_client.post(urls["new"], data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Condition 1 · count" in body and "must be between 0 and 10000000" in body
    assert 'aria-invalid="true"' in body and 'id="f-r_0-count_value"' in body
    assert 'value="Almost"' in body and "kept as typed" in body
    assert 'value="-2"' in body
    assert not Segment.objects.exists()


def test_a_missing_name_is_named(alice_client, urls):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"name": "", "op": "save"})
    response = alice_client.post(urls["new"], data)
    assert response.status_code == 200
    assert "Name: This field is required." in response.content.decode()
    assert not Segment.objects.exists()


def test_an_edited_json_textarea_wins_over_the_fields(alice_client, urls, project, people, on_commit):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"name": "Pro via JSON", "op": "save", "definition_json": json.dumps(PRO)})
    with on_commit():
        response = alice_client.post(urls["new"], data)
    assert response.status_code == 302
    segment = Segment.objects.get(name="Pro via JSON")
    assert segment.definition == validate_definition(PRO, project_id=project.pk)
    assert segment.size == 3


def test_a_json_syntax_error_is_shown_with_its_line(alice_client, urls):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"name": "Broken", "op": "save", "definition_json": '{"match": "all",\n "conditions": [}'})
    response = alice_client.post(urls["new"], data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Advanced JSON" in body and "line 2, column" in body
    assert not Segment.objects.exists()


def test_every_condition_type_survives_a_round_trip_through_the_page(alice_client, urls, project, on_commit):
    """Render a definition with every condition type, submit the page as a browser would: same definition."""
    action = Action.objects.create(
        project=project, name="Created project", steps=[{"event": "created_project"}]
    )
    other = segment_create(project=project, name="Pro", definition=PRO)
    definition = {"match": "any", "negate": False, "conditions": [
        {"type": "person", "property": "plan", "operator": "in", "value": ["pro", "team"]},
        {"type": "company", "property": "seats", "operator": "gte", "value": 50},
        {"type": "device", "property": "os", "operator": "eq", "value": "iOS", "window": {"last_days": 14}},
        {"type": "geo", "property": "country", "operator": "not_in", "value": ["FR"], "window": {"from": "2026-01-01", "to": "2026-01-31"}},
        {"type": "behavior", "event": {"action": action.pk}, "count": {"operator": "gte", "value": 3}, "window": {"last_days": 30}},
        {"type": "active_days", "count": {"operator": "lt", "value": 2}, "window": {"last_days": 28}},
        {"type": "aggregate", "event": {"name": "purchase", "where": [{"property": "currency", "operator": "eq", "value": "EUR"}]},
         "property": "amount", "function": "avg", "operator": "gt", "value": 9.5},
        {"match": "all", "negate": True, "conditions": [
            {"type": "sequence", "steps": [{"name": "signed_up", "where": []}, {"action": action.pk}, {"name": "published", "where": []}],
             "within_days": 7, "last_step": "did_not"},
            {"type": "first_seen", "operator": "within_last_days", "value": 14},
            {"type": "last_seen", "operator": "before_last_days", "value": 30},
            {"type": "survey", "survey": "nps", "question": "score", "operator": "is_not_set", "value": None},
            {"type": "segment", "segment": other.pk, "negate": True},
            {"type": "person", "property": "age", "operator": "eq", "value": 42},
        ]},
        {"type": "sequence", "steps": [{"name": "viewed_cart", "where": []}, {"name": "purchase", "where": []}],
         "within_days": 14, "last_step": "did", "window": {"from": "2026-01-01", "to": "2026-01-31"},
         "window_covers": "first_step"},
        {"type": "first_time", "event": {"name": "purchase", "where": []}, "within_last_days": 7},
        {"type": "stopped", "event": {"action": action.pk}, "days": 14},
        {"type": "restarted", "event": {"name": "published", "where": []}, "days": 30},
        {"type": "session", "where": [
            {"property": "duration_seconds", "operator": "gt", "value": 300},
            {"property": "pageview_count", "operator": "gte", "value": 2.5},
            {"property": "utm_source", "operator": "in", "value": ["newsletter", "mail"]},
            {"property": "referrer_domain", "operator": "is_set", "value": None},
            {"property": "entry_path", "operator": "eq", "value": "42"}],
         "count": {"operator": "lt", "value": 3}, "window": {"last_days": 30}},
        {"type": "rank", "measure": {"event": {"name": "purchase", "where": [{"property": "currency", "operator": "eq", "value": "EUR"}]},
                                     "of": "sum", "property": "amount"},
         "top": {"percent": 12.5}, "direction": "bottom", "window": {"from": "2026-01-01", "to": "2026-01-31"}},
        {"type": "rank", "measure": {"event": {"action": action.pk}, "of": "active_days"}, "top": {"count": 100},
         "direction": "top"},
    ]}  # fmt: skip
    expected = validate_definition(definition, project_id=project.pk)
    segment = segment_create(project=project, name="Everything", definition=definition)
    edit = f"{urls['base']}/{segment.pk}/edit/"
    data = form_fields(alice_client.get(edit).content.decode())
    data["op"] = "save"
    response = alice_client.post(edit, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    segment.refresh_from_db()
    assert segment.definition == expected


# -- structural edits --------------------------------------------------------------------------------


def test_a_session_condition_is_built_and_saved_from_the_fields(alice_client, urls, project, send, on_commit):
    """Pick the type, add a filter, switch its fact, fill it in and save: the segment counts the right people."""
    visits = [
        ("reader", "s-r", "https://shop.test/blog?utm_source=newsletter&utm_medium=email", 0),
        ("reader", "s-r", "https://shop.test/pricing", 400),
        ("skimmer", "s-s", "https://shop.test/blog?utm_source=newsletter", 0),
        ("searcher", "s-g", "https://shop.test/?utm_source=google", 0),
        ("searcher", "s-g", "https://shop.test/pricing", 900),
    ]
    start = timezone.now() - timezone.timedelta(hours=2)
    batch = [
        event(distinct_id=who, session_id=key, timestamp=(start + timezone.timedelta(seconds=at)).isoformat(),
              **{"$current_url": url})
        for who, key, url, at in visits
    ]  # fmt: skip
    assert send(batch).status_code == 200
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-type": "session"})  # was_type stays behavior: the type just changed
    data = form_fields(alice_client.post(urls["new"], {**data, "op": "refresh"}).content.decode())
    assert data["n-r_0-w0_property"] == "duration_seconds" and data["n-r_0-w0_operator"] == "gt"
    data["op"] = "add_where:r_0:session"
    body = alice_client.post(urls["new"], data, **HTMX).content.decode()
    assert 'name="n-r_0-w1_property"' in body
    data = form_fields(alice_client.post(urls["new"], data).content.decode())
    assert data["n-r_0-w1_property"] == "utm_source"
    data.update({"n-r_0-w1_value": "newsletter", "name": "Newsletter readers", "op": "save"})
    with on_commit():
        response = alice_client.post(urls["new"], data)
    assert response.status_code == 302, response.content.decode()[:3000]
    segment = Segment.objects.get(name="Newsletter readers")
    assert segment.definition["conditions"][0] == {
        "type": "session",
        "where": [
            {"property": "duration_seconds", "operator": "gt", "value": 300},
            {"property": "utm_source", "operator": "eq", "value": "newsletter"},
        ],
        "count": {"operator": "gte", "value": 1},
        "window": {"last_days": 30},
    }
    assert segment.status == "ready" and segment.size == 1  # the reader: 400 s from the newsletter
    page = alice_client.get(f"{urls['base']}/{segment.pk}/").content.decode()
    assert "had a session started in the last 30 days where duration (seconds) is greater than 300" in page


def test_a_rank_is_built_and_saved_from_the_fields(alice_client, urls, project, send, on_commit):
    """Pick "Top or bottom people", rank by a sum, name the property, save: the top spender is the member."""
    batch = [event("purchase", "big", amount=120), event("purchase", "small", amount=5),
             event("purchase", "small", amount=6), event("signed_up", "idle")]  # fmt: skip
    assert send(batch).status_code == 200
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-type": "rank"})  # was_type stays behavior: the type just changed
    data = form_fields(alice_client.post(urls["new"], {**data, "op": "refresh"}).content.decode())
    # the behaviour's event carried over into the measure; a rank starts as the top 10% by count
    assert (data["n-r_0-ev_name"], data["n-r_0-measure_of"]) == ("$pageview", "count")
    assert (data["n-r_0-direction"], data["n-r_0-top_value"], data["n-r_0-top_kind"]) == (
        "top",
        "10",
        "percent",
    )
    data.update({"n-r_0-measure_of": "sum", "op": "refresh"})
    body = alice_client.post(urls["new"], data, **HTMX).content.decode()
    assert 'name="n-r_0-measure_property"' in body
    data = form_fields(alice_client.post(urls["new"], data).content.decode())
    data.update({"n-r_0-ev_name": "purchase", "n-r_0-measure_property": "amount", "n-r_0-top_value": "1",
                 "n-r_0-top_kind": "count", "name": "Top spender", "op": "save"})  # fmt: skip
    with on_commit():
        response = alice_client.post(urls["new"], data)
    assert response.status_code == 302, response.content.decode()[:3000]
    segment = Segment.objects.get(name="Top spender")
    assert segment.definition["conditions"][0] == {
        "type": "rank",
        "measure": {"event": {"name": "purchase", "where": []}, "of": "sum", "property": "amount"},
        "top": {"count": 1},
        "direction": "top",
        "window": {"last_days": 30},
    }
    assert segment.status == "ready" and segment.size == 1
    member = segment.memberships.get(exited_at__isnull=True)
    assert member.person.distinct_ids.get().distinct_id == "big"
    page = alice_client.get(f"{urls['base']}/{segment.pk}/").content.decode()
    assert "Top 1 by sum of amount of “purchase” in the last 30 days" in page


def test_a_rank_with_a_bad_percent_names_the_field(alice_client, urls, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-type": "rank"})
    data = form_fields(alice_client.post(urls["new"], {**data, "op": "refresh"}).content.decode())
    data.update({"n-r_0-top_value": "250", "name": "Too many", "op": "save"})
    response = alice_client.post(urls["new"], data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="e-r_0-top_value"' in page and "must be more than 0 and at most 100" in page
    assert not Segment.objects.filter(name="Too many").exists()


def test_rank_property_suggestions_are_the_events_properties(alice_client, urls, send):
    send([event("purchase", "big", amount=120)])
    query = {"path": "r_0", "field": "measure_property", "n-r_0-type": "rank", "n-r_0-measure_of": "sum",
             "n-r_0-ev_source": "event", "n-r_0-ev_name": "purchase"}  # fmt: skip
    body = alice_client.get(urls["suggest"], query).content.decode()
    assert 'value="amount"' in body


def test_switching_a_session_filter_to_text_keeps_a_comparison_that_applies(alice_client, urls, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-type": "session"})
    data = form_fields(alice_client.post(urls["new"], {**data, "op": "refresh"}).content.decode())
    data.update({"n-r_0-w0_property": "referrer_domain", "op": "refresh"})
    data = form_fields(alice_client.post(urls["new"], data).content.decode())
    assert (data["n-r_0-w0_property"], data["n-r_0-w0_operator"]) == ("referrer_domain", "eq")


def test_session_value_suggestions_are_the_projects_campaigns(alice_client, urls, send):
    send([event(**{"$current_url": "https://shop.test/?utm_source=newsletter"})])
    query = {"path": "r_0", "field": "w0_value", "n-r_0-type": "session", "n-r_0-w0_property": "utm_source",
             "n-r_0-w0_operator": "eq", "n-r_0-w0_value": ""}  # fmt: skip
    body = alice_client.get(urls["suggest"], query).content.decode()
    assert 'value="newsletter"' in body


def test_adding_a_condition_without_javascript_returns_the_whole_page(alice_client, urls):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"op": "add:r", "n-r-new": "person", "name": "Draft"})
    response = alice_client.post(urls["new"], data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body and 'value="Draft"' in body
    assert '<option value="person" selected>' in body and 'name="n-r_1-property"' in body


def test_adding_a_condition_with_htmx_swaps_the_tree_and_the_preview(alice_client, urls):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"op": "add:r", "n-r-new": "person"})
    response = alice_client.post(urls["new"], data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert body.lstrip().startswith('<div id="tree"')
    assert 'name="n-r_1-property"' in body
    assert 'id="preview" class="card preview" aria-live="polite" hx-swap-oob="true"' in body
    assert (
        'id="definition-json" rows="14" spellcheck="false" aria-label="Definition as JSON" hx-swap-oob="true"'
        in body
    )


def test_groups_nest_and_remove(alice_client, urls):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"op": "add:r", "n-r-new": "group"})
    body = alice_client.post(urls["new"], data, **HTMX).content.decode()
    assert 'name="n-r_1-kind" value="group"' in body and 'name="n-r_1_0-type"' in body
    data = form_fields(alice_client.post(urls["new"], {**data, "op": "add:r"}).content.decode())
    data["op"] = "remove:r_1"
    body = alice_client.post(urls["new"], data, **HTMX).content.decode()
    assert 'name="n-r_1-kind"' not in body and 'name="n-r_0-type"' in body


def test_sequence_steps_and_event_filters_are_added_and_removed(alice_client, urls):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-type": "sequence"})  # was_type stays behavior: the type just changed
    body = alice_client.post(urls["new"], {**data, "op": "refresh"}, **HTMX).content.decode()
    assert 'name="n-r_0-s1_name"' in body and 'name="n-r_0-s2_name"' not in body
    page = alice_client.post(urls["new"], {**data, "op": "refresh"}).content.decode()
    data = form_fields(page)
    data.update({"op": "add_step:r_0"})
    data = form_fields(alice_client.post(urls["new"], data).content.decode())
    assert "n-r_0-s2_name" in data
    data.update({"op": "add_where:r_0:s2"})
    data = form_fields(alice_client.post(urls["new"], data).content.decode())
    assert "n-r_0-s2_w0_property" in data
    data.update({"op": "remove_step:r_0:0"})
    data = form_fields(alice_client.post(urls["new"], data).content.decode())
    assert "n-r_0-s2_name" not in data and "n-r_0-s1_w0_property" in data


def test_a_filter_just_added_waits_to_be_filled_in_instead_of_showing_an_error(alice_client, urls, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-ev_name": "created_project", "op": "add_where:r_0:ev"})
    fragment = alice_client.post(urls["new"], data, **HTMX)
    full = alice_client.post(urls["new"], data)
    for response in (fragment, full):
        assert response.status_code == 200
        body = response.content.decode()
        assert 'name="n-r_0-ev_w0_property"' in body
        assert "must be a non-empty string" not in body and 'role="alert"' not in body
        assert 'id="preview-unfilled">Fill in <strong>Condition 1 · event filter 1 property</strong>' in body
    assert "<html" in full.content.decode() and "<html" not in fragment.content.decode()


def test_a_person_property_condition_just_chosen_shows_no_error(alice_client, urls, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-type": "person", "op": "refresh"})
    body = alice_client.post(urls["new"], data, **HTMX).content.decode()
    assert 'role="alert"' not in body and 'id="preview-unfilled"' in body


def test_saving_with_a_part_left_empty_names_it_as_an_error(alice_client, urls, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-ev_name": "created_project", "op": "add_where:r_0:ev"})
    data = form_fields(alice_client.post(urls["new"], data).content.decode())
    response = alice_client.post(urls["new"], {**data, "name": "Makers", "op": "save"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Condition 1 · event filter 1 property</strong>: must be a non-empty string" in body
    assert 'id="preview-unfilled"' not in body
    assert not Segment.objects.exists()


def test_a_wrong_value_is_shown_at_once_without_waiting_for_the_save(alice_client, urls, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-count_value": "lots"})
    body = alice_client.post(urls["preview"], data, **HTMX).content.decode()
    assert 'role="alert"' in body and 'id="preview-unfilled"' not in body


def test_switching_to_a_lifecycle_verb_keeps_the_event(alice_client, urls):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-ev_name": "created_project", "n-r_0-type": "stopped", "op": "refresh"})
    body = alice_client.post(urls["new"], data, **HTMX).content.decode()
    assert '<option value="stopped" selected>' in body and "stopped doing" in body
    assert 'value="created_project"' in body and 'name="n-r_0-days" id="f-r_0-days" value="14"' in body


def test_switching_the_type_starts_from_that_types_defaults(alice_client, urls):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-type": "last_seen", "op": "refresh"})
    body = alice_client.post(urls["new"], data, **HTMX).content.decode()
    assert '<option value="last_seen" selected>' in body
    assert 'name="n-r_0-value" id="f-r_0-value" value="30"' in body


# -- the live preview ----------------------------------------------------------------------------------


def test_the_preview_counts_what_the_compiler_counts(alice_client, urls, project, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-ev_name": "created_project", "n-r_0-window_kind": "all"})
    response = alice_client.post(urls["preview"], data, **HTMX)
    assert response.status_code == 200
    expected = count_of(
        project, {"match": "all", "conditions": [{"type": "behavior", "event": {"name": "created_project"}}]}
    )
    assert expected == 2
    body = response.content.decode()
    assert f'<div class="stat" id="preview-count">{expected}</div>' in body
    assert "33% of 6" in body
    # the JSON follows the fields
    assert 'hx-swap-oob="true">{\n  &quot;match&quot;: &quot;all&quot;' in body
    assert "&quot;created_project&quot;" in body


def test_a_preview_still_counting_shows_its_progress_and_then_the_count(
    alice_client, bob_client, urls, project, people, settings
):
    """With no worker free the preview answers with the job's panel (never a 500), the definition
    kept as typed; the panel then swaps in the worker's count, which the builder shows at once after."""
    from jobs.models import Job, JobStatus
    from jobs.runner import execute
    from jobs.worker import claim

    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update({"n-r_0-ev_name": "created_project", "n-r_0-window_kind": "all"})
    settings.ANALYSIS_JOBS = "worker"  # no worker runs here: the job stays queued
    response = alice_client.post(urls["preview"], data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    job = Job.objects.get(project=project, kind="segment_preview", status=JobStatus.QUEUED)
    assert job.params["definition"]["conditions"][0]["event"]["name"] == "created_project"
    assert f'data-job-id="{job.pk}"' in body and 'id="preview-count"' not in body
    assert "&quot;created_project&quot;" in body  # the JSON still follows the fields
    panel_url = f"/p/{project.pk}/jobs/{job.pk}/?view=page"
    assert bob_client.get(panel_url).status_code == 404

    assert claim(per_project=2) == job.pk
    execute(job.pk)
    panel = alice_client.get(panel_url, **HTMX).content.decode()
    assert f'data-job-done="{job.pk}"' in panel
    assert '<div class="stat" id="preview-count">2</div>' in panel and "33% of 6" in panel
    again = alice_client.post(urls["preview"], data, **HTMX).content.decode()
    assert '<div class="stat" id="preview-count">2</div>' in again and "data-job-id" not in again


def test_the_preview_of_an_edited_json_rerenders_the_tree(alice_client, urls, project, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data["definition_json"] = json.dumps(PRO)
    body = alice_client.post(urls["preview"], data, **HTMX).content.decode()
    assert '<div class="stat" id="preview-count">3</div>' in body
    assert '<div id="tree" class="sg-tree" hx-swap-oob="true">' in body
    assert 'name="n-r_0-property" id="f-r_0-property" value="plan"' in body
    assert 'name="definition_json"' not in body  # never replaced while being typed in


def test_the_preview_names_an_invalid_part_in_words(alice_client, urls, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data.update(
        {"n-r_0-window_kind": "range", "n-r_0-window_from": "2026-02-10", "n-r_0-window_to": "2026-02-01"}
    )
    body = alice_client.post(urls["preview"], data, **HTMX).content.decode()
    assert "Condition 1 · end date</strong>: must not be before from" in body
    assert 'id="preview-count"' not in body


def test_the_preview_without_htmx_is_the_builder_page(alice_client, urls, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    response = alice_client.post(urls["preview"], data)
    assert response.status_code == 200
    assert "<html" in response.content.decode() and 'id="preview-count"' in response.content.decode()


def test_a_read_over_its_time_budget_is_cut_short_and_the_connection_stays_usable():
    from segments.selectors.sizes import TimedOut, bounded_read

    with pytest.raises(TimedOut):
        bounded_read("SELECT pg_sleep(2)", [], timeout_ms=50)
    assert bounded_read("SELECT 1", [], timeout_ms=50) == [(1,)]
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


def test_the_preview_of_another_projects_segment_is_404(alice_client, bob_client, urls, project):
    segment = segment_create(project=project, name="Pro", definition=PRO)
    assert (
        bob_client.post(f"/p/{project.pk}/segments/preview/", {"segment": segment.pk}, **HTMX).status_code
        == 404
    )


# -- suggestions ------------------------------------------------------------------------------------


def test_value_suggestions_follow_the_property_being_edited(alice_client, urls, people):
    query = {
        "path": "r_0",
        "field": "value",
        "n-r_0-kind": "condition",
        "n-r_0-type": "person",
        "n-r_0-property": "plan",
    }
    response = alice_client.get(urls["suggest"], query, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<option value="free" label="free (3)">' in body and '<option value="pro" label="pro (3)">' in body


def test_event_filter_suggestions_are_the_events_properties(alice_client, urls, people):
    query = {
        "path": "r_0",
        "field": "ev_w0_property",
        "n-r_0-type": "behavior",
        "n-r_0-ev_name": "created_project",
    }
    assert '<option value="template"' in alice_client.get(urls["suggest"], query).content.decode()
    query |= {"field": "ev_w0_value", "n-r_0-ev_w0_property": "template"}
    body = alice_client.get(urls["suggest"], query).content.decode()
    assert '<option value="kanban"' in body and '<option value="list"' in body


def test_nothing_to_suggest_is_an_empty_list(alice_client, urls):
    response = alice_client.get(urls["suggest"], {"path": "r_9", "field": "nope"})
    assert response.status_code == 200 and response.content.decode().strip() == ""


# -- edit -----------------------------------------------------------------------------------------------


def test_editing_the_rule_recomputes_the_segment(alice_client, project, people, on_commit):
    with on_commit():
        segment = segment_create(project=project, name="Pro", definition=PRO)
    edit = f"/p/{project.pk}/segments/{segment.pk}/edit/"
    data = form_fields(alice_client.get(edit).content.decode())
    data.update({"op": "save", "n-r_0-value": "free"})
    with on_commit():
        response = alice_client.post(edit, data)
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.definition["conditions"][0]["value"] == "free"
    # the history is the new rule's, rebuilt after the computation
    assert segment.size == 3 and segment.history_built_at is not None
    assert (
        segment.memberships.count() == 3 and not segment.memberships.filter(exited_at__isnull=False).exists()
    )


def test_a_static_segment_edits_only_its_name(alice_client, project, people):
    from segments.services import segment_upload

    static = segment_upload(project=project, name="Beta", identifiers=["user-1"]).segment
    edit = f"/p/{project.pk}/segments/{static.pk}/edit/"
    body = alice_client.get(edit).content.decode()
    assert "only its name and description change" in body and "n-r-kind" not in body
    response = alice_client.post(edit, {"name": "Beta testers", "description": ""})
    assert response.status_code == 302
    static.refresh_from_db()
    assert static.name == "Beta testers" and static.size == 1


def test_line_breaks_sent_as_crlf_do_not_count_as_an_edited_json(alice_client, urls, people):
    data = form_fields(alice_client.get(urls["new"]).content.decode())
    data["definition_json"] = data["definition_json"].replace("\n", "\r\n")
    data["n-r_0-ev_name"] = "created_project"
    data["n-r_0-window_kind"] = "all"
    body = alice_client.post(urls["preview"], data, **HTMX).content.decode()
    assert '<div class="stat" id="preview-count">2</div>' in body  # the fields were read, not the JSON


@pytest.mark.parametrize(
    "changes",
    [
        {"op": "remove:r_99"},
        {"op": "remove:r"},
        {"op": "add_where:r_0:s7"},
        {"op": "remove_step:r_0:x"},
        {"op": "<script>"},
        {"n-r_0-type": "teleported", "n-r_0-was_type": "teleported"},
        {"n-r_0-count_value": "many"},
        {"n-r_0-ev_source": "action", "n-r_0-ev_action": "99999"},
        {"n-r_0-window_kind": "range", "n-r_0-window_from": "yesterday"},
        {"n-r-match": "most"},
        {"n-r_7_3-kind": "condition", "n-r_7_3-type": "person"},
        {"n-bogus path-kind": "group"},
        {"definition_json": "[]"},
        {"definition_json": '{"match": "all", "conditions": [{"type": "segment", "segment": "x"}]}'},
        {
            "definition_json": '{"match": "all", "conditions": ['
            + ", ".join(['{"match": "all", "conditions": []}'] * 3)
            + "]}"
        },
        {"definition_json": "9" * 300_000},
    ],
)
def test_odd_input_is_answered_with_the_page_never_a_server_error(alice_client, urls, people, changes):
    data = {**form_fields(alice_client.get(urls["new"]).content.decode()), "name": "Odd"}
    for op_target in (urls["new"], urls["preview"]):
        for extra in ({}, HTMX):
            response = alice_client.post(op_target, {**data, "op": "preview", **changes}, **extra)
            assert response.status_code == 200, (op_target, extra, response.content[:500])
    response = alice_client.post(urls["new"], {**data, **changes, "op": changes.get("op", "save")})
    assert response.status_code in (200, 302)
