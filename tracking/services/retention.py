"""Data retention: events older than the project's retention are deleted, a batch at a time."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from tracking import eventstore
from tracking.models import Project

BATCH = 20_000
# Rejected input is for debugging an installation, not for analysis: a month is plenty.
REJECTIONS_KEPT_DAYS = 30


def project_data_expire(*, project: Project, now=None) -> int:
    """Delete the project's events (and daily rollup rows) older than its retention; returns events deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=project.data_retention_days)
    deleted = eventstore.events_before_delete(project.pk, cutoff, batch=BATCH)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tracking_personday WHERE project_id = %s AND last_at < %s", [project.pk, cutoff]
        )
        rejections_cutoff = now - timedelta(days=min(REJECTIONS_KEPT_DAYS, project.data_retention_days))
        cursor.execute(
            "DELETE FROM tracking_ingestrejection WHERE project_id = %s AND received_at < %s",
            [project.pk, rejections_cutoff],
        )
    return deleted


def data_expire_all() -> int:
    return sum(project_data_expire(project=project) for project in Project.objects.all())
