"""Suggestions read from ClickHouse, with the meaning of postgres/discovery.py.

The same bounded sample (the newest events of one name since a moment: the
`name` set index and the monthly partitions prune the read) before grouping;
rows are `(text, count)`, most common first, ties by text (byte order, as the
C collation orders them in PostgreSQL). JSON types map onto jsonb_typeof's:
string, number (Int64, UInt64, Double), boolean (Bool), object.
"""

from __future__ import annotations

from datetime import datetime

from tracking.eventstore.clickhouse.client import Params, client
from tracking.eventstore.clickhouse.filters import json_text
from tracking.eventstore.clickhouse.reads import events_from

_JSON_TYPES = {"string": ["String"], "number": ["Int64", "UInt64", "Double"], "boolean": ["Bool"]}


def _types(types: list[str]) -> list[str]:
    return [t for name in types for t in _JSON_TYPES[name]]


def _sample(project_id: int, name: str, since: datetime, sample: int, p: Params) -> str:
    """The newest `sample` events named `name` since `since`: (properties)."""
    where = f"name = {p.add(name, 'String')} AND timestamp >= {p.add(since, 'DateTime64(6)')}"
    frm = events_from(client(), project_id, p, where=where, alias="e")
    return f"(SELECT e.properties AS properties FROM {frm} ORDER BY e.timestamp DESC LIMIT {p.add(sample, 'UInt64')})"


def _rows(sql: str, p: Params) -> list[tuple[str, int]]:
    return [(str(value), int(count)) for value, count in client().query(sql, p)]


def event_property_keys(
    project_id: int, event: str, *, since: datetime, sample: int, hidden: list[str], limit: int
) -> list[tuple[str, int]]:
    p = Params()
    frm = _sample(project_id, event, since, sample, p)
    return _rows(
        f"SELECT k, count() AS n FROM {frm} AS s ARRAY JOIN JSONExtractKeys(s.properties) AS k"
        f" WHERE NOT has({p.add(hidden, 'Array(String)')}, k) GROUP BY k ORDER BY n DESC, k"
        f" LIMIT {p.add(limit, 'UInt64')}",
        p,
    )


def event_property_values(
    project_id: int, event: str, key: str, *, since: datetime, sample: int, types: list[str], limit: int
) -> list[tuple[str, int]]:
    p = Params()
    frm = _sample(project_id, event, since, sample, p)
    text = json_text("s.properties", key, p)
    return _rows(
        f"SELECT {text} AS v, count() AS n FROM {frm} AS s"
        f" WHERE JSONType(s.properties, {p.add(key, 'String')}) IN {p.add(_types(types), 'Array(String)')}"
        f" GROUP BY v ORDER BY n DESC, v LIMIT {p.add(limit, 'UInt64')}",
        p,
    )


def _answers(p: Params) -> str:
    return f"JSONExtractRaw(s.properties, {p.add('$answers', 'String')})"


def survey_keys(project_id: int, *, since: datetime, sample: int, limit: int) -> list[tuple[str, int]]:
    p = Params()
    frm = _sample(project_id, "$survey_response", since, sample, p)
    key = p.add("$survey", "String")
    return _rows(
        f"SELECT JSONExtractString(s.properties, {key}) AS v, count() AS n FROM {frm} AS s"
        f" WHERE JSONType(s.properties, {key}) = 'String' GROUP BY v ORDER BY n DESC, v"
        f" LIMIT {p.add(limit, 'UInt64')}",
        p,
    )


def _of_survey(survey: str, p: Params) -> str:
    return f"ifNull({json_text('s.properties', '$survey', p)} = {p.add(survey, 'String')}, 0)"


def survey_questions(
    project_id: int, survey: str, *, since: datetime, sample: int, limit: int
) -> list[tuple[str, int]]:
    p = Params()
    frm = _sample(project_id, "$survey_response", since, sample, p)
    return _rows(
        f"SELECT k, count() AS n FROM {frm} AS s ARRAY JOIN JSONExtractKeys({_answers(p)}) AS k"
        f" WHERE {_of_survey(survey, p)} GROUP BY k ORDER BY n DESC, k LIMIT {p.add(limit, 'UInt64')}",
        p,
    )


def survey_answers(
    project_id: int, survey: str, question: str, *, since: datetime, sample: int, types: list[str], limit: int
) -> list[tuple[str, int]]:
    p = Params()
    frm = _sample(project_id, "$survey_response", since, sample, p)
    answers = p.add("$answers", "String")
    q = p.add(question, "String")
    text = (
        f"multiIf(JSONType(s.properties, {answers}, {q}) = 'String', JSONExtractString(s.properties, {answers}, {q}),"
        f" JSONExtractRaw(s.properties, {answers}, {q}))"
    )
    return _rows(
        f"SELECT {text} AS v, count() AS n FROM {frm} AS s"
        f" WHERE {_of_survey(survey, p)}"
        f" AND JSONType(s.properties, {answers}, {q}) IN {p.add(_types(types), 'Array(String)')}"
        f" GROUP BY v ORDER BY n DESC, v LIMIT {p.add(limit, 'UInt64')}",
        p,
    )
