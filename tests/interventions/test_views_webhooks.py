"""Webhook pages: create and edit, the secret shown once, a test delivery, the delivery log and resending."""

from __future__ import annotations

import time

import pytest

from interventions import services
from interventions.models import Webhook, WebhookDelivery
from interventions.webhooks import sign, verify
from segments.services import segment_create
from tests.interventions.test_webhooks import Receiver

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
HTMX_SECRET = {**HTMX, "HTTP_HX_TARGET": "webhook-secret"}
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


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(statuses=()):
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield make
    for r in made:
        r.close()


def form_data(segment, **overrides) -> dict:
    data = {
        "name": "CRM",
        "url": "https://crm.example.com/hooks",
        "segments": [segment.pk],
        "on_entry": "on",
        "active": "on",
    }
    data.update(overrides)
    return data


def test_the_list_explains_webhooks_when_there_are_none(alice_client, project):
    body = alice_client.get(url(project, "webhooks/")).content.decode()
    assert "No webhooks yet" in body and "enters or leaves a segment" in body
    assert "only owners and admins can reveal it" in body


def test_the_creator_sees_the_secret_once(amos_client, project, pro):
    """Even a plain member who creates a webhook sees its secret, once: the receiver needs it."""
    response = amos_client.post(url(project, "webhooks/new/"), form_data(pro))
    hook = Webhook.objects.get()
    assert response.status_code == 302 and response["Location"] == url(project, f"webhooks/{hook.pk}/")
    assert (hook.name, hook.url, list(hook.segments.all()), hook.on_entry, hook.on_exit) == (
        "CRM",
        "https://crm.example.com/hooks",
        [pro],
        True,
        False,
    )
    first = amos_client.get(response["Location"]).content.decode()
    assert (
        hook.secret in first
        and "it is shown only this once" in first
        and 'data-copy-target="webhook-secret-value"' in first
    )
    second = amos_client.get(response["Location"]).content.decode()
    assert hook.secret not in second and "Only owners and admins can see the signing secret." in second


def test_the_page_explains_how_to_verify_a_signature(alice_client, project, pro):
    hook = services.webhook_save(
        project=project, data={"name": "h", "url": "https://x.example/h", "segments": [pro.pk]}
    )
    body = alice_client.get(url(project, f"webhooks/{hook.pk}/")).content.decode()
    assert "Sightline-Signature: t=&lt;unix time&gt;,v1=&lt;hex&gt;" in body
    assert "hmac.compare_digest" in body and "hashlib.sha256" in body


def test_revealing_the_secret_with_htmx_swaps_only_the_secret(alice_client, project, pro):
    hook = services.webhook_save(
        project=project, data={"name": "h", "url": "https://x.example/h", "segments": [pro.pk]}
    )
    fragment = alice_client.post(
        url(project, f"webhooks/{hook.pk}/secret/"), **HTMX, HTTP_HX_TARGET="webhook-secret"
    ).content.decode()
    assert (
        fragment.lstrip().startswith('<section class="card" id="webhook-secret">') and hook.secret in fragment
    )
    page = alice_client.post(url(project, f"webhooks/{hook.pk}/secret/")).content.decode()
    assert "<html" in page and hook.secret in page


def test_rotating_the_secret_shows_the_new_one_and_the_old_one_stops_verifying(alice_client, project, pro):
    hook = services.webhook_save(
        project=project, data={"name": "h", "url": "https://x.example/h", "segments": [pro.pk]}
    )
    old = hook.secret
    body, timestamp = b'{"event": "segment.entered"}', int(time.time())
    header = sign(old, timestamp, body)
    assert verify(old, header, body)
    fragment = alice_client.post(
        url(project, f"webhooks/{hook.pk}/secret/rotate/"), **HTMX_SECRET
    ).content.decode()
    hook.refresh_from_db()
    assert hook.secret != old and hook.secret.startswith("whsec_")
    assert fragment.lstrip().startswith('<section class="card" id="webhook-secret">')
    assert hook.secret in fragment and old not in fragment and "the old one no longer verifies" in fragment
    assert not verify(hook.secret, header, body)
    assert verify(hook.secret, sign(hook.secret, timestamp, body), body)
    # without JavaScript the whole page comes back, the new secret in it
    page = alice_client.post(url(project, f"webhooks/{hook.pk}/secret/rotate/")).content.decode()
    hook.refresh_from_db()
    assert "<html" in page and hook.secret in page


def test_webhook_errors_name_the_field(alice_client, project, pro):
    body = alice_client.post(
        url(project, "webhooks/new/"), form_data(pro, url="ftp://x.example")
    ).content.decode()
    assert "URL: An http:// or https:// URL." in body
    body = alice_client.post(url(project, "webhooks/new/"), form_data(pro, segments=[])).content.decode()
    assert "Segments: This field is required." in body
    body = alice_client.post(
        url(project, "webhooks/new/"), {**form_data(pro), "on_entry": ""}
    ).content.decode()
    assert "When someone enters: Send on entry, on exit, or both." in body
    assert not Webhook.objects.exists()


def test_an_edit_changes_the_webhook_but_not_its_secret(alice_client, project, pro):
    hook = services.webhook_save(
        project=project, data={"name": "h", "url": "https://x.example/h", "segments": [pro.pk]}
    )
    secret = hook.secret
    response = alice_client.post(
        url(project, f"webhooks/{hook.pk}/"), form_data(pro, name="Renamed", on_exit="on", active="")
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.name, hook.on_exit, hook.active, hook.secret) == ("Renamed", True, False, secret)


def test_send_test_delivers_a_signed_request_and_logs_it(alice_client, project, pro, receiver, on_commit):
    server = receiver([200])
    hook = services.webhook_save(project=project, data={"name": "h", "url": server.url, "segments": [pro.pk]})
    with on_commit():
        response = alice_client.post(url(project, f"webhooks/{hook.pk}/test/"))
    assert response.status_code == 302 and response["Location"] == url(
        project, f"webhooks/{hook.pk}/deliveries/"
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.event, delivery.state, delivery.attempts, delivery.last_status_code) == (
        "test",
        "delivered",
        1,
        200,
    )
    headers, body = server.received[0]
    assert verify(hook.secret, headers["Sightline-Signature"], body)
    log = alice_client.get(response["Location"]).content.decode()
    assert f'<tr id="delivery-{delivery.pk}">' in log and '<span class="badge ok">delivered</span>' in log
    assert "&quot;event&quot;: &quot;test&quot;" in log  # the payload, on expand
    assert '<td class="num">200</td>' in log and " ms</td>" in log


def test_resend_from_the_log_tries_again_and_swaps_the_row(alice_client, project, pro, receiver, on_commit):
    server = receiver([500, 200])
    hook = services.webhook_save(project=project, data={"name": "h", "url": server.url, "segments": [pro.pk]})
    with on_commit():
        alice_client.post(url(project, f"webhooks/{hook.pk}/test/"))
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "retrying" and delivery.last_status_code == 500
    log = alice_client.get(url(project, f"webhooks/{hook.pk}/deliveries/")).content.decode()
    assert '<span class="badge warn">retrying</span>' in log and "HTTP 500" in log
    resend = url(project, f"webhooks/{hook.pk}/deliveries/{delivery.pk}/resend/")
    with on_commit():
        fragment = alice_client.post(
            resend, **HTMX, HTTP_HX_TARGET=f"delivery-{delivery.pk}"
        ).content.decode()
    assert fragment.lstrip().startswith(f'<tr id="delivery-{delivery.pk}">') and "<html" not in fragment
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 2 and len(server.received) == 2


def test_resend_without_javascript_returns_to_the_log(alice_client, project, pro):
    hook = services.webhook_save(
        project=project, data={"name": "h", "url": "http://127.0.0.1:9/", "segments": [pro.pk]}
    )
    delivery = WebhookDelivery.objects.create(
        project=project, webhook=hook, event="test", payload={}, state="failed", attempts=6
    )
    response = alice_client.post(url(project, f"webhooks/{hook.pk}/deliveries/{delivery.pk}/resend/"))
    assert response.status_code == 302 and response["Location"] == url(
        project, f"webhooks/{hook.pk}/deliveries/"
    )
    delivery.refresh_from_db()
    assert delivery.state == "pending"


def test_a_delivery_of_another_webhook_is_not_found(alice_client, project, pro):
    one = services.webhook_save(
        project=project, data={"name": "one", "url": "http://127.0.0.1:9/", "segments": [pro.pk]}
    )
    two = services.webhook_save(
        project=project, data={"name": "two", "url": "http://127.0.0.1:9/", "segments": [pro.pk]}
    )
    delivery = WebhookDelivery.objects.create(
        project=project, webhook=two, event="test", payload={}, state="failed"
    )
    assert (
        alice_client.post(url(project, f"webhooks/{one.pk}/deliveries/{delivery.pk}/resend/")).status_code
        == 404
    )
    delivery.refresh_from_db()
    assert delivery.state == "failed"


def test_the_log_pages_with_htmx(alice_client, project, pro):
    hook = services.webhook_save(
        project=project, data={"name": "h", "url": "http://127.0.0.1:9/", "segments": [pro.pk]}
    )
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                project=project, webhook=hook, event="segment.entered", payload={"n": i}, state="delivered"
            )
            for i in range(55)
        ]
    )
    page = alice_client.get(url(project, f"webhooks/{hook.pk}/deliveries/")).content.decode()
    assert page.count('<tr id="delivery-') == 50 and "Page 1 of 2" in page
    fragment = alice_client.get(
        url(project, f"webhooks/{hook.pk}/deliveries/?page=2"), **HTMX, HTTP_HX_TARGET="deliveries"
    ).content.decode()
    assert fragment.lstrip().startswith('<section class="card table-scroll" id="deliveries">')
    assert fragment.count('<tr id="delivery-') == 5 and "<html" not in fragment


def test_the_log_refreshes_itself_while_a_delivery_is_on_its_way(alice_client, project, pro):
    hook = services.webhook_save(
        project=project, data={"name": "h", "url": "http://127.0.0.1:9/", "segments": [pro.pk]}
    )
    delivery = WebhookDelivery.objects.create(project=project, webhook=hook, event="test", payload={})
    log = url(project, f"webhooks/{hook.pk}/deliveries/")
    assert 'hx-trigger="every 3s"' in alice_client.get(log).content.decode()
    poll = alice_client.get(log, **HTMX, HTTP_HX_TARGET="deliveries").content.decode()
    assert poll.lstrip().startswith('<section class="card table-scroll" id="deliveries" hx-get=')
    delivery.state = "delivered"
    delivery.save()
    assert 'hx-trigger="every 3s"' not in alice_client.get(log).content.decode()
