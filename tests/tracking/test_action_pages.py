"""Action pages: list, builder with live preview, from_event, detail, delete — and tenancy for each."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.ingest.conftest import event
from tracking.eventstore import explore
from tracking.models import Action
from tracking.services.actions import action_create

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
BUY = [
    {"tag": "span", "text": "Buy now", "nth_child": 1},
    {"tag": "button", "id": "buy", "classes": ["btn", "css-1x2y3z"], "attrs": {"data-plan": "pro"}},
    {"tag": "body"},
]


@pytest.fixture
def clicks(send):
    response = send(
        [
            event(
                "$autocapture", "ann", **{"$current_url": "https://shop.test/cart?step=2", "$elements": BUY}
            ),
            event("$autocapture", "ben", **{"$current_url": "https://shop.test/cart", "$elements": BUY}),
            event("$pageview", "ann", **{"$current_url": "https://shop.test/cart"}),
        ]
    )
    assert response.json()["accepted"] == 3


@pytest.fixture
def buy_action(project, alice):
    return action_create(
        project=project, user=alice, name="Clicked buy", steps=[{"event": "$autocapture", "selector": "#buy"}]
    )


def step_data(**fields) -> dict:
    data = {"name": "Clicked buy", "description": "", "steps-count": "1"}
    for key, value in fields.items():
        data[f"steps-0-{key}"] = value
    return data


# -- list ---------------------------------------------------------------------------------


def test_the_list_shows_each_action_with_its_30_day_counts(alice_client, project, clicks, buy_action):
    response = alice_client.get(reverse("actions", args=[project.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Clicked buy" in body
    assert reverse("action_detail", args=[project.pk, buy_action.pk]) in body
    assert '<td class="num">2</td>' in body  # two clicks, two persons
    assert "$autocapture · #buy" in body


def test_the_list_invites_the_first_action(alice_client, project):
    body = alice_client.get(reverse("actions", args=[project.pk])).content.decode()
    assert "No actions yet" in body and reverse("action_new", args=[project.pk]) in body


# -- builder -------------------------------------------------------------------------------


def test_saving_a_new_action_stores_normalised_steps(alice_client, alice, project):
    data = step_data(
        event="$autocapture",
        selector=" #buy ",
        text="Buy now",
        text_matching="exact",
        url_matching="contains",
    )
    data["intent"] = "save"
    response = alice_client.post(reverse("action_new", args=[project.pk]), data)
    action = Action.objects.get(project=project)
    assert response.status_code == 302
    assert response["Location"] == reverse("action_detail", args=[project.pk, action.pk])
    assert action.steps == [
        {"event": "$autocapture", "selector": "#buy", "text": "Buy now", "text_matching": "exact"}
    ]
    assert action.created_by == alice


def test_form_errors_name_the_field_and_say_why(alice_client, project):
    data = step_data(event="$autocapture", selector="li:nth-child(2n)", text="(", text_matching="regex")
    response = alice_client.post(reverse("action_new", args=[project.pk]), {**data, "intent": "save"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "CSS selector: unsupported argument &#x27;2n&#x27; in :nth-child() at position 14" in body
    assert "Element text: invalid regular expression" in body
    assert not Action.objects.exists()


def test_a_step_needs_a_condition_and_an_action_a_name(alice_client, project):
    response = alice_client.post(
        reverse("action_new", args=[project.pk]), {**step_data(), "name": "", "intent": "save"}
    )
    body = response.content.decode()
    assert "at least one condition" in body
    assert "Name: This field is required." in body


def test_a_taken_name_is_an_error_on_the_name(alice_client, project, buy_action):
    response = alice_client.post(
        reverse("action_new", args=[project.pk]), {**step_data(event="x"), "intent": "save"}
    )
    assert "already exists" in response.content.decode()
    assert Action.objects.count() == 1


def test_the_preview_counts_what_the_steps_match(events_backend, alice_client, project, clicks):
    data = {**step_data(event="$autocapture", selector="button.btn"), "intent": "preview"}
    url = reverse("action_new", args=[project.pk])
    full = alice_client.post(url, data)
    fragment = alice_client.post(url, data, **HTMX)
    assert full.status_code == fragment.status_code == 200
    assert "<html" in full.content.decode() and "<html" not in fragment.content.decode()
    body = fragment.content.decode()
    assert body.lstrip().startswith('<section id="preview"')
    assert '<div class="stat" id="preview-events">2</div>' in body
    assert '<div class="stat" id="preview-persons">2</div>' in body
    assert "span" in body and "Buy now" in body  # the clicked element
    assert "/cart" in body  # the page
    assert not Action.objects.exists()  # a preview saves nothing


def test_the_preview_shows_step_errors_instead_of_counts(alice_client, project):
    data = {**step_data(event="$autocapture", selector="a:hover"), "intent": "preview"}
    body = alice_client.post(reverse("action_new", args=[project.pk]), data, **HTMX).content.decode()
    assert "Step 1 · CSS selector" in body and "unsupported pseudo-class :hover at position 2" in body
    assert 'id="preview-events"' not in body


def test_the_builder_previews_while_typing(alice_client, project):
    body = alice_client.get(reverse("action_new", args=[project.pk])).content.decode()
    assert 'hx-trigger="input changed delay:400ms"' in body
    assert 'hx-target="#preview"' in body
    assert 'name="intent" value="preview"' in body  # and without JavaScript, a button


def test_steps_are_added_and_removed_keeping_what_was_typed(alice_client, project):
    url = reverse("action_new", args=[project.pk])
    data = {**step_data(event="$pageview", url="/pricing"), "intent": "add_step"}
    full = alice_client.post(url, data)
    fragment = alice_client.post(url, data, **HTMX)
    assert "<html" in full.content.decode() and "<html" not in fragment.content.decode()
    body = fragment.content.decode()
    assert body.lstrip().startswith('<form id="builder"')
    assert 'name="steps-count" value="2"' in body
    assert 'name="steps-1-event"' in body
    assert 'value="/pricing"' in body

    data = {
        "name": "x",
        "steps-count": "2",
        "steps-0-event": "first",
        "steps-1-event": "second",
        "intent": "remove_step:0",
    }
    body = alice_client.post(url, data, **HTMX).content.decode()
    assert 'name="steps-count" value="1"' in body
    assert 'value="second"' in body and 'value="first"' not in body


def test_several_steps_are_saved_in_order(alice_client, project):
    data = {
        "name": "Pricing interest",
        "steps-count": "2",
        "steps-0-event": "$pageview",
        "steps-0-url": "/pricing",
        "steps-0-url_matching": "contains",
        "steps-1-event": "$autocapture",
        "steps-1-href": "/pricing",
        "steps-1-href_matching": "contains",
        "steps-1-properties": '[{"property": "plan", "operator": "eq", "value": "pro"}]',
        "intent": "save",
    }
    assert alice_client.post(reverse("action_new", args=[project.pk]), data).status_code == 302
    steps = Action.objects.get().steps
    assert [s["event"] for s in steps] == ["$pageview", "$autocapture"]
    assert steps[1]["properties"] == [{"property": "plan", "operator": "eq", "value": "pro"}]


def test_invalid_property_json_is_an_error_on_that_field(alice_client, project):
    data = {**step_data(event="x", properties="[{plan"), "intent": "save"}
    body = alice_client.post(reverse("action_new", args=[project.pk]), data).content.decode()
    assert "Event properties: not valid JSON" in body


def test_an_invalid_property_filter_names_the_filter_and_its_part(alice_client, project):
    filters = '[{"property": "plan", "operator": "eq", "value": "pro"}, {"property": "seats", "operator": "like", "value": 1}]'
    data = {**step_data(event="x", properties=filters), "intent": "save"}
    body = alice_client.post(reverse("action_new", args=[project.pk]), data).content.decode()
    assert "Event properties: filter 2, operator: unknown operator &#x27;like&#x27;" in body
    assert not Action.objects.exists()


# -- from_event ------------------------------------------------------------------------------


def ann_click(project):
    (click,) = [e for e in explore.event_list(project.pk, name="$autocapture") if e.distinct_id == "ann"]
    return click


def test_from_event_prefills_a_step_from_the_stored_click(alice_client, project, clicks):
    click = ann_click(project)
    response = alice_client.get(reverse("action_new", args=[project.pk]) + f"?from_event={click.uuid}")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="$autocapture"' in body
    assert 'value="#buy"' in body  # the button around the clicked span, by its id
    assert 'name="steps-0-url" value=' not in body  # the element on every page, not only this one
    assert "Clicked “Buy now”" in body
    assert '<div class="stat" id="preview-events">2</div>' in body  # both clicks, previewed straight away
    assert f"?from_event={click.uuid}&amp;page=1" in body  # the page is offered, not imposed


def test_from_event_with_page_keeps_the_clicked_page_without_its_query_string(alice_client, project, clicks):
    click = ann_click(project)
    url = reverse("action_new", args=[project.pk]) + f"?from_event={click.uuid}&page=1"
    full = alice_client.get(url)
    fragment = alice_client.get(url, **HTMX)
    assert full.status_code == fragment.status_code == 200
    body = full.content.decode()
    assert 'value="https://shop.test/cart"' in body
    assert "Only clicks on <code>https://shop.test/cart</code>" in body
    assert f'href="?from_event={click.uuid}"' in body  # and the way back to every page
    assert '<div class="stat" id="preview-events">2</div>' in body  # "contains" keeps ?step=2
    assert 'value="https://shop.test/cart"' in fragment.content.decode()


def test_from_event_on_the_home_page_matches_the_url_exactly(alice_client, project, send):
    send([event("$pageview", "ann", **{"$current_url": "https://shop.test/?utm_source=mail"})])
    (view,) = explore.event_list(project.pk)
    body = alice_client.get(
        reverse("action_new", args=[project.pk]) + f"?from_event={view.uuid}"
    ).content.decode()
    assert 'value="https://shop.test/"' in body
    url_select = body[body.index('name="steps-0-url_matching"') :]
    assert url_select.index('value="exact" selected') < url_select.index(
        "</select>"
    )  # contains "/" would match every page
    assert "Viewed /" in body


def test_from_event_of_another_project_is_404(
    events_backend, alice_client, bob_client, project, other_project, send
):
    theirs = event("$autocapture", "zed", **{"$elements": BUY})
    send([theirs], api_key=other_project.public_key)
    assert [str(e.uuid) for e in explore.event_list(other_project.pk)] == [theirs["uuid"]]
    assert (
        alice_client.get(
            reverse("action_new", args=[project.pk]) + f"?from_event={theirs['uuid']}"
        ).status_code
        == 404
    )
    assert alice_client.get(reverse("action_new", args=[project.pk]) + "?from_event=abc").status_code == 404
    assert (
        alice_client.get(reverse("action_new", args=[project.pk]) + "?from_event=" + "9" * 30).status_code
        == 404
    )
    assert alice_client.get(f"/p/{project.pk}/actions/{'9' * 30}/").status_code == 404
    mine = event("$pageview", "ann", **{"$current_url": "https://shop.test/cart"})
    send([mine])
    for url in (
        reverse("action_new", args=[other_project.pk]) + f"?from_event={mine['uuid']}",
        reverse("action_new", args=[project.pk]) + f"?from_event={mine['uuid']}",
    ):
        assert bob_client.get(url).status_code == 404
    assert (
        alice_client.get(reverse("action_new", args=[project.pk]) + f"?from_event={mine['uuid']}").status_code
        == 200
    )


# -- detail, edit, delete ------------------------------------------------------------------------


def test_the_detail_page_shows_the_trend_and_recent_matches(
    events_backend, alice_client, project, clicks, buy_action
):
    response = alice_client.get(reverse("action_detail", args=[project.pk, buy_action.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<svg class="chart"' in body
    assert "Recent matching events" in body
    assert body.count("<tr>\n        <td><code>$autocapture</code></td>") == 2
    assert f"/p/{project.pk}/persons/" in body
    assert 'value="#buy"' in body  # and the builder, to edit it


def test_editing_saves_the_steps(alice_client, project, buy_action):
    data = {**step_data(event="$autocapture", text="Buy now"), "name": "Clicked buy now", "intent": "save"}
    response = alice_client.post(reverse("action_detail", args=[project.pk, buy_action.pk]), data)
    assert response.status_code == 302
    buy_action.refresh_from_db()
    assert buy_action.name == "Clicked buy now"
    assert buy_action.steps == [{"event": "$autocapture", "text": "Buy now", "text_matching": "exact"}]


def test_renaming_to_a_taken_name_changes_nothing(alice_client, alice, project, buy_action):
    action_create(project=project, user=alice, name="Viewed pricing", steps=[{"event": "$pageview"}])
    data = {**step_data(event="$pageview"), "name": "Viewed pricing", "intent": "save"}
    response = alice_client.post(reverse("action_detail", args=[project.pk, buy_action.pk]), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "An action named “Viewed pricing” already exists" in body
    assert "<h1>Clicked buy</h1>" in body
    buy_action.refresh_from_db()
    assert (buy_action.name, buy_action.steps[0]["event"]) == ("Clicked buy", "$autocapture")


def test_delete_asks_then_deletes(alice_client, project, buy_action):
    url = reverse("action_delete", args=[project.pk, buy_action.pk])
    response = alice_client.get(url)
    assert response.status_code == 200 and "Delete “Clicked buy”?" in response.content.decode()
    assert Action.objects.filter(pk=buy_action.pk).exists()
    response = alice_client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("actions", args=[project.pk])
    assert not Action.objects.filter(pk=buy_action.pk).exists()


# -- tenancy ---------------------------------------------------------------------------------


def test_another_projects_member_gets_404_on_every_action_page(alice_client, bob_client, project, buy_action):
    pages = [
        reverse("actions", args=[project.pk]),
        reverse("action_new", args=[project.pk]),
        reverse("action_detail", args=[project.pk, buy_action.pk]),
        reverse("action_delete", args=[project.pk, buy_action.pk]),
    ]
    for url in pages:
        assert alice_client.get(url).status_code == 200, url
        assert bob_client.get(url).status_code == 404, url
        assert bob_client.post(url, {**step_data(event="x"), "intent": "save"}).status_code == 404, url
        assert (
            bob_client.post(url, {**step_data(event="x"), "intent": "preview"}, **HTMX).status_code == 404
        ), url
    assert Action.objects.get(pk=buy_action.pk).name == "Clicked buy"
    assert Action.objects.count() == 1


def test_an_action_of_another_project_is_404_under_mine(alice_client, project, other_project, bob):
    theirs = action_create(project=other_project, user=bob, name="Theirs", steps=[{"event": "x"}])
    for name in ("action_detail", "action_delete"):
        url = reverse(name, args=[project.pk, theirs.pk])
        assert alice_client.get(url).status_code == 404
        assert alice_client.post(url, {**step_data(event="x"), "intent": "save"}).status_code == 404
    assert Action.objects.filter(pk=theirs.pk, name="Theirs").exists()
