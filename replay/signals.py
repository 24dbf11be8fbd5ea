"""Replay's receivers: chunk files follow their rows, recordings follow sessions and persons."""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from replay.blobs import blob_delete
from replay.models import RecordingChunk
from replay.services import recordings_delete_for_person, recordings_link
from tracking.services.persons import person_deleting
from tracking.signals import events_ingested

log = logging.getLogger(__name__)


def _delete_blob(path: str) -> None:
    try:
        blob_delete(path)
    except OSError:
        log.exception("could not delete recording chunk %s", path)


@receiver(post_delete, sender=RecordingChunk)
def _chunk_deleted(sender, instance: RecordingChunk, **kwargs) -> None:
    # After commit: a rolled-back deletion keeps its file.
    transaction.on_commit(partial(_delete_blob, instance.storage_path), robust=True)


@receiver(events_ingested)
def _link_recordings(sender, project_id: int, **kwargs) -> None:
    recordings_link(project_id=project_id)


@receiver(person_deleting)
def _delete_person_recordings(sender, person, **kwargs) -> None:
    recordings_delete_for_person(person=person)
