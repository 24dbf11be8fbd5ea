"""Events as the store hands them back, and positions in a list of them.

Both backends return the same plain rows, so pages, templates and serializers
never see which engine answered. An event is known by its uuid: ClickHouse has
no serial id.
"""

from __future__ import annotations

import base64
import binascii
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One stored event; `person_id` is the person it belongs to now (after identity merges)."""

    uuid: uuidlib.UUID
    person_id: int
    distinct_id: str
    session_key: str
    name: str
    timestamp: datetime
    url: str = ""
    path: str = ""
    el_text: str = ""
    href: str = ""
    elements_chain: str = ""
    properties: dict = field(default_factory=dict)


# The columns every read of whole events selects, in StoredEvent's order (properties last).
EVENT_COLUMNS = (
    "uuid", "person_id", "distinct_id", "session_key", "name", "timestamp",
    "url", "path", "el_text", "href", "elements_chain", "properties",
)  # fmt: skip


@dataclass(frozen=True)
class EventCursor:
    """A position in a list ordered by `(timestamp, uuid)`; opaque to clients.

    The uuid settles ties between events of the same microsecond in the same
    order on both backends (its text order, which is PostgreSQL's uuid order).
    """

    timestamp: datetime
    uuid: uuidlib.UUID

    def encode(self) -> str:
        raw = f"{self.timestamp.isoformat()}|{self.uuid}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> EventCursor:
        """Raise ValueError for anything this class did not encode."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            stamp, _, key = raw.partition("|")
            timestamp = datetime.fromisoformat(stamp)
            event_uuid = uuidlib.UUID(key)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValueError("not a cursor from this API") from None
        if timestamp.tzinfo is None or not 1970 <= timestamp.year < 2200:
            raise ValueError("not a cursor from this API")
        return cls(timestamp=timestamp.astimezone(UTC), uuid=event_uuid)

    @classmethod
    def of(cls, event: StoredEvent) -> EventCursor:
        return cls(timestamp=event.timestamp, uuid=event.uuid)


# Before every event: a live page with nothing on it yet polls from here.
START = EventCursor(timestamp=datetime(1970, 1, 1, tzinfo=UTC), uuid=uuidlib.UUID(int=0))
