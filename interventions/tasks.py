"""django-q2 tasks: thin, they take ids and call a service."""

from __future__ import annotations

from interventions import alerts
from interventions.models import WebhookDelivery
from interventions.webhooks import deliver, retry_due


def deliver_webhook(delivery_id: int) -> str | None:
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.state in (WebhookDelivery.State.DELIVERED, WebhookDelivery.State.FAILED):
        return None
    return deliver(delivery).state


def retry_webhooks() -> int:
    return retry_due()


def check_alerts() -> int:
    return alerts.check_alerts()
