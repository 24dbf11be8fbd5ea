"""Deleting a person and everything recorded about them (a GDPR erasure request)."""

from __future__ import annotations

import orjson
from django.db import connection, transaction
from django.dispatch import Signal

from tracking import eventstore
from tracking.ingest.rollup import person_days_delete
from tracking.models import Person

# Sent inside person_delete's transaction, before anything is deleted, with
# `person`: apps that keep data about a person outside the ORM cascade (session
# recordings and their files) delete it here.
person_deleting = Signal()


@transaction.atomic
def person_delete(*, person: Person) -> None:
    """Delete the person, their events, sessions, recordings (with files), memberships, ids and dead letters.

    Events have no foreign key (see tracking.models.Event), so they are deleted
    explicitly; recordings are deleted by replay's `person_deleting` receiver;
    the rest follows the ORM cascade from Person.
    """
    person_deleting.send(sender=Person, person=person)
    distinct_ids = list(person.distinct_ids.values_list("distinct_id", flat=True))
    with connection.cursor() as cursor:
        eventstore.person_events_delete(person.project_id, person.pk)
        # Dead letters keep the rejected input as sent: drop those naming this person.
        needles = [orjson.dumps({"distinct_id": d}).decode()[1:-1] for d in distinct_ids]
        if needles:
            cursor.execute(
                "DELETE FROM tracking_ingestrejection WHERE project_id = %s"
                " AND EXISTS (SELECT 1 FROM unnest(%s::text[]) AS n WHERE strpos(payload, n) > 0)",
                [person.project_id, needles],
            )
    person_days_delete(person.project_id, person_id=person.pk)
    person.delete()
