"""The one person filter that keeps bots and internal users out of every count.

Everything that counts people or their events (the overview, the events and
trends explorer, analyses, intervention measurements, segment sizes) applies
`person_filter_sql` (raw SQL) or `person_filter_q` (the ORM) to its person id
column. Nothing is deleted: with both switches on, the filter is `true`.

A person is a bot when one of their sessions was flagged as a bot at ingest
(tracking.traffic.bots); internal when a rule of the project matches them
(tracking.traffic.internal). Crawlers rarely keep cookies, so a bot is nearly
always a person of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from tracking.traffic.internal import InternalRules, internal_persons_sql

# session_bot_person (project_id, person_id) WHERE is_bot
_BOT_PERSONS = "SELECT s.person_id FROM tracking_session s WHERE s.project_id = %s AND s.is_bot"


@dataclass(frozen=True)
class TrafficFilter:
    """What an analysis lets in besides ordinary people: both excluded by default."""

    include_internal: bool = False
    include_bots: bool = False

    def to_json(self) -> dict:
        return {"include_internal": self.include_internal, "include_bots": self.include_bots}

    @classmethod
    def from_request(cls, data: Any) -> TrafficFilter:
        """From a query string or form (`include_internal=on`); anything but a yes is a no."""
        return cls(
            include_internal=_yes(data.get("include_internal")), include_bots=_yes(data.get("include_bots"))
        )


EVERYONE = TrafficFilter(include_internal=True, include_bots=True)


def _yes(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("on", "true", "1", "yes"))


def traffic_param(data: dict, error: Any) -> TrafficFilter:
    """`include_internal` and `include_bots` from analysis parameters; `error(field, message)` for bad ones."""
    values = {}
    for field in ("include_internal", "include_bots"):
        raw = data.get(field, False)
        if raw in ("on", "true", "1"):
            raw = True
        elif raw in ("", "off", "false", "0", None):
            raw = False
        if not isinstance(raw, bool):
            error(field, "must be true or false")
            raw = False
        values[field] = raw
    return TrafficFilter(**values)


def project_rules(project: Any) -> InternalRules:
    return InternalRules.from_json(getattr(project, "internal_users", None))


def excluded_persons_sql(*, project: Any, traffic: TrafficFilter) -> tuple[str, list] | None:
    """`SELECT person_id` of the persons the filter keeps out, or None when it keeps everyone."""
    parts: list[str] = []
    params: list = []
    if not traffic.include_bots:
        parts.append(_BOT_PERSONS)
        params.append(project.pk)
    if not traffic.include_internal:
        internal = internal_persons_sql(project_rules(project), project_id=project.pk)
        if internal is not None:
            parts.append(internal[0])
            params += internal[1]
    if not parts:
        return None
    return " UNION ".join(parts), params


def person_filter_sql(column: str, *, project: Any, traffic: TrafficFilter) -> tuple[str, list]:
    """A predicate on a person id column (`e.person_id`): true for the persons the filter lets in.

    `NOT IN` over a subquery: PostgreSQL computes the excluded set once and
    hashes it, so the filter costs one probe per row.
    """
    excluded = excluded_persons_sql(project=project, traffic=traffic)
    if excluded is None:
        return "true", []
    return f"{column} NOT IN ({excluded[0]})", excluded[1]


def person_filter_q(field: str = "person_id", *, project: Any, traffic: TrafficFilter) -> Q:
    """The same filter for a queryset: `queryset.filter(person_filter_q(project=…, traffic=…))`."""
    excluded = excluded_persons_sql(project=project, traffic=traffic)
    if excluded is None:
        return Q()
    return ~Q(**{f"{field}__in": RawSQL(excluded[0], excluded[1])})  # noqa: S611 - constant SQL, values as parameters


@dataclass(frozen=True)
class Excluded:
    """How much the default filter keeps out, for the "N bot sessions excluded" notes."""

    bot_sessions: int = 0
    internal_persons: int = 0

    @property
    def any(self) -> bool:
        return bool(self.bot_sessions or self.internal_persons)


def excluded_counts(*, project: Any, start: datetime | None = None, end: datetime | None = None) -> Excluded:
    """Bot sessions started in [start, end) (all when unbounded) and the project's internal persons."""
    bounds, bound_params = "", []
    if start is not None:
        bounds += " AND s.started_at >= %s"
        bound_params.append(start)
    if end is not None:
        bounds += " AND s.started_at < %s"
        bound_params.append(end)
    internal = internal_persons_sql(project_rules(project), project_id=project.pk)
    internal_sql = f"(SELECT count(*) FROM ({internal[0]}) i)" if internal else "0"  # noqa: S608 - constant SQL
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM tracking_session s WHERE s.project_id = %s AND s.is_bot{bounds}),"  # noqa: S608 - constant SQL, values as %s parameters
            f" {internal_sql}",
            [project.pk, *bound_params, *(internal[1] if internal else [])],
        )
        bots, internal_count = cursor.fetchone()
    return Excluded(bot_sessions=int(bots or 0), internal_persons=int(internal_count or 0))
