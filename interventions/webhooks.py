"""Webhooks on segment entry and exit: signed, retried with backoff, logged.

Each delivery is its own task with a short timeout, so a receiver that hangs
delays only its own deliveries. Failed attempts are retried by a periodic task
(every minute) after 1, 5, 30, 120 and 360 minutes; then the delivery is marked
failed and can be resent from the delivery log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django_q.tasks import async_task

from interventions.models import Webhook, WebhookDelivery
from segments.models import Segment
from segments.signals import membership_changed
from tracking.models import Company, Person

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 5
BACKOFF_MINUTES = [1, 5, 30, 120, 360]
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
USER_AGENT = "Sightline-Webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` — receivers recompute it with their secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance_seconds: int = 300) -> bool:
    """What a receiver does (documented; also used by the tests)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def _company_payload(company: Company) -> dict:
    return {"id": company.pk, "key": company.key, "properties": company.properties}


def _person_payload(person: Person) -> dict:
    return {
        "id": person.pk,
        "distinct_ids": [d.distinct_id for d in person.distinct_ids.all()],
        "properties": person.properties,
    }


def enqueue(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        async_task("interventions.tasks.deliver_webhook", delivery_id, task_name=f"webhook-{delivery_id}")


@receiver(membership_changed)
def _on_membership_changed(
    sender, segment_id: int, project_id: int, entered, exited, initial=False, subject="person", **kwargs
) -> None:
    """Entries and exits after a segment's first computation become deliveries.

    A person segment's payload carries `person`; a company segment's `company`.
    """
    if initial:
        return  # a new segment's first members did not "enter": they were already there
    hooks = list(
        Webhook.objects.filter(project_id=project_id, active=True, segments__id=segment_id).distinct()
    )
    if not hooks:
        return

    segment = Segment.objects.filter(pk=segment_id).only("name").first()
    if segment is None:
        return
    now = timezone.now()
    changed = [*entered, *exited]
    if subject == "company":
        companies = Company.objects.filter(project_id=project_id, pk__in=changed)
        members = {c.pk: _company_payload(c) for c in companies}
    else:
        found = Person.objects.filter(project_id=project_id, pk__in=changed).prefetch_related("distinct_ids")
        members = {p.pk: _person_payload(p) for p in found}
    deliveries = []
    for hook in hooks:
        for event, member_ids, wanted in (
            ("segment.entered", entered, hook.on_entry),
            ("segment.exited", exited, hook.on_exit),
        ):
            if not wanted:
                continue
            for member_id in member_ids:
                member = members.get(member_id)
                if member is None:
                    continue
                deliveries.append(
                    WebhookDelivery(
                        project_id=project_id,
                        webhook=hook,
                        event=event,
                        payload={
                            "event": event,
                            "occurred_at": now.isoformat(),
                            "segment": {"id": segment_id, "name": segment.name},
                            subject: member,
                        },
                    )
                )
    if deliveries:
        created = WebhookDelivery.objects.bulk_create(deliveries)
        ids = [d.pk for d in created]
        transaction.on_commit(lambda: enqueue(ids))


def post_signed(
    url: str, *, secret: str, body: bytes, headers: dict[str, str]
) -> tuple[int | None, str, int]:
    """POST a signed JSON body with the short timeout: (HTTP status or None, error, milliseconds taken)."""
    request = urllib.request.Request(  # noqa: S310 - the URL is the customer's own http(s) endpoint
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **headers,
            "Sightline-Signature": sign(secret, int(time.time()), body),
        },
    )
    started = time.monotonic()
    status, error = None, ""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status, error = exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        error = str(getattr(exc, "reason", exc))[:500] or type(exc).__name__
    return status, error, int((time.monotonic() - started) * 1000)


def backoff_minutes(attempts: int) -> int:
    """Minutes to wait after the `attempts`-th failure in a row (the last step repeats)."""
    return BACKOFF_MINUTES[min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1]


def deliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """One attempt: POST the signed payload; schedule a retry or give up."""
    hook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    status, error, duration_ms = post_signed(
        hook.url,
        secret=hook.secret,
        body=body,
        headers={"Sightline-Event": delivery.event, "Sightline-Delivery": str(delivery.pk)},
    )
    delivery.attempts += 1
    delivery.last_status_code = status
    delivery.last_error = error
    delivery.last_duration_ms = duration_ms
    if status is not None and 200 <= status < 300:
        delivery.state = WebhookDelivery.State.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = WebhookDelivery.State.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.state = WebhookDelivery.State.RETRYING
        delivery.next_attempt_at = timezone.now() + timedelta(minutes=backoff_minutes(delivery.attempts))
    delivery.save()
    return delivery


def retry_due() -> int:
    """Queue the deliveries whose next attempt is due (run every minute)."""
    due = list(
        WebhookDelivery.objects.filter(
            state=WebhookDelivery.State.RETRYING, next_attempt_at__lte=timezone.now()
        ).values_list("pk", flat=True)[:1000]
    )
    WebhookDelivery.objects.filter(pk__in=due).update(next_attempt_at=None)
    enqueue(due)
    return len(due)


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """From the delivery log: try again now, whatever happened before."""
    delivery.state = WebhookDelivery.State.PENDING
    delivery.next_attempt_at = None
    delivery.save(update_fields=["state", "next_attempt_at"])
    transaction.on_commit(lambda: enqueue([delivery.pk]))
    return delivery


def send_test(webhook: Webhook) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        project_id=webhook.project_id,
        webhook=webhook,
        event="test",
        payload={
            "event": "test",
            "occurred_at": timezone.now().isoformat(),
            "webhook": {"id": webhook.pk, "name": webhook.name},
        },
    )
    transaction.on_commit(lambda: enqueue([delivery.pk]))
    return delivery
