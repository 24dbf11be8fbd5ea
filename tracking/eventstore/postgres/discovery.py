"""Suggestions read from `tracking_event`: property keys and values, survey keys, questions and answers.

Every query reads a bounded sample (the newest events of one name, walking
event_project_name_ts backwards from now) before it groups, so a suggestion
costs the same on a project with a million events as on one with a thousand.
Rows are `(text, count)`, most common first, ties by text.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection


def _rows(query: str, params: list) -> list[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return [(str(value), count) for value, count in cursor.fetchall()]


def event_property_keys(
    project_id: int, event: str, *, since: datetime, sample: int, hidden: list[str], limit: int
) -> list[tuple[str, int]]:
    return _rows(
        "SELECT k, count(*) FROM ("
        " SELECT properties FROM tracking_event WHERE project_id = %s AND name = %s AND timestamp >= %s"
        " ORDER BY timestamp DESC LIMIT %s"
        ") e CROSS JOIN LATERAL jsonb_object_keys(CASE WHEN jsonb_typeof(e.properties) = 'object'"
        " THEN e.properties ELSE '{}'::jsonb END) k WHERE NOT (k = ANY(%s)) GROUP BY k ORDER BY count(*) DESC, k LIMIT %s",
        [project_id, event, since, sample, hidden, limit],
    )


def event_property_values(
    project_id: int, event: str, key: str, *, since: datetime, sample: int, types: list[str], limit: int
) -> list[tuple[str, int]]:
    return _rows(
        "SELECT e.properties ->> %s, count(*) FROM ("
        " SELECT properties FROM tracking_event WHERE project_id = %s AND name = %s AND timestamp >= %s"
        " ORDER BY timestamp DESC LIMIT %s"
        ") e WHERE jsonb_typeof(e.properties -> %s) = ANY(%s)"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s",
        [key, project_id, event, since, sample, key, types, limit],
    )


def _survey_sample(project_id: int, since: datetime, sample: int) -> tuple[str, list]:
    # `$survey_response` is one name: event_project_name_ts bounds the read
    return (
        "SELECT properties FROM tracking_event WHERE project_id = %s AND name = '$survey_response'"
        " AND timestamp >= %s ORDER BY timestamp DESC LIMIT %s",
        [project_id, since, sample],
    )


def survey_keys(project_id: int, *, since: datetime, sample: int, limit: int) -> list[tuple[str, int]]:
    sql, params = _survey_sample(project_id, since, sample)
    return _rows(
        f"SELECT e.properties ->> '$survey', count(*) FROM ({sql}) e"
        " WHERE jsonb_typeof(e.properties -> '$survey') = 'string' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s",
        [*params, limit],
    )


def survey_questions(
    project_id: int, survey: str, *, since: datetime, sample: int, limit: int
) -> list[tuple[str, int]]:
    sql, params = _survey_sample(project_id, since, sample)
    return _rows(
        f"SELECT k, count(*) FROM ({sql}) e CROSS JOIN LATERAL jsonb_object_keys("
        " CASE WHEN jsonb_typeof(e.properties -> '$answers') = 'object' THEN e.properties -> '$answers'"
        " ELSE '{}'::jsonb END) k WHERE e.properties ->> '$survey' = %s GROUP BY k ORDER BY count(*) DESC, k LIMIT %s",
        [*params, survey, limit],
    )


def survey_answers(
    project_id: int, survey: str, question: str, *, since: datetime, sample: int, types: list[str], limit: int
) -> list[tuple[str, int]]:
    sql, params = _survey_sample(project_id, since, sample)
    return _rows(
        f"SELECT e.properties -> '$answers' ->> %s, count(*) FROM ({sql}) e"
        " WHERE e.properties ->> '$survey' = %s AND jsonb_typeof(e.properties -> '$answers' -> %s) = ANY(%s)"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT %s",
        [question, *params, survey, question, types, limit],
    )
