"""Destructive buttons ask first: without `confirm=yes` the post answers a question page and changes nothing."""

from __future__ import annotations

import pytest

from interventions import services
from interventions.models import FeatureFlag, Nudge, SegmentAlert, Survey, Webhook
from tests.interventions.test_views_access import objects  # noqa: F401 (a fixture)
from tracking.models import PersonalApiKey

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def deletes(project, o: dict) -> list[tuple[str, str, type]]:
    p = f"/p/{project.pk}/interventions/"
    return [
        (f"{p}webhooks/{o['webhook'].pk}/delete/", "Delete the webhook “CRM”?", Webhook),
        (f"{p}nudges/{o['nudge'].pk}/delete/", "Delete the nudge “Upgrade”?", Nudge),
        (f"{p}surveys/{o['survey'].pk}/delete/", "Delete the survey “NPS”?", Survey),
        (f"{p}flags/{o['flag'].pk}/delete/", "Delete the flag “new-nav”?", FeatureFlag),
        (f"{p}alerts/{o['alert'].pk}/delete/", "Delete the alert on “Pro”?", SegmentAlert),
    ]


def test_a_delete_without_confirming_asks_and_deletes_nothing(alice_client, project, objects):  # noqa: F811
    for url, question, model in deletes(project, objects):
        for headers in ({}, HTMX):
            response = alice_client.post(url, **headers)
            assert response.status_code == 200, url
            body = response.content.decode()
            assert question in body, url
            assert '<input type="hidden" name="confirm" value="yes">' in body
            assert f'action="{url}"' in body
        assert model.objects.count() == 1, url


def test_a_confirmed_delete_deletes(alice_client, project, objects):  # noqa: F811
    for url, _question, model in deletes(project, objects):
        response = alice_client.post(url, {"confirm": "yes"})
        assert response.status_code == 302, url
        assert not model.objects.exists(), url


def test_ending_a_live_nudge_asks_first_and_keeps_the_status_to_post_again(alice_client, project, objects):  # noqa: F811
    nudge = objects["nudge"]
    services.nudge_save(project=project, data={"status": "live"}, nudge=nudge)
    status_url = f"/p/{project.pk}/interventions/nudges/{nudge.pk}/status/"
    for headers in ({}, HTMX):
        response = alice_client.post(status_url, {"status": "ended"}, **headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert "End the nudge “Upgrade”?" in body and "It is live now" in body
        assert '<input type="hidden" name="status" value="ended">' in body
    nudge.refresh_from_db()
    assert nudge.status == "live"

    response = alice_client.post(status_url, {"status": "ended", "confirm": "yes"})
    assert response.status_code == 302
    nudge.refresh_from_db()
    assert nudge.status == "ended"


def test_pausing_needs_no_confirmation(alice_client, project, objects):  # noqa: F811
    survey = objects["survey"]
    response = alice_client.post(
        f"/p/{project.pk}/interventions/surveys/{survey.pk}/status/", {"status": "paused"}
    )
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.status == "paused"


def test_revoking_an_api_key_asks_first(alice_client, project, alice_api_key):
    key = PersonalApiKey.objects.get()
    url = f"/p/{project.pk}/settings/api-keys/{key.pk}/revoke/"
    for headers in ({}, HTMX):
        response = alice_client.post(url, **headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert f"Revoke the key “{key.label}”?" in body and f"{key.prefix}…" in body
    key.refresh_from_db()
    assert key.revoked_at is None
    assert alice_client.post(url, {"confirm": "yes"}).status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_another_projects_member_gets_404_before_any_question(bob_client, project, objects):  # noqa: F811
    for url, _question, model in deletes(project, objects):
        assert bob_client.post(url).status_code == 404, url
        assert model.objects.count() == 1
