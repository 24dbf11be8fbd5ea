"""What a project's events hold, for suggestions: property keys and values, surveys, questions, answers.

Each function reads a bounded sample — the newest `sample` events of one name
since `since` — and returns `(text, count)` rows, most common first, ties by
text, at most `limit`. Values are text forms (as `->>` gives them) of scalars
whose JSON type is in `types` ("string", "number", "boolean").

PostgreSQL reads `tracking_event` (postgres/discovery.py), ClickHouse the events
table (clickhouse/discovery.py); the answers are the same for the same sample.
Suggestions are hints: when several events share the sample's oldest instant,
the backends may keep different ones.
"""

from __future__ import annotations

from datetime import datetime

from tracking.eventstore import using_clickhouse

Rows = list[tuple[str, int]]


def _backend():
    if using_clickhouse():
        from tracking.eventstore.clickhouse import discovery
    else:
        from tracking.eventstore.postgres import discovery
    return discovery


def event_property_keys(
    project_id: int, event: str, *, since: datetime, sample: int, hidden: list[str], limit: int
) -> Rows:
    """Property keys of the sampled events named `event`, leaving out `hidden` keys."""
    return _backend().event_property_keys(
        project_id, event, since=since, sample=sample, hidden=hidden, limit=limit
    )


def event_property_values(
    project_id: int, event: str, key: str, *, since: datetime, sample: int, types: list[str], limit: int
) -> Rows:
    """The most common values of `key` on the sampled events named `event`."""
    return _backend().event_property_values(
        project_id, event, key, since=since, sample=sample, types=types, limit=limit
    )


def survey_keys(project_id: int, *, since: datetime, sample: int, limit: int) -> Rows:
    """`$survey` keys (strings) of the sampled `$survey_response` events."""
    return _backend().survey_keys(project_id, since=since, sample=sample, limit=limit)


def survey_questions(project_id: int, survey: str, *, since: datetime, sample: int, limit: int) -> Rows:
    """Keys of `$answers` in the sampled responses to `survey`."""
    return _backend().survey_questions(project_id, survey, since=since, sample=sample, limit=limit)


def survey_answers(
    project_id: int, survey: str, question: str, *, since: datetime, sample: int, types: list[str], limit: int
) -> Rows:
    """The most common answers to `question` in the sampled responses to `survey`."""
    return _backend().survey_answers(
        project_id, survey, question, since=since, sample=sample, types=types, limit=limit
    )
