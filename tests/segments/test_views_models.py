"""Segmentation models: list, lifecycle and custom creation, a model's page."""

from __future__ import annotations

import json
import re

import pytest

from segments.lifecycle import LifecycleParameters, lifecycle_model_create
from segments.models import Segment, SegmentationModel, SegmentStatus
from segments.services import segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


def url(project, rest: str = "") -> str:
    return f"/p/{project.pk}/segments/models/{rest}"


@pytest.fixture
def people(send):
    batch = [
        event("$identify", f"user-{i}", **{"$set": {"plan": "pro" if i % 2 else "free"}}) for i in range(6)
    ]
    batch += [event("created_project", "user-1"), event("created_project", "user-3")]
    assert send(batch).json()["accepted"] == len(batch)


@pytest.fixture
def lifecycle(project, people, on_commit) -> SegmentationModel:
    with on_commit():
        return lifecycle_model_create(
            project=project,
            name="Lifecycle",
            parameters=LifecycleParameters(core_event={"name": "created_project"}),
        )


def test_the_models_page_explains_models_when_there_are_none(alice_client, project):
    body = alice_client.get(url(project)).content.decode()
    assert "No models yet" in body and url(project, "new/lifecycle/") in body


def test_a_lifecycle_model_is_created_with_defaults_from_the_form(alice_client, project, people, on_commit):
    form = alice_client.get(url(project, "new/lifecycle/")).content.decode()
    assert 'name="new_days" value="14"' in form and 'name="dormant_days" value="30"' in form
    data = {"name": "Stages", "event_source": "event", "event_name": "created_project", "event_action": "",
            "new_days": 14, "active_days": 14, "power_active_days": 8, "power_core_count": 10, "dormant_days": 30}  # fmt: skip
    with on_commit():
        response = alice_client.post(url(project, "new/lifecycle/"), data)
    model = SegmentationModel.objects.get(name="Stages")
    assert response.status_code == 302 and response["Location"] == url(project, f"{model.pk}/")
    groups = list(model.groups.order_by("model_position"))
    assert [g.name for g in groups] == [
        "Stages: Dormant", "Stages: New", "Stages: Power users", "Stages: Activated", "Stages: At risk", "Stages: Never activated",
    ]  # fmt: skip
    assert all(g.status == "ready" for g in groups)
    assert sum(g.size for g in groups) == 6  # everyone is in exactly one group
    assert model.parameters["core_event"] == {"name": "created_project", "where": []}


def test_lifecycle_errors_name_the_field(alice_client, project):
    data = {"name": "Stages", "event_source": "event", "event_name": "", "new_days": 14, "active_days": 14,
            "power_active_days": 40, "power_core_count": 10, "dormant_days": 30}  # fmt: skip
    response = alice_client.post(url(project, "new/lifecycle/"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Event name: Name the event" in body
    assert "Power: active days: Ensure this value is less than or equal to 28." in body
    assert not SegmentationModel.objects.exists()


def test_a_lifecycle_on_an_action_of_another_project_is_refused(alice_client, project, other_project):
    from tracking.models import Action

    theirs = Action.objects.create(project=other_project, name="Theirs", steps=[{"event": "x"}])
    data = {"name": "Stages", "event_source": "action", "event_action": theirs.pk, "new_days": 14, "active_days": 14,
            "power_active_days": 8, "power_core_count": 10, "dormant_days": 30}  # fmt: skip
    response = alice_client.post(url(project, "new/lifecycle/"), data)
    assert response.status_code == 200 and "Action: Select a valid choice." in response.content.decode()
    assert not SegmentationModel.objects.exists()


def test_a_models_page_shows_its_distribution_and_links_each_group(alice_client, project, lifecycle):
    body = alice_client.get(url(project, f"{lifecycle.pk}/")).content.decode()
    assert body.count('<rect class="bar"') == 6
    assert "How the groups move" in body and '<polyline class="series"' in body
    for group in lifecycle.groups.all():
        assert (
            f'href="/p/{project.pk}/segments/{group.pk}/">{group.name.removeprefix("Lifecycle: ")}</a>'
            in body
        )
    assert "every 2s" not in body


def test_models_appear_on_the_list_pages_with_their_distribution(alice_client, project, lifecycle):
    new = lifecycle.groups.get(name="Lifecycle: New")  # everyone was first seen today
    for page in (url(project), f"/p/{project.pk}/segments/"):
        body = alice_client.get(page).content.decode()
        assert f'href="/p/{project.pk}/segments/{new.pk}/" title=' in body
        assert re.search(
            r'>New</a>\s*<div class="track"><div class="fill" style="width: 100.0%"></div></div>', body
        )
        assert '6 <span class="muted">100%</span>' in body and '0 <span class="muted">0%</span>' in body
    # groups are listed under their model, not among the standalone segments
    assert (
        f'href="/p/{project.pk}/segments/{new.pk}/">Lifecycle: New</a>'
        not in alice_client.get(f"/p/{project.pk}/segments/").content.decode()
    )


def test_a_model_polls_while_its_groups_compute(alice_client, project, lifecycle):
    lifecycle.groups.filter(name="Lifecycle: New").update(status=SegmentStatus.PENDING)
    page = alice_client.get(url(project, f"{lifecycle.pk}/")).content.decode()
    assert 'hx-trigger="every 2s"' in page
    poll = alice_client.get(
        url(project, f"{lifecycle.pk}/") + "?poll=1", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="model-status"
    )
    assert poll.content.decode().lstrip().startswith('<div id="model-status"') and "HX-Refresh" not in poll
    lifecycle.groups.update(status=SegmentStatus.READY)
    done = alice_client.get(
        url(project, f"{lifecycle.pk}/") + "?poll=1", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="model-status"
    )
    assert done["HX-Refresh"] == "true"


def test_a_model_group_cannot_be_deleted_on_its_own(alice_client, project, lifecycle):
    group = lifecycle.groups.first()
    body = alice_client.post(f"/p/{project.pk}/segments/{group.pk}/delete/").content.decode()
    assert "it lives and dies with the model" in body
    assert Segment.objects.filter(pk=group.pk).exists()


def test_a_custom_model_from_a_segments_rule_and_a_json_rule(alice_client, project, people, on_commit):
    with on_commit():
        pro = segment_create(project=project, name="Pro", definition=PRO)
    makers = {"match": "all", "conditions": [{"type": "behavior", "event": {"name": "created_project"}}]}
    data = {"name": "Value", "remainder_name": "Others", "groups-count": "3",
            "group0_name": "Makers", "group0_definition": json.dumps(makers),
            "group1_name": "Paying", "group1_segment": pro.pk}  # fmt: skip
    with on_commit():
        response = alice_client.post(url(project, "new/custom/"), data)
    model = SegmentationModel.objects.get(name="Value")
    assert response.status_code == 302
    sizes = {g.name: g.size for g in model.groups.all()}
    # user-1 and user-3 make projects (and are pro): first match wins; user-5 is pro only
    assert sizes == {"Value: Makers": 2, "Value: Paying": 1, "Value: Others": 3}


def test_adding_a_group_row_keeps_what_was_typed(alice_client, project):
    response = alice_client.post(
        url(project, "new/custom/"),
        {"name": "Value", "groups-count": "3", "group0_name": "Makers", "op": "add_group"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        'name="group3_name"' in body and 'value="Makers"' in body and 'name="groups-count" value="4"' in body
    )
    assert "This field is required" not in body


def test_custom_model_errors_point_at_the_group(alice_client, project):
    data = {"name": "Value", "remainder_name": "Others", "groups-count": "2",
            "group0_name": "Fine", "group0_definition": json.dumps(PRO),
            "group1_name": "Broken", "group1_definition": json.dumps({"match": "all", "conditions": [{"type": "nope"}]})}  # fmt: skip
    response = alice_client.post(url(project, "new/custom/"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Rule (JSON): groups[1].definition.conditions[0].type: unknown condition type" in body
    assert not SegmentationModel.objects.exists()
    data["group1_definition"] = "{not json"
    assert "Rule (JSON): Not JSON" in alice_client.post(url(project, "new/custom/"), data).content.decode()


def test_a_model_of_another_project_is_404(bob_client, project, lifecycle):
    assert bob_client.get(url(project, f"{lifecycle.pk}/")).status_code == 404
    assert bob_client.get(url(project, f"{lifecycle.pk}/"), **HTMX).status_code == 404
