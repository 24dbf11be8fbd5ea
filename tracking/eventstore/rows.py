"""Events as the store takes them in."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass
from datetime import UTC, datetime


def _text_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(slots=True)
class NewEvent:
    """One event to write: ingestion, the demo seeder and the copy to ClickHouse all hand these over."""

    project_id: int
    uuid: uuidlib.UUID
    person_id: int
    distinct_id: str
    session_key: str
    name: str
    timestamp: datetime
    received_at: datetime
    url: str
    path: str
    el_text: str
    href: str
    elements_chain: str
    properties_json: bytes  # the properties object, serialised once by validation

    def clickhouse(self) -> dict:
        return {
            "project_id": self.project_id,
            "uuid": str(self.uuid),
            "person_id": self.person_id,
            "distinct_id": self.distinct_id,
            "session_key": self.session_key,
            "name": self.name,
            "timestamp": _text_time(self.timestamp),
            "received_at": _text_time(self.received_at),
            "url": self.url,
            "path": self.path,
            "el_text": self.el_text,
            "href": self.href,
            "elements_chain": self.elements_chain,
            "properties": self.properties_json.decode(),
        }
