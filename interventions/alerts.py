"""Segment alerts: a segment whose size moves fast is worth a message, the moment it happens."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from interventions.models import SegmentAlert, WebhookDelivery
from interventions.webhooks import enqueue
from segments.models import SegmentSizeSnapshot

log = logging.getLogger(__name__)


def size_change(alert: SegmentAlert, *, today) -> tuple[int, int, float] | None:
    """(before, now, percent change) over the alert's window, from daily snapshots; None without history."""
    days = 1 if alert.window == SegmentAlert.Window.DAY else 7
    snapshots = dict(
        SegmentSizeSnapshot.objects.filter(
            segment_id=alert.segment_id, date__gte=today - timedelta(days=days)
        ).values_list("date", "size")
    )
    current = snapshots.get(today)
    before = snapshots.get(today - timedelta(days=days))
    if current is None or before is None:
        return None
    if before == 0:
        return (before, current, 100.0 if current else 0.0)
    return before, current, (current - before) * 100.0 / before


def check_alerts() -> int:
    """Notify every active alert whose segment moved past its threshold (once per window)."""
    now = timezone.now()
    sent = 0
    for alert in SegmentAlert.objects.filter(active=True).select_related(
        "segment", "segment__project", "webhook"
    ):
        window = timedelta(days=1 if alert.window == SegmentAlert.Window.DAY else 7)
        if alert.last_triggered_at and alert.last_triggered_at > now - window:
            continue
        today = now.astimezone(alert.segment.project.zone).date()
        change = size_change(alert, today=today)
        if change is None or abs(change[2]) < alert.threshold_percent:
            continue
        notify(alert, *change)
        sent += 1
    return sent


@transaction.atomic
def notify(alert: SegmentAlert, before: int, current: int, percent: float) -> None:
    direction = "grew" if current > before else "shrank"
    span = "a day" if alert.window == SegmentAlert.Window.DAY else "a week"
    message = f"Segment “{alert.segment.name}” {direction} by {abs(percent):.0f}% within {span}: {before:,} → {current:,} people."
    alert.last_triggered_at = timezone.now()
    alert.last_change_percent = round(percent, 1)
    alert.save(update_fields=["last_triggered_at", "last_change_percent"])
    recipients = [line.strip() for line in alert.emails.splitlines() if line.strip()]
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                subject=f"Sightline: {alert.segment.name} {direction} {abs(percent):.0f}%",
                message=message,
                from_email=None,
                recipient_list=recipients,
                fail_silently=True,
            )
        )
    if alert.webhook_id and alert.webhook.active:
        delivery = WebhookDelivery.objects.create(
            project_id=alert.project_id,
            webhook=alert.webhook,
            event="segment.alert",
            payload={
                "event": "segment.alert", "occurred_at": alert.last_triggered_at.isoformat(), "message": message,
                "segment": {"id": alert.segment_id, "name": alert.segment.name},
                "window": alert.window, "before": before, "now": current, "change_percent": round(percent, 1),
            },
        )  # fmt: skip

        transaction.on_commit(lambda: enqueue([delivery.pk]))
