"""Reads over raw events: the live feed, person timelines and the export API.

The events come from the event store (`tracking.eventstore.explore`) as plain
`StoredEvent` rows, known by uuid and ordered by `(timestamp, uuid)`, whichever
backend holds them; persons come from PostgreSQL.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.http import Http404

from tracking import elements as chain
from tracking.eventstore import explore
from tracking.eventstore.stored import EventCursor, StoredEvent
from tracking.models import Person, Project

MAX_EVENT_NAMES = 500

__all__ = ["EventCursor", "EventRow", "StoredEvent"]


def event_list(
    *,
    project: Project,
    name: str | None = None,
    person_id: int | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    cursor: EventCursor | None = None,
    ascending: bool = False,
    limit: int = 100,
) -> list[StoredEvent]:
    """Up to `limit` events of the project, newest first (or oldest first), after `cursor`.

    `after` is inclusive and `before` exclusive. Ask for one more than a page to
    know whether another page follows.
    """
    return explore.event_list(
        project.pk, name=name, person_id=person_id, after=after, before=before,
        cursor=cursor, ascending=ascending, limit=limit,
    )  # fmt: skip


def event_list_newer(
    *, project: Project, since: EventCursor, name: str | None = None, limit: int = 100
) -> list[StoredEvent]:
    """Events after position `since` (the newest a live page shows), newest first."""
    return explore.event_list_newer(project.pk, since=since, name=name, limit=limit)


def event_exists(*, project: Project, name: str | None = None) -> bool:
    """Has the project any event (of this name)?"""
    return explore.event_exists(project.pk, name=name)


def event_names(*, project: Project, limit: int = MAX_EVENT_NAMES) -> list[str]:
    """The distinct event names the project has seen, alphabetically."""
    return explore.event_names(project.pk, limit=limit)


def event_get(*, project: Project, event_uuid: str | uuidlib.UUID) -> StoredEvent:
    """The project's event, or 404 (another project's event is as absent as a missing one)."""
    try:
        key = event_uuid if isinstance(event_uuid, uuidlib.UUID) else uuidlib.UUID(str(event_uuid))
    except ValueError:
        raise Http404("No such event") from None
    event = explore.event_get(project.pk, key)
    if event is None:
        raise Http404("No such event")
    return event


def event_persons(*, project: Project, events: Iterable[StoredEvent]) -> dict[int, Person]:
    """The persons behind a page of events, in one query (events carry no foreign-key join)."""
    ids = {e.person_id for e in events}
    if not ids:
        return {}
    return {
        p.pk: p for p in Person.objects.filter(project_id=project.pk, pk__in=ids).only("id", "properties")
    }


def event_elements(event: StoredEvent) -> list[dict]:
    """The decoded element chain of an autocaptured event, target first; [] for other events."""
    return chain.decode(event.elements_chain) if event.elements_chain else []


@dataclass(frozen=True)
class EventRow:
    """An event as a list shows it: with its person and a label for the clicked element."""

    event: StoredEvent
    person: Person | None
    element: str

    @property
    def has_elements(self) -> bool:
        return bool(self.event.elements_chain)

    @property
    def person_label(self) -> str:
        """The person's e-mail or name when known, else the distinct id the event was sent with."""
        props = self.person.properties if self.person else {}
        return str(props.get("email") or props.get("name") or self.event.distinct_id)


def event_rows(*, project: Project, events: list[StoredEvent]) -> list[EventRow]:
    persons = event_persons(project=project, events=events)
    rows = []
    for event in events:
        elements = event_elements(event)
        rows.append(
            EventRow(
                event=event,
                person=persons.get(event.person_id),
                element=chain.describe(elements[0]) if elements else "",
            )
        )
    return rows
