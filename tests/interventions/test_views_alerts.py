"""Segment alert pages: create, edit, delete, and when each alert last fired."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from interventions import services
from interventions.alerts import check_alerts
from interventions.models import SegmentAlert
from segments.models import SegmentSizeSnapshot
from segments.services import segment_create

pytestmark = pytest.mark.django_db

PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


def url(project, rest: str = "") -> str:
    return f"/p/{project.pk}/interventions/{rest}"


@pytest.fixture
def pro(project, on_commit):
    with on_commit():
        return segment_create(project=project, name="Pro", definition=PRO)


def form_data(segment, **overrides) -> dict:
    data = {
        "segment": segment.pk,
        "threshold_percent": "25",
        "window": "week",
        "emails": "growth@acme.test\n ops@acme.test ",
        "webhook": "",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_the_list_explains_alerts_when_there_are_none(alice_client, project):
    body = alice_client.get(url(project, "alerts/")).content.decode()
    assert "No alerts yet" in body and "within a day or a week" in body


def test_an_alert_is_created_edited_and_deleted(alice_client, project, pro):
    response = alice_client.post(url(project, "alerts/new/"), form_data(pro))
    assert response.status_code == 302 and response["Location"] == url(project, "alerts/")
    alert = SegmentAlert.objects.get()
    assert (alert.segment, alert.threshold_percent, alert.window, alert.emails) == (
        pro,
        25,
        "week",
        "growth@acme.test\nops@acme.test",
    )
    hook = services.webhook_save(
        project=project, data={"name": "Slack", "url": "https://hooks.example/x", "segments": [pro.pk]}
    )
    alice_client.post(
        url(project, f"alerts/{alert.pk}/"),
        form_data(pro, threshold_percent="10", window="day", emails="", webhook=hook.pk),
    )
    alert.refresh_from_db()
    assert (alert.threshold_percent, alert.window, alert.emails, alert.webhook) == (10, "day", "", hook)
    response = alice_client.post(url(project, f"alerts/{alert.pk}/delete/"), {"confirm": "yes"})
    assert response.status_code == 302 and not SegmentAlert.objects.exists()


def test_alert_errors_name_the_field(alice_client, project, pro, other_project):
    body = alice_client.post(
        url(project, "alerts/new/"), form_data(pro, emails="growth@acme.test\nnot-an-address")
    ).content.decode()
    assert "E-mail: “not-an-address” is not an e-mail address." in body
    body = alice_client.post(
        url(project, "alerts/new/"), form_data(pro, threshold_percent="0")
    ).content.decode()
    assert "When its size moves by (%): Ensure this value is greater than or equal to 1." in body
    theirs = segment_create(project=other_project, name="Theirs", definition=PRO)
    body = alice_client.post(url(project, "alerts/new/"), form_data(theirs)).content.decode()
    assert "Segment: Select a valid choice." in body
    assert not SegmentAlert.objects.exists()


def test_the_list_shows_when_each_alert_last_triggered_and_by_how_much(alice_client, project, pro):
    alert = services.alert_save(
        project=project, data={"segment": pro.pk, "threshold_percent": 20, "window": "day"}
    )
    body = alice_client.get(url(project, "alerts/")).content.decode()
    assert "±20% within a day" in body and '<span class="muted">never</span>' in body
    SegmentSizeSnapshot.objects.create(
        project=project, segment=pro, date=datetime(2026, 11, 27).date(), size=100
    )
    SegmentSizeSnapshot.objects.create(
        project=project, segment=pro, date=datetime(2026, 11, 28).date(), size=140
    )
    with time_machine.travel(datetime(2026, 11, 28, 12, 0, tzinfo=UTC)):
        assert check_alerts() == 1
    body = alice_client.get(url(project, "alerts/")).content.decode()
    assert "Nov 28, 2026" in body and '<span class="badge ok">+40.0%</span>' in body
    page = alice_client.get(url(project, f"alerts/{alert.pk}/")).content.decode()
    assert "Last triggered Nov 28, 2026" in page and "+40.0%" in page


def test_a_new_alert_can_start_from_a_segment(alice_client, project, pro):
    body = alice_client.get(url(project, f"alerts/new/?segment={pro.pk}")).content.decode()
    assert f'<option value="{pro.pk}" selected>Pro</option>' in body
