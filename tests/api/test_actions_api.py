"""`/api/v1/projects/{id}/actions/`: CRUD, field-named errors, matching events, tenancy."""

from __future__ import annotations

import pytest

from tests.ingest.conftest import event
from tracking.models import Action
from tracking.services.actions import action_create

pytestmark = pytest.mark.django_db

BUY = [{"tag": "span", "text": "Buy"}, {"tag": "button", "id": "buy", "classes": ["btn"]}, {"tag": "body"}]


def auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def buy_action(project, alice):
    return action_create(
        project=project, user=alice, name="Clicked buy", steps=[{"event": "$autocapture", "selector": "#buy"}]
    )


def test_it_creates_an_action_and_normalises_its_steps(client, project, alice_api_key):
    body = {
        "name": "Viewed pricing",
        "description": "Any pricing page",
        "steps": [{"event": "$pageview", "url": "/pricing"}],
    }
    response = client.post(
        f"/api/v1/projects/{project.pk}/actions/",
        body,
        content_type="application/json",
        **auth(alice_api_key),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "Viewed pricing"
    assert data["steps"] == [{"event": "$pageview", "url": "/pricing", "url_matching": "contains"}]
    assert data["created_by"] == "alice@acme.test"
    action = Action.objects.get(pk=data["id"])
    assert action.project == project and action.description == "Any pricing page"


@pytest.mark.parametrize(
    ("steps", "field", "says"),
    [
        (
            [{"event": "$autocapture", "selector": "a:hov"}],
            "steps[0].selector",
            "unsupported pseudo-class :hov at position 2",
        ),
        ([{"event": "x"}, {"selector": "div + p"}], "steps[1].selector", "at position 5"),
        ([{"text": "(", "text_matching": "regex"}], "steps[0].text", "invalid regular expression"),
        ([{}], "steps[0]", "at least one condition"),
        ([], "steps", "at least one step"),
    ],
)
def test_invalid_steps_answer_400_naming_the_field(client, project, alice_api_key, steps, field, says):
    response = client.post(
        f"/api/v1/projects/{project.pk}/actions/",
        {"name": "x", "steps": steps},
        content_type="application/json",
        **auth(alice_api_key),
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert says in response.json()[field][0]
    assert not Action.objects.exists()


def test_a_missing_name_and_a_taken_name_are_400(client, project, alice_api_key, buy_action):
    url = f"/api/v1/projects/{project.pk}/actions/"
    response = client.post(
        url, {"steps": [{"event": "x"}]}, content_type="application/json", **auth(alice_api_key)
    )
    assert response.status_code == 400 and "name" in response.json()
    response = client.post(
        url,
        {"name": "Clicked buy", "steps": [{"event": "x"}]},
        content_type="application/json",
        **auth(alice_api_key),
    )
    assert response.status_code == 400
    assert "already exists" in response.json()["name"][0]


def test_it_lists_reads_patches_and_deletes(client, project, alice_api_key, buy_action):
    base = f"/api/v1/projects/{project.pk}/actions/"
    listed = client.get(base, **auth(alice_api_key)).json()
    assert [a["name"] for a in listed["results"]] == ["Clicked buy"]
    assert (
        client.get(f"{base}{buy_action.pk}/", **auth(alice_api_key)).json()["steps"][0]["selector"] == "#buy"
    )

    response = client.patch(
        f"{base}{buy_action.pk}/",
        {"steps": [{"event": "$autocapture", "text": "Buy"}]},
        content_type="application/json",
        **auth(alice_api_key),
    )
    assert response.status_code == 200
    buy_action.refresh_from_db()
    assert buy_action.name == "Clicked buy"  # untouched by a partial update
    assert buy_action.steps == [{"event": "$autocapture", "text": "Buy", "text_matching": "exact"}]

    response = client.patch(
        f"{base}{buy_action.pk}/",
        {"steps": [{"selector": "[x^=y]"}]},
        content_type="application/json",
        **auth(alice_api_key),
    )
    assert response.status_code == 400 and "steps[0].selector" in response.json()

    assert client.delete(f"{base}{buy_action.pk}/", **auth(alice_api_key)).status_code == 204
    assert not Action.objects.filter(pk=buy_action.pk).exists()
    assert client.get(f"{base}{buy_action.pk}/", **auth(alice_api_key)).status_code == 404


def test_it_lists_the_events_an_action_matches(client, send, project, alice_api_key, buy_action):
    send(
        [
            event("$autocapture", "ann", **{"$elements": BUY}),
            event("$pageview", "ann"),
            event("$autocapture", "ben", **{"$elements": BUY}),
        ]
    )
    response = client.get(
        f"/api/v1/projects/{project.pk}/actions/{buy_action.pk}/events/?limit=1", **auth(alice_api_key)
    )
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2 and len(data["results"]) == 1
    first = data["results"][0]
    assert first["event"] == "$autocapture" and first["el_text"] == "Buy" and first["distinct_id"] == "ben"
    assert first["elements"][1]["id"] == "buy"


def test_another_projects_member_gets_404_everywhere(client, project, bob_api_key, buy_action):
    base = f"/api/v1/projects/{project.pk}/actions/"
    assert client.get(base, **auth(bob_api_key)).status_code == 404
    assert (
        client.post(
            base,
            {"name": "x", "steps": [{"event": "x"}]},
            content_type="application/json",
            **auth(bob_api_key),
        ).status_code
        == 404
    )
    assert client.get(f"{base}{buy_action.pk}/", **auth(bob_api_key)).status_code == 404
    assert (
        client.patch(
            f"{base}{buy_action.pk}/", {"name": "pwned"}, content_type="application/json", **auth(bob_api_key)
        ).status_code
        == 404
    )
    assert client.delete(f"{base}{buy_action.pk}/", **auth(bob_api_key)).status_code == 404
    assert client.get(f"{base}{buy_action.pk}/events/", **auth(bob_api_key)).status_code == 404
    buy_action.refresh_from_db()
    assert buy_action.name == "Clicked buy"
    assert Action.objects.count() == 1


def test_an_action_id_of_another_project_is_404_in_my_project(
    client, project, other_project, bob, alice_api_key
):
    theirs = action_create(project=other_project, user=bob, name="Theirs", steps=[{"event": "x"}])
    assert (
        client.get(f"/api/v1/projects/{project.pk}/actions/{theirs.pk}/", **auth(alice_api_key)).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/projects/{project.pk}/actions/{theirs.pk}/events/", **auth(alice_api_key)
        ).status_code
        == 404
    )
    assert (
        client.delete(
            f"/api/v1/projects/{project.pk}/actions/{theirs.pk}/", **auth(alice_api_key)
        ).status_code
        == 404
    )
    assert Action.objects.filter(pk=theirs.pk).exists()
