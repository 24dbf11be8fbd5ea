"""Reads over raw events: the live feed, person timelines and the export API.

Every query starts with `project_id`. The two btree indexes on events lead with
the project and end with the timestamp, so newest-first lists order by
`(timestamp, id)`: `event_project_name_ts` serves a list filtered by event name,
`event_project_person_ts` a person's timeline. A list with neither filter has no
btree to walk in timestamp order; it is read through growing time windows that
the BRIN index on `timestamp` narrows to the recent end of the table.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from tracking import elements as chain
from tracking.models import Event, Person, Project

# Windows tried, in turn, for a newest-first list without a name or person filter: a busy
# project fills a page from the last hour; a quiet one costs at most four small queries.
_WINDOWS = (timedelta(hours=1), timedelta(days=1), timedelta(days=31))
# Event timestamps are clamped to the time of receipt, give or take a clock.
_FUTURE_SLACK = timedelta(minutes=10)
MAX_EVENT_NAMES = 500


@dataclass(frozen=True)
class EventCursor:
    """A position in a list ordered by `(timestamp, id)`; opaque to clients."""

    timestamp: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.timestamp.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> EventCursor:
        """Raise ValueError for anything this class did not encode."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            stamp, _, pk = raw.partition("|")
            timestamp = datetime.fromisoformat(stamp)
            event_id = int(pk)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValueError("not a cursor from this API") from None
        if timestamp.tzinfo is None or event_id < 0:
            raise ValueError("not a cursor from this API")
        return cls(timestamp=timestamp, id=event_id)

    @classmethod
    def of(cls, event: Event) -> EventCursor:
        return cls(timestamp=event.timestamp, id=event.pk)


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
) -> list[Event]:
    """Up to `limit` events of the project, newest first (or oldest first), after `cursor`.

    `after` is inclusive and `before` exclusive. Ask for one more than a page to
    know whether another page follows.
    """
    queryset = Event.objects.filter(project_id=project.pk)
    if name is not None:
        queryset = queryset.filter(name=name)
    if person_id is not None:
        queryset = queryset.filter(person_id=person_id)
    if after is not None:
        queryset = queryset.filter(timestamp__gte=after)
    if before is not None:
        queryset = queryset.filter(timestamp__lt=before)
    if cursor is not None:
        # The redundant range on timestamp keeps the index condition; the OR settles ties.
        if ascending:
            queryset = queryset.filter(timestamp__gte=cursor.timestamp).filter(
                Q(timestamp__gt=cursor.timestamp) | Q(id__gt=cursor.id)
            )
        else:
            queryset = queryset.filter(timestamp__lte=cursor.timestamp).filter(
                Q(timestamp__lt=cursor.timestamp) | Q(id__lt=cursor.id)
            )
    queryset = queryset.order_by("timestamp", "id") if ascending else queryset.order_by("-timestamp", "-id")

    if name is not None or person_id is not None or ascending:
        return list(queryset[:limit])
    upper = min(
        (bound for bound in (before, cursor.timestamp if cursor else None) if bound is not None),
        default=timezone.now() + _FUTURE_SLACK,
    )
    return _newest_in_windows(queryset, upper=upper, lower=after, limit=limit)


def _newest_in_windows(
    queryset: QuerySet, *, upper: datetime, lower: datetime | None, limit: int
) -> list[Event]:
    """The first `limit` rows of a newest-first queryset, reading only as far back as needed.

    When a window [upper - w, upper] holds `limit` rows they are the newest of all,
    since everything outside it is older. Relies on `event_timestamp_brin`.
    """
    for window in _WINDOWS:
        try:
            start = upper - window
        except OverflowError:  # near datetime.min: nothing to narrow
            break
        if lower is not None and start <= lower:
            break
        rows = list(queryset.filter(timestamp__gte=start)[:limit])
        if len(rows) == limit:
            return rows
    return list(queryset[:limit])


def event_list_newer(
    *, project: Project, since_id: int, name: str | None = None, limit: int = 100
) -> list[Event]:
    """Events stored after event `since_id` (the newest a live page shows), newest first.

    Ids grow with every COPY, so `id > since_id` is a short range scan of the primary key.
    """
    queryset = Event.objects.filter(project_id=project.pk, id__gt=since_id)
    if name is not None:
        queryset = queryset.filter(name=name)
    if since_id <= 0 and not event_exists(project=project, name=name):
        # Nothing to find: don't walk the primary key of other projects' events.
        return []
    return list(queryset.order_by("-timestamp", "-id")[:limit])


def event_exists(*, project: Project, name: str | None = None) -> bool:
    """Has the project any event (of this name)? One probe of `event_project_name_ts`."""
    queryset = Event.objects.filter(project_id=project.pk)
    if name is not None:
        queryset = queryset.filter(name=name)
    return queryset.exists()


def event_names(*, project: Project, limit: int = MAX_EVENT_NAMES) -> list[str]:
    """The distinct event names the project has seen, alphabetically.

    A loose index scan: one probe of `event_project_name_ts` per distinct name,
    rather than reading every event as `SELECT DISTINCT name` would.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE names(name) AS (
                (SELECT name FROM tracking_event WHERE project_id = %(project)s ORDER BY name LIMIT 1)
                UNION ALL
                SELECT (SELECT e.name FROM tracking_event e
                        WHERE e.project_id = %(project)s AND e.name > names.name ORDER BY e.name LIMIT 1)
                FROM names WHERE names.name IS NOT NULL
            )
            SELECT name FROM names WHERE name IS NOT NULL LIMIT %(limit)s
            """,
            {"project": project.pk, "limit": limit},
        )
        return [row[0] for row in cursor.fetchall()]


def event_persons(*, project: Project, events: Iterable[Event]) -> dict[int, Person]:
    """The persons behind a page of events, in one query (events carry no foreign-key join)."""
    ids = {e.person_id for e in events}
    if not ids:
        return {}
    return {
        p.pk: p for p in Person.objects.filter(project_id=project.pk, pk__in=ids).only("id", "properties")
    }


def event_elements(event: Event) -> list[dict]:
    """The decoded element chain of an autocaptured event, target first; [] for other events."""
    return chain.decode(event.elements_chain) if event.elements_chain else []


@dataclass(frozen=True)
class EventRow:
    """An event as a list shows it: with its person and a label for the clicked element."""

    event: Event
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


def event_rows(*, project: Project, events: list[Event]) -> list[EventRow]:
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
