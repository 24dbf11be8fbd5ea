"""Rows the generator produces, shaped for the COPY writers.

Persons and companies are referred to by a world-local index until the writer
allocates their real ids from the database sequences; events and sessions
carry that index. Times are float epoch seconds (cheap arithmetic; the writer
encodes them straight into PostgreSQL's binary timestamp format).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# (uuid bytes, person index, distinct_id, session_key, name, time, url, path, el_text, href, chain, properties json)
EventRow = tuple[bytes, int, str, str, str, float, str, str, str, str, str, str]
EVENT_TIME = 5


@dataclass
class SessionRow:
    session_key: str
    person: int
    started_at: float
    ended_at: float
    entry_url: str
    exit_url: str
    referrer: str
    event_count: int
    pageview_count: int
    autocapture_count: int
    rageclick_count: int
    dead_click_count: int
    browser: str
    browser_version: str
    os: str
    os_version: str
    device_type: str
    country: str
    region: str
    city: str


@dataclass
class PersonRow:
    index: int
    company: int | None
    properties: dict
    is_identified: bool
    first_seen: float
    last_seen: float
    distinct_ids: list[str]
    traits: list[tuple[float, str, object, bool]] = field(default_factory=list)  # (time, key, value, once)


@dataclass
class CompanyRow:
    index: int
    key: str
    properties: dict
    created_at: float
    updated_at: float
    traits: list[tuple[float, dict]] = field(default_factory=list)  # (time, $group_set) in time order


@dataclass
class Batch:
    """Everything generated for some units; written together, persons before what refers to them."""

    companies: list[CompanyRow] = field(default_factory=list)
    persons: list[PersonRow] = field(default_factory=list)
    sessions: list[SessionRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)

    def extend(self, other: Batch) -> None:
        self.companies += other.companies
        self.persons += other.persons
        self.sessions += other.sessions
        self.events += other.events


class EventIds:
    """Event UUIDs: a salt from the seed, then the unit index, then a counter within the unit.

    Deterministic for a seed, unique within a world, and increasing in the order
    events are written, so the (project_id, uuid) unique index is appended to
    rather than written all over (random UUIDs make bulk COPY markedly slower).
    The version and variant bits are those of a UUIDv4.
    """

    __slots__ = ("base", "count")

    def __init__(self, salt: int, unit: int) -> None:
        # bits 80-127 salt, 76-79 version, 32-61 unit, 62-63 variant, 0-31 counter
        self.base = ((salt & (2**48 - 1)) << 80) | (4 << 76) | ((unit & (2**30 - 1)) << 32) | (2 << 62)
        self.count = 0

    def next(self) -> bytes:
        self.count += 1
        return (self.base | self.count).to_bytes(16, "big")
