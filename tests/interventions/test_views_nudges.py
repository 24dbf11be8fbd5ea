"""The nudge pages: the list, the form and its live preview, errors that name the field, status changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interventions import services
from interventions.models import Nudge
from segments.services import segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


def url(project, rest: str = "") -> str:
    return f"/p/{project.pk}/interventions/{rest}"


def form_data(**overrides) -> dict:
    data = {
        "name": "Invite teammates", "kind": "banner", "anchor_selector": "", "title": "Work is better together",
        "body": "Invite your team.", "cta_text": "Invite", "cta_url": "/team", "trigger": "page_load",
        "frequency_days": "7", "max_impressions": "3", "stop_after_click": "on", "url_matching": "contains", "url": "/projects",
        "starts_at": "", "ends_at": "", "holdout_percent": "10",
        "goal_source": "event", "goal_event": "invited_teammate", "goal_action": "", "goal_days": "7", "op": "save",
    }  # fmt: skip
    data.update(overrides)
    return data


@pytest.fixture
def pro(project, send, on_commit):
    send([event("$identify", "ann", **{"$set": {"plan": "pro"}})])
    with on_commit():
        return segment_create(project=project, name="Pro", definition=PRO)


def test_the_list_explains_nudges_when_there_are_none(alice_client, project):
    body = alice_client.get(url(project)).content.decode()
    assert "No nudges yet" in body and "banner" in body and "held out on purpose" in body
    assert f'href="{url(project, "nudges/new/")}"' in body


def test_a_nudge_is_created_from_the_form(alice_client, project, pro):
    response = alice_client.post(
        url(project, "nudges/new/"), form_data(segments=[pro.pk], starts_at="2030-01-02T09:30")
    )
    nudge = Nudge.objects.get()
    assert response.status_code == 302 and response["Location"] == url(project, f"nudges/{nudge.pk}/")
    assert (nudge.title, nudge.cta_url, nudge.holdout_percent, nudge.status) == (
        "Work is better together",
        "/team",
        10,
        "draft",
    )
    assert list(nudge.segments.all()) == [pro]
    assert nudge.goal == {"event": {"name": "invited_teammate", "where": []}, "within_days": 7}
    assert nudge.created_by.email == "alice@acme.test"
    # the schedule is read in the project's time zone
    assert nudge.starts_at == datetime(2030, 1, 2, 9, 30, tzinfo=nudge.starts_at.tzinfo)
    assert nudge.live_since is None


def test_save_and_go_live_sets_live_since(alice_client, project):
    alice_client.post(url(project, "nudges/new/"), form_data(op="save_live"))
    nudge = Nudge.objects.get()
    assert nudge.status == "live" and nudge.live_since is not None


def test_going_live_from_the_edit_page_sets_live_since_once(alice_client, project):
    nudge = services.nudge_save(project=project, data={"name": "n", "title": "t"})
    response = alice_client.post(url(project, f"nudges/{nudge.pk}/status/"), {"status": "live"})
    assert response.status_code == 302 and response["Location"] == url(project, f"nudges/{nudge.pk}/")
    nudge.refresh_from_db()
    first = nudge.live_since
    assert nudge.status == "live" and first is not None
    alice_client.post(url(project, f"nudges/{nudge.pk}/status/"), {"status": "paused"})
    alice_client.post(url(project, f"nudges/{nudge.pk}/status/"), {"status": "live"})
    nudge.refresh_from_db()
    assert nudge.status == "live" and nudge.live_since == first
    alice_client.post(url(project, f"nudges/{nudge.pk}/status/"), {"status": "ended", "confirm": "yes"})
    nudge.refresh_from_db()
    assert nudge.status == "ended"
    page = alice_client.get(url(project, f"nudges/{nudge.pk}/")).content.decode()
    assert "has ended" in page and 'value="live"' in page


def test_an_unknown_status_is_refused_by_name(alice_client, project):
    nudge = services.nudge_save(project=project, data={"name": "n", "title": "t"})
    response = alice_client.post(
        url(project, f"nudges/{nudge.pk}/status/"), {"status": "launched"}, follow=True
    )
    assert "Status: choose live, paused or ended." in response.content.decode()
    nudge.refresh_from_db()
    assert nudge.status == "draft"


def test_form_errors_name_the_field_and_why(alice_client, project):
    response = alice_client.post(
        url(project, "nudges/new/"), form_data(kind="tooltip", title="", holdout_percent="95")
    )
    body = response.content.decode()
    assert response.status_code == 200 and not Nudge.objects.exists()
    assert "Title: This field is required." in body
    # the service's own rules come back on the field they concern
    response = alice_client.post(url(project, "nudges/new/"), form_data(kind="tooltip", holdout_percent="95"))
    body = response.content.decode()
    assert "Holdout (%): A whole percentage between 0 and 90." in body
    response = alice_client.post(url(project, "nudges/new/"), form_data(kind="tooltip"))
    assert (
        "Points at (CSS selector): A tooltip needs the CSS selector of the element it points at."
        in response.content.decode()
    )
    response = alice_client.post(url(project, "nudges/new/"), form_data(cta_url="javascript:alert(1)"))
    assert (
        "Button link: A link starting with https://, http:// or / (a page of this site)."
        in response.content.decode()
    )
    response = alice_client.post(
        url(project, "nudges/new/"), form_data(url_matching="regex", url="(unclosed")
    )
    assert (
        '<small class="error" role="alert">Page URL: invalid regular expression: missing )'
        in response.content.decode()
    )
    response = alice_client.post(url(project, "nudges/new/"), form_data(goal_days="0"))
    assert "Within (days): must be between 1 and 365" in response.content.decode()
    response = alice_client.post(url(project, "nudges/new/"), form_data(goal_event=""))
    assert "Goal event: Name the event people should do" in response.content.decode()
    response = alice_client.post(url(project, "nudges/new/"), form_data(trigger="segment_entry"))
    assert (
        "Target segments: “When the person enters a segment” needs at least one target segment."
        in response.content.decode()
    )
    assert not Nudge.objects.exists()


def test_another_projects_segment_cannot_be_targeted(alice_client, project, other_project):
    theirs = segment_create(project=other_project, name="Theirs", definition=PRO)
    response = alice_client.post(url(project, "nudges/new/"), form_data(segments=[theirs.pk]))
    assert "Target segments: Select a valid choice." in response.content.decode()
    assert not Nudge.objects.exists()


def test_an_edit_keeps_the_goals_property_filters(alice_client, project):
    goal = {
        "event": {"name": "upgraded", "where": [{"property": "plan", "operator": "eq", "value": "pro"}]},
        "within_days": 14,
    }
    nudge = services.nudge_save(project=project, data={"name": "n", "title": "t", "goal": goal})
    page = alice_client.get(url(project, f"nudges/{nudge.pk}/")).content.decode()
    assert 'name="goal_where"' in page and "property filters" in page
    import re

    where = re.search(r'name="goal_where" value="([^"]*)"', page).group(1).replace("&quot;", '"')
    alice_client.post(
        url(project, f"nudges/{nudge.pk}/"),
        form_data(goal_event="upgraded", goal_days="14", goal_where=where),
    )
    nudge.refresh_from_db()
    assert nudge.goal == goal and nudge.name == "Invite teammates"


def test_the_preview_follows_the_unsaved_form(alice_client, project):
    data = form_data(kind="modal", title="Try <b>boards</b>", cta_text="Show me", op="preview")
    fragment = alice_client.post(url(project, "nudges/new/"), data, **HTMX, HTTP_HX_TARGET="nudge-preview")
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert 'class="mock-modal"' in body and "Try &lt;b&gt;boards&lt;/b&gt;" in body and "Show me" in body
    assert not Nudge.objects.exists()


def test_the_preview_without_javascript_renders_the_whole_page(alice_client, project):
    page = alice_client.post(
        url(project, "nudges/new/"), form_data(kind="tooltip", anchor_selector="#invite", op="preview")
    )
    body = page.content.decode()
    assert page.status_code == 200 and "<html" in body and 'id="nudge-form"' in body
    assert 'class="mock-tooltip"' in body and "#invite" in body
    assert not Nudge.objects.exists()


def test_the_list_shows_status_targets_and_reach(alice_client, project, pro, send, on_commit):
    nudge = services.nudge_save(
        project=project, data={"name": "Upgrade", "title": "t", "segments": [pro.pk], "status": "live"}
    )
    with on_commit():
        send([event("$nudge_shown", "ann", **{"$nudge_id": nudge.pk}), event("$nudge_shown", "ann", **{"$nudge_id": nudge.pk}),
              event("$nudge_shown", "bea", **{"$nudge_id": nudge.pk}), event("$nudge_held_out", "cy", **{"$nudge_id": nudge.pk})])  # fmt: skip
    body = alice_client.get(url(project)).content.decode()
    assert '<span class="badge ok">live</span>' in body and '<span class="target">Pro</span>' in body
    assert '<td class="num">2<div class="muted small">1 held out</div></td>' in body
    # no goal yet: nothing to measure lazily
    assert "no goal set" in body and 'hx-trigger="revealed"' not in body


def test_a_nudge_can_be_deleted(alice_client, project):
    nudge = services.nudge_save(project=project, data={"name": "n", "title": "t"})
    response = alice_client.post(url(project, f"nudges/{nudge.pk}/delete/"), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == url(project)
    assert not Nudge.objects.exists()


def test_the_schedule_is_entered_and_shown_in_the_projects_time_zone(alice_client, project):
    project.timezone = "Europe/Paris"
    project.save()
    alice_client.post(
        url(project, "nudges/new/"), form_data(starts_at="2030-01-02T09:30", ends_at="2030-01-09T18:00")
    )
    nudge = Nudge.objects.get()
    assert nudge.starts_at.astimezone(UTC) == datetime(
        2030, 1, 2, 8, 30, tzinfo=UTC
    )  # Paris is UTC+1 in January
    page = alice_client.get(url(project, f"nudges/{nudge.pk}/")).content.decode()
    assert (
        'name="starts_at" value="2030-01-02T09:30"' in page
        and 'name="ends_at" value="2030-01-09T18:00"' in page
    )
    body = alice_client.post(
        url(project, "nudges/new/"), form_data(starts_at="2030-01-09T09:30", ends_at="2030-01-02T09:30")
    ).content.decode()
    assert "Ends: Must be after the start." in body
