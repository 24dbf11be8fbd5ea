"""django-q2 tasks: thin, they take ids and call a service."""

from __future__ import annotations


def deliver_webhook(delivery_id: int) -> str | None:
    from interventions.models import WebhookDelivery
    from interventions.webhooks import deliver

    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.state in (WebhookDelivery.State.DELIVERED, WebhookDelivery.State.FAILED):
        return None
    return deliver(delivery).state


def retry_webhooks() -> int:
    from interventions.webhooks import retry_due

    return retry_due()


def check_alerts() -> int:
    from interventions.alerts import check_alerts as run

    return run()
