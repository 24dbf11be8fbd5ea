"""django-q2 tasks: thin, they take ids and call a service."""

from __future__ import annotations

from interventions import alerts, sync_files, sync_push, syncs
from interventions.models import SegmentSync, WebhookDelivery
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


def sync_files_due() -> int:
    syncs.sync_runs_close_interrupted()
    return sync_files.queue_files_due()


def write_sync_file(sync_id: int) -> str | None:
    sync = SegmentSync.objects.select_related("project", "segment").filter(pk=sync_id).first()
    if sync is None or not sync.daily_file:
        return None
    return sync_files.sync_file_write(sync).status


def sync_pushes_due() -> int:
    return sync_push.queue_pushes_due()


def push_sync(sync_id: int) -> int | None:
    run = sync_push.push_claimed(sync_id)
    return run.rows if run is not None else None
