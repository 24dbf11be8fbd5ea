"""Signals other apps subscribe to, and tracking's own receivers."""

from __future__ import annotations

from django.db import connection
from django.db.models.signals import pre_delete
from django.dispatch import Signal, receiver

from tracking import eventstore

# Sent after a batch commits: project_id, person_ids (the persons it touched) and
# special_events (stored $nudge_*/$survey_*/$flag_called events, as SpecialEvent).
events_ingested = Signal()


@receiver(pre_delete, sender="tracking.Project")
def _delete_project_events(sender, instance, **kwargs) -> None:
    # Events and their daily rollups have no database foreign key (for COPY speed) and no ORM cascade.
    eventstore.project_events_delete(instance.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM tracking_personday WHERE project_id = %s", [instance.pk])
        cursor.execute("DELETE FROM tracking_personeventday WHERE project_id = %s", [instance.pk])
        # The ingest queue has no foreign key either (an append never waits on a deletion).
        cursor.execute("DELETE FROM tracking_ingestqueueitem WHERE project_id = %s", [instance.pk])
