"""Who may see and change the Interventions pages: every page and action, for members and for strangers."""

from __future__ import annotations

import pytest

from interventions import services
from interventions.models import FeatureFlag, Nudge, SegmentAlert, Survey, Webhook, WebhookDelivery
from segments.services import segment_create

pytestmark = pytest.mark.django_db

PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}
QUESTIONS = [{"key": "nps", "type": "rating", "prompt": "Recommend us?", "scale": 10}]
GOAL = {"event": {"name": "upgraded"}, "within_days": 7}


@pytest.fixture
def objects(project, on_commit) -> dict:
    """One of everything in project A."""
    with on_commit():
        segment = segment_create(project=project, name="Pro", definition=PRO)
    nudge = services.nudge_save(
        project=project, data={"name": "Upgrade", "title": "Go pro", "segments": [segment.pk], "goal": GOAL}
    )
    survey = services.survey_save(
        project=project, data={"name": "NPS", "key": "nps", "questions": QUESTIONS, "goal": GOAL}
    )
    flag = services.flag_save(
        project=project,
        data={"key": "new-nav", "rules": [{"segment": segment.pk, "rollout": 50}], "goal": GOAL},
    )
    hook = services.webhook_save(
        project=project, data={"name": "CRM", "url": "http://127.0.0.1:9/hook", "segments": [segment.pk]}
    )
    delivery = WebhookDelivery.objects.create(
        project=project, webhook=hook, event="test", payload={"event": "test"}
    )
    alert = services.alert_save(
        project=project, data={"segment": segment.pk, "threshold_percent": 20, "emails": "a@acme.test"}
    )
    return {
        "segment": segment,
        "nudge": nudge,
        "survey": survey,
        "flag": flag,
        "webhook": hook,
        "delivery": delivery,
        "alert": alert,
    }


def pages(project, o: dict) -> list[str]:
    p = f"/p/{project.pk}/interventions/"
    n, s, f, w, a = (o[k].pk for k in ("nudge", "survey", "flag", "webhook", "alert"))
    return [
        p, f"{p}surveys/", f"{p}flags/", f"{p}webhooks/", f"{p}alerts/", f"{p}strategy/",
        f"{p}nudges/new/", f"{p}nudges/{n}/", f"{p}nudges/{n}/results/",
        f"{p}surveys/new/", f"{p}surveys/{s}/", f"{p}surveys/{s}/results/",
        f"{p}flags/new/", f"{p}flags/{f}/", f"{p}flags/{f}/results/",
        f"{p}webhooks/new/", f"{p}webhooks/{w}/", f"{p}webhooks/{w}/deliveries/",
        f"{p}alerts/new/", f"{p}alerts/{a}/",
    ]  # fmt: skip


CONFIRM = {
    "confirm": "yes"
}  # destructive posts ask first without it (tests/interventions/test_confirmations.py)


def actions(project, o: dict) -> list[tuple[str, dict]]:
    """POST endpoints that change something, with a body that would succeed."""
    p = f"/p/{project.pk}/interventions/"
    n, s, f, w, d, a = (o[k].pk for k in ("nudge", "survey", "flag", "webhook", "delivery", "alert"))
    return [
        (f"{p}nudges/{n}/status/", {"status": "live"}),
        (f"{p}surveys/{s}/status/", {"status": "paused"}),
        (f"{p}flags/{f}/switch/", {"enabled": "on"}),
        (f"{p}webhooks/{w}/test/", {}),
        (f"{p}webhooks/{w}/deliveries/{d}/resend/", {}),
        (f"{p}webhooks/{w}/secret/", {}),
        (f"{p}webhooks/{w}/secret/rotate/", {}),
        (f"{p}alerts/{a}/delete/", CONFIRM),
        (f"{p}webhooks/{w}/delete/", CONFIRM),
        (f"{p}nudges/{n}/delete/", CONFIRM),
        (f"{p}surveys/{s}/delete/", CONFIRM),
        (f"{p}flags/{f}/delete/", CONFIRM),
    ]


def lifts(project, o: dict) -> list[str]:
    p = f"/p/{project.pk}/interventions/"
    return [
        f"{p}nudges/{o['nudge'].pk}/lift/",
        f"{p}surveys/{o['survey'].pk}/lift/",
        f"{p}flags/{o['flag'].pk}/lift/",
    ]


def test_every_page_answers_the_owner(alice_client, project, objects):
    for url in pages(project, objects):
        response = alice_client.get(url)
        assert response.status_code == 200, url


def test_every_page_is_not_found_for_another_projects_member(bob_client, project, objects):
    for url in pages(project, objects) + lifts(project, objects):
        assert bob_client.get(url).status_code == 404, url
        assert bob_client.get(url, HTTP_HX_REQUEST="true").status_code == 404, url


def test_every_action_is_not_found_for_another_projects_member_and_changes_nothing(
    bob_client, project, objects
):
    for url, body in actions(project, objects):
        assert bob_client.post(url, body).status_code == 404, url
    objects["nudge"].refresh_from_db()
    assert objects["nudge"].status == "draft" and objects["nudge"].live_since is None
    assert not FeatureFlag.objects.get(pk=objects["flag"].pk).enabled
    assert (
        Nudge.objects.count()
        == Survey.objects.count()
        == Webhook.objects.count()
        == SegmentAlert.objects.count()
        == 1
    )
    assert WebhookDelivery.objects.count() == 1  # no test delivery was queued


def test_another_projects_objects_are_not_found_through_ones_own_project(
    bob_client, bob, other_project, project, objects
):
    """Bob asks for project A's objects under his own project B's address."""
    p = f"/p/{other_project.pk}/interventions/"
    o = objects
    for url in [f"{p}nudges/{o['nudge'].pk}/", f"{p}nudges/{o['nudge'].pk}/results/", f"{p}surveys/{o['survey'].pk}/results/",
                f"{p}flags/{o['flag'].pk}/", f"{p}webhooks/{o['webhook'].pk}/deliveries/", f"{p}alerts/{o['alert'].pk}/"]:  # fmt: skip
        assert bob_client.get(url).status_code == 404, url
    resend = f"{p}webhooks/{o['webhook'].pk}/deliveries/{o['delivery'].pk}/resend/"
    assert bob_client.post(resend).status_code == 404
    assert bob_client.post(f"{p}nudges/{o['nudge'].pk}/status/", {"status": "live"}).status_code == 404
    # and the strategy page of his own project knows nothing of A's segments
    body = bob_client.get(f"{p}strategy/").content.decode()
    assert "Pro" not in body and "Upgrade" not in body


def test_every_action_works_for_the_owner(alice_client, project, objects):
    for url, body in actions(project, objects):
        assert alice_client.post(url, body).status_code in (200, 302), url
    assert not Nudge.objects.exists() and not FeatureFlag.objects.exists() and not Webhook.objects.exists()


def test_a_plain_member_may_create_and_change_interventions(amos_client, project, objects):
    """Interventions are product work: members create, edit, launch and resend, like owners."""
    for url in pages(project, objects):
        assert amos_client.get(url).status_code == 200, url
    for url, body in actions(project, objects):
        if url.endswith(("/secret/", "/secret/rotate/")):
            continue
        assert amos_client.post(url, body).status_code in (200, 302), url
    assert not Nudge.objects.exists()


def test_only_owners_and_admins_may_reveal_a_webhook_secret(amos_client, alice_client, project, objects):
    hook = objects["webhook"]
    url = f"/p/{project.pk}/interventions/webhooks/{hook.pk}/"
    member_page = amos_client.get(url).content.decode()
    assert hook.secret not in member_page
    assert "Only owners and admins can see the signing secret." in member_page
    assert amos_client.post(f"{url}secret/").status_code == 403
    owner_page = alice_client.get(url).content.decode()
    assert hook.secret not in owner_page and "Reveal the secret" in owner_page
    revealed = alice_client.post(f"{url}secret/")
    assert revealed.status_code == 200 and hook.secret in revealed.content.decode()


def test_only_owners_and_admins_may_rotate_a_webhook_secret(amos_client, alice_client, project, objects):
    hook = objects["webhook"]
    url = f"/p/{project.pk}/interventions/webhooks/{hook.pk}/"
    secret = hook.secret
    assert "Rotate the secret" not in amos_client.get(url).content.decode()
    assert amos_client.post(f"{url}secret/rotate/").status_code == 403
    hook.refresh_from_db()
    assert hook.secret == secret
    assert "Rotate the secret" in alice_client.get(url).content.decode()


def test_the_nav_entry_leads_to_the_interventions_list(alice_client, project):
    body = alice_client.get(f"/p/{project.pk}/overview/").content.decode()
    assert f'href="/p/{project.pk}/interventions/"' in body
    page = alice_client.get(f"/p/{project.pk}/interventions/").content.decode()
    assert "No nudges yet" in page and "Coming" not in page
