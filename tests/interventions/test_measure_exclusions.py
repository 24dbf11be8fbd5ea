"""Intervention measurements leave bots and internal users out unless asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from interventions import services
from interventions.measure import measure
from tests.ingest.conftest import UA_CHROME, event
from tracking.traffic.filtering import EVERYONE

pytestmark = pytest.mark.django_db

UA_URLLIB = "Python-urllib/3.11"


@pytest.fixture
def nudge(project, send, on_commit):
    """A nudge shown to a person and to a bot; both reach the goal within the hour."""
    nudge = services.nudge_save(project=project, data={"name": "Upgrade", "title": "Upgrade", "status": "live",
                                                       "goal": {"event": {"name": "upgraded"}, "within_days": 7}})  # fmt: skip
    t0 = datetime.now(UTC) - timedelta(days=3)
    with on_commit():
        for who, ua in (("person", UA_CHROME), ("bot", UA_URLLIB)):
            send(
                [event("$nudge_shown", who, session_id=who, timestamp=t0.isoformat(), **{"$nudge_id": nudge.pk}),
                 event("upgraded", who, session_id=who, timestamp=(t0 + timedelta(hours=1)).isoformat())],
                headers={"HTTP_USER_AGENT": ua},
            )  # fmt: skip
    return nudge


def _persons(result) -> dict:
    return {g["label"]: g["persons"] for g in result.as_dict()["groups"]}


def test_measurements_leave_bots_out_unless_asked(events_backend, project, nudge):
    assert _persons(measure(project=project, kind="nudge", obj=nudge)) == {"exposed": 1}
    assert _persons(measure(project=project, kind="nudge", obj=nudge, traffic=EVERYONE)) == {"exposed": 2}


def test_the_results_page_says_how_many_bot_sessions_were_excluded(alice_client, project, nudge):
    url = f"/p/{project.pk}/interventions/nudges/{nudge.pk}/results/"
    page = alice_client.get(url)
    assert page.status_code == 200
    assert "1 bot session excluded" in page.content.decode()
    included = alice_client.get(url, {"include_bots": "on"})
    assert "bots included" in included.content.decode()
    fragment = alice_client.get(
        url, {"include_bots": "on"}, headers={"HX-Request": "true", "HX-Target": "measurement"}
    )
    assert fragment.status_code == 200 and "bots included" in fragment.content.decode()


def test_the_measurement_api_takes_the_switches(client, alice_api_key, project, nudge):
    base = f"/api/v1/projects/{project.pk}/nudges/{nudge.pk}/results/"
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice_api_key}"}
    default = client.get(base, **auth)
    assert default.status_code == 200
    assert {g["label"]: g["persons"] for g in default.json()["groups"]} == {"exposed": 1}
    everyone = client.get(base, {"include_bots": "true"}, **auth)
    assert {g["label"]: g["persons"] for g in everyone.json()["groups"]} == {"exposed": 2}
