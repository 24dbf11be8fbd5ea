"""Personas: the list, writing one, and how many real people stand behind it."""

from __future__ import annotations

import re

import pytest

from segments.models import Persona
from segments.services import persona_save, segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


def url(project, rest: str = "") -> str:
    return f"/p/{project.pk}/segments/personas/{rest}"


@pytest.fixture
def pro(project, send, on_commit):
    batch = [
        event(
            "$identify", f"user-{i}", **{"$set": {"plan": "pro" if i % 2 else "free", "email": f"u{i}@x.io"}}
        )
        for i in range(6)
    ]
    assert send(batch).json()["accepted"] == 6
    with on_commit():
        return segment_create(project=project, name="Pro", definition=PRO)


@pytest.fixture
def priya(project, pro):
    return persona_save(
        project=project, name="Priya the planner", summary="Runs a team of five", segment=pro,
        goals="Ship on time", frustrations="Status meetings", quotes="I live in the board view\nExport everything",
    )  # fmt: skip


@pytest.mark.parametrize("page", ["", "new/", "{persona}/", "{persona}/edit/"])
def test_persona_pages_answer_members_and_are_404_to_others(alice_client, bob_client, project, priya, page):
    path = url(project, page.format(persona=priya.pk))
    assert alice_client.get(path).status_code == 200
    assert bob_client.get(path).status_code == 404


def test_the_empty_list_invites_a_first_persona(alice_client, project):
    body = alice_client.get(url(project)).content.decode()
    assert "No personas yet" in body and url(project, "new/") in body


def test_a_persona_is_written_and_linked_to_a_segment(alice_client, project, pro):
    data = {"name": "Sam the solo founder", "summary": "Does everything alone", "segment": pro.pk, "goals": "Focus",
            "frustrations": "", "quotes": "Too many tools"}  # fmt: skip
    response = alice_client.post(url(project, "new/"), data)
    persona = Persona.objects.get(name="Sam the solo founder")
    assert response.status_code == 302 and response["Location"] == url(project, f"{persona.pk}/")
    assert persona.project == project and persona.segment == pro and persona.quote_list == ["Too many tools"]


def test_the_new_persona_form_can_start_from_a_segment(alice_client, project, pro):
    body = alice_client.get(url(project, f"new/?segment={pro.pk}")).content.decode()
    assert f'<option value="{pro.pk}" selected>Pro</option>' in body


def test_a_persona_cannot_link_another_projects_segment(alice_client, project, other_project):
    theirs = segment_create(project=other_project, name="Theirs", definition=PRO)
    response = alice_client.post(url(project, "new/"), {"name": "Spy", "segment": theirs.pk})
    assert response.status_code == 200
    assert "Segment: Select a valid choice." in response.content.decode()
    assert not Persona.objects.exists()


def test_a_persona_without_a_name_names_the_field(alice_client, project):
    response = alice_client.post(url(project, "new/"), {"name": ""})
    assert response.status_code == 200 and "Name: This field is required." in response.content.decode()


def test_the_persona_page_shows_the_real_people_behind_it(alice_client, project, priya):
    body = alice_client.get(url(project, f"{priya.pk}/")).content.decode()
    assert (
        '<div class="stat">3</div>' in body
        and "real people stand behind this persona" in body
        and "50%" in body
    )
    assert "Ship on time" in body and "Status meetings" in body and "“I live in the board view”" in body
    assert (
        len(re.findall(rf'href="/p/{project.pk}/persons/\d+/"', body)) == 3
    )  # a few real members as examples
    assert "u1@x.io" in body and "u2@x.io" not in body


def test_the_list_shows_each_personas_head_count(alice_client, project, priya):
    body = alice_client.get(url(project)).content.decode()
    assert (
        "Priya the planner" in body and '<div class="stat">3</div>' in body and "Runs a team of five" in body
    )


def test_editing_a_persona(alice_client, project, priya):
    response = alice_client.post(
        url(project, f"{priya.pk}/edit/"), {"name": "Priya", "summary": "Team lead", "segment": ""}
    )
    assert response.status_code == 302
    priya.refresh_from_db()
    assert priya.name == "Priya" and priya.segment is None
    assert "is not linked to a segment" in alice_client.get(url(project, f"{priya.pk}/")).content.decode()


def test_another_projects_member_cannot_edit_a_persona(bob_client, project, priya):
    assert bob_client.post(url(project, f"{priya.pk}/edit/"), {"name": "Mine"}).status_code == 404
    priya.refresh_from_db()
    assert priya.name == "Priya the planner"
