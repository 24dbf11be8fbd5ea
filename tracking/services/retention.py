"""Data retention: events older than the project's retention are deleted, a batch at a time.

Trait history goes too, but for the one write per trait that still decides its
value after the cutoff (see `_TRAITS_EXPIRE`), so a segment evaluated as of any
moment since then answers as before.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from tracking import eventstore
from tracking.ingest.rollup import person_days_expire
from tracking.models import Project

BATCH = 20_000
# Rejected input is for debugging an installation, not for analysis: a month is plenty.
REJECTIONS_KEPT_DAYS = 30


# Of the writes before the cutoff, keep per subject and key what segments.compiler.traits reads
# as of any later moment: the latest `$set` and the earliest `$set_once` (ties as it breaks
# them); a later write at or before the moment still wins over either.
_TRAITS_EXPIRE = (
    """
        DELETE FROM tracking_persontrait WHERE project_id = %s AND at < %s AND id NOT IN (
            SELECT DISTINCT ON (person_id, key, once) id FROM tracking_persontrait
            WHERE project_id = %s AND at < %s
            ORDER BY person_id, key, once, CASE WHEN once THEN at END, at DESC, id DESC)
    """,
    """
        DELETE FROM tracking_companytrait WHERE project_id = %s AND at < %s AND id NOT IN (
            SELECT DISTINCT ON (company_id, key) id FROM tracking_companytrait
            WHERE project_id = %s AND at < %s
            ORDER BY company_id, key, at DESC, id DESC)
    """,
)


def project_data_expire(*, project: Project, now=None) -> int:
    """Delete the project's events, daily rollup rows and superseded trait history older than its
    retention; returns events deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=project.data_retention_days)
    deleted = eventstore.events_before_delete(project.pk, cutoff, batch=BATCH)
    person_days_expire(project.pk, project.zone, cutoff)
    with connection.cursor() as cursor:
        for sql in _TRAITS_EXPIRE:
            cursor.execute(sql, [project.pk, cutoff, project.pk, cutoff])
        rejections_cutoff = now - timedelta(days=min(REJECTIONS_KEPT_DAYS, project.data_retention_days))
        cursor.execute(
            "DELETE FROM tracking_ingestrejection WHERE project_id = %s AND received_at < %s",
            [project.pk, rejections_cutoff],
        )
    return deleted


def data_expire_all() -> int:
    return sum(project_data_expire(project=project) for project in Project.objects.all())
