"""Webhooks reach a real HTTP receiver on 127.0.0.1, signed, and are retried after failures."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone

from interventions import services
from interventions.models import WebhookDelivery
from interventions.webhooks import retry_due, verify
from segments.services import segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


class Receiver:
    """A local HTTP server answering the statuses it is told to, recording what it got."""

    def __init__(self, statuses: list[int], delay: float = 0.0):
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                time.sleep(delay)
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=(), delay=0.0):
        made.append(Receiver(list(statuses), delay))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_an_entry_is_delivered_signed_and_retried_after_a_500(project, send, on_commit, receiver):
    hook_server = receiver([500, 200])
    with on_commit():
        segment = segment_create(project=project, name="Pro", definition=PRO)
    hook = services.webhook_save(
        project=project, data={"name": "CRM", "url": hook_server.url, "segments": [segment.pk]}
    )
    with on_commit():
        send([event("$identify", "ann", **{"$set": {"plan": "pro", "email": "ann@x.io"}})])
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "retrying" and delivery.last_status_code == 500 and delivery.attempts == 1
    headers, body = hook_server.received[0]
    assert verify(hook.secret, headers["Sightline-Signature"], body)
    assert not verify("wrong-secret", headers["Sightline-Signature"], body)
    assert b'"event":"segment.entered"' in body and b"ann@x.io" in body
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 2
    assert len(hook_server.received) == 2


def test_a_hanging_receiver_does_not_block_other_deliveries(project, send, on_commit, receiver):
    slow, fast = receiver(delay=8), receiver()
    with on_commit():
        segment = segment_create(project=project, name="Pro", definition=PRO)
    services.webhook_save(project=project, data={"name": "slow", "url": slow.url, "segments": [segment.pk]})
    services.webhook_save(project=project, data={"name": "fast", "url": fast.url, "segments": [segment.pk]})
    started = time.monotonic()
    with on_commit():
        send([event("$identify", "ann", **{"$set": {"plan": "pro"}})])
    elapsed = time.monotonic() - started
    states = dict(WebhookDelivery.objects.values_list("webhook__name", "state"))
    assert states == {"slow": "retrying", "fast": "delivered"}
    assert WebhookDelivery.objects.get(webhook__name="slow").last_error  # timed out
    assert elapsed < 8  # the slow receiver was cut off by the delivery timeout


def test_resend_tries_again_now(project, on_commit, receiver):
    server = receiver([503])
    with on_commit():
        segment = segment_create(project=project, name="Pro", definition=PRO)
    hook = services.webhook_save(
        project=project, data={"name": "h", "url": server.url, "segments": [segment.pk]}
    )
    from interventions.webhooks import resend, send_test

    with on_commit():
        delivery = send_test(hook)
    delivery.refresh_from_db()
    assert delivery.state == "retrying"
    with on_commit():
        resend(delivery)
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 2
