"""What a project has actually seen, for the segment builder's suggestions.

Event names, person and company property keys, the property keys of one
event, survey ids and questions, and the most common values of a property.
Every query reads a bounded sample (the newest rows along an index) before it
groups, so a suggestion costs the same on a project with a million events as
on one with a thousand; suggestions are hints, not statistics. Reads of events
go through the event store (tracking.eventstore.discovery).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone
from psycopg import sql

from tracking.eventstore import discovery as event_store
from tracking.models import Project
from tracking.selectors.events import event_names as _event_names

PERSON_SAMPLE = 10_000
COMPANY_SAMPLE = 10_000
EVENT_SAMPLE = 5_000
SESSION_SAMPLE = 10_000
RECENT_DAYS = 30
SURVEY_DAYS = 365
MAX_KEYS = 200
MAX_VALUES = 20
SESSION_COLUMNS = (
    "browser", "os", "device_type", "country", "region", "city",
    "entry_path", "exit_path", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "referrer_domain",
)  # fmt: skip
# Keys whose values are structures, not something to filter on.
HIDDEN_EVENT_KEYS = ("$elements", "$set", "$set_once", "$group_set", "$answers")
SCALAR = ("string", "number", "boolean")


@dataclass(frozen=True)
class Suggestion:
    value: str
    count: int


def _rows(query: str | sql.Composed, params: list) -> list[Suggestion]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return [Suggestion(value=str(value), count=count) for value, count in cursor.fetchall()]


def _suggestions(rows: list[tuple[str, int]]) -> list[Suggestion]:
    return [Suggestion(value=value, count=count) for value, count in rows]


def event_names(*, project: Project) -> list[str]:
    """Every event name the project has seen (a loose index scan of event_project_name_ts)."""
    return _event_names(project=project)


def person_property_keys(*, project: Project, limit: int = MAX_KEYS) -> list[Suggestion]:
    """Keys of the most recently seen persons' properties, most common first (person_project_last_seen)."""
    return _rows(
        "SELECT k, count(*) FROM ("
        " SELECT properties FROM tracking_person WHERE project_id = %s ORDER BY last_seen DESC LIMIT %s"
        ") p CROSS JOIN LATERAL jsonb_object_keys(CASE WHEN jsonb_typeof(p.properties) = 'object'"
        " THEN p.properties ELSE '{}'::jsonb END) k GROUP BY k ORDER BY count(*) DESC, k LIMIT %s",
        [project.pk, PERSON_SAMPLE, limit],
    )


def company_property_keys(*, project: Project, limit: int = MAX_KEYS) -> list[Suggestion]:
    """Keys of the most recently updated companies' properties (companies are few next to events)."""
    return _rows(
        "SELECT k, count(*) FROM ("
        " SELECT properties FROM tracking_company WHERE project_id = %s ORDER BY updated_at DESC LIMIT %s"
        ") c CROSS JOIN LATERAL jsonb_object_keys(CASE WHEN jsonb_typeof(c.properties) = 'object'"
        " THEN c.properties ELSE '{}'::jsonb END) k GROUP BY k ORDER BY count(*) DESC, k LIMIT %s",
        [project.pk, COMPANY_SAMPLE, limit],
    )


def _since(days: int, now: datetime | None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


def event_property_keys(
    *,
    project: Project,
    event: str,
    days: int = RECENT_DAYS,
    now: datetime | None = None,
    limit: int = MAX_KEYS,
) -> list[Suggestion]:
    """Property keys of the newest events named `event` in the last `days` days (at most EVENT_SAMPLE read)."""
    return _suggestions(
        event_store.event_property_keys(
            project.pk,
            event,
            since=_since(days, now),
            sample=EVENT_SAMPLE,
            hidden=list(HIDDEN_EVENT_KEYS),
            limit=limit,
        )
    )


def person_property_values(*, project: Project, key: str, limit: int = MAX_VALUES) -> list[Suggestion]:
    """The most common values of a person property among the most recently seen persons."""
    return _rows(
        "SELECT p.properties ->> %s, count(*) FROM ("
        " SELECT properties FROM tracking_person WHERE project_id = %s ORDER BY last_seen DESC LIMIT %s"
        ") p WHERE jsonb_typeof(p.properties -> %s) = ANY(%s)"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s",
        [key, project.pk, PERSON_SAMPLE, key, list(SCALAR), limit],
    )


def company_property_values(*, project: Project, key: str, limit: int = MAX_VALUES) -> list[Suggestion]:
    return _rows(
        "SELECT c.properties ->> %s, count(*) FROM ("
        " SELECT properties FROM tracking_company WHERE project_id = %s ORDER BY updated_at DESC LIMIT %s"
        ") c WHERE jsonb_typeof(c.properties -> %s) = ANY(%s)"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s",
        [key, project.pk, COMPANY_SAMPLE, key, list(SCALAR), limit],
    )


def event_property_values(
    *,
    project: Project,
    event: str,
    key: str,
    days: int = RECENT_DAYS,
    now: datetime | None = None,
    limit: int = MAX_VALUES,
) -> list[Suggestion]:
    """The most common values of `key` on the newest events named `event`."""
    return _suggestions(
        event_store.event_property_values(
            project.pk,
            event,
            key,
            since=_since(days, now),
            sample=EVENT_SAMPLE,
            types=list(SCALAR),
            limit=limit,
        )
    )


def session_values(*, project: Project, column: str, limit: int = MAX_VALUES) -> list[Suggestion]:
    """The most common browsers, countries… of the newest sessions (session_project_started)."""
    if column not in SESSION_COLUMNS:
        raise ValueError(f"not a session column: {column!r}")
    query = sql.SQL(
        "SELECT s.{col}, count(*) FROM ("
        " SELECT {col} FROM tracking_session WHERE project_id = %s ORDER BY started_at DESC LIMIT %s"
        ") s WHERE s.{col} <> '' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s"
    ).format(col=sql.Identifier(column))
    return _rows(query, [project.pk, SESSION_SAMPLE, limit])


def survey_keys(*, project: Project, now: datetime | None = None, limit: int = MAX_KEYS) -> list[Suggestion]:
    """Survey keys seen in `$survey_response` events of the last year."""
    return _suggestions(
        event_store.survey_keys(project.pk, since=_since(SURVEY_DAYS, now), sample=EVENT_SAMPLE, limit=limit)
    )


def survey_questions(
    *, project: Project, survey: str, now: datetime | None = None, limit: int = MAX_KEYS
) -> list[Suggestion]:
    """Question keys answered in a survey."""
    return _suggestions(
        event_store.survey_questions(
            project.pk, survey, since=_since(SURVEY_DAYS, now), sample=EVENT_SAMPLE, limit=limit
        )
    )


def survey_answers(
    *, project: Project, survey: str, question: str, now: datetime | None = None, limit: int = MAX_VALUES
) -> list[Suggestion]:
    """The most common answers to one question of a survey."""
    return _suggestions(
        event_store.survey_answers(
            project.pk,
            survey,
            question,
            since=_since(SURVEY_DAYS, now),
            sample=EVENT_SAMPLE,
            types=list(SCALAR),
            limit=limit,
        )
    )
