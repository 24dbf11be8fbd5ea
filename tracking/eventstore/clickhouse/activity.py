"""Events around sessions, exposures and survey answers on ClickHouse.

Recordings, exposures and surveys live in PostgreSQL: their rows come in as
arrays, and what ClickHouse finds goes back as ids (or rows) for PostgreSQL to
finish with, so every statement that shapes a page's numbers stays the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from tracking.eventstore.clickhouse.client import Params, client
from tracking.eventstore.clickhouse.explore import SELECT_EVENT, moment, person_ids_where, to_events
from tracking.eventstore.clickhouse.filters import action_where, event_spec, json_filter
from tracking.eventstore.clickhouse.reads import events_from
from tracking.eventstore.stored import StoredEvent


def session_events(
    project_id: int, *, session_key: str, names: Iterable[str], start: datetime, end: datetime, limit: int
) -> list[StoredEvent]:
    ch, p = client(), Params()
    where = (
        f"name IN {p.add(list(names), 'Array(String)')} AND session_key = {p.add(session_key, 'String')}"
        f" AND timestamp >= {p.add(moment(start), 'DateTime64(6)')}"
        f" AND timestamp <= {p.add(moment(end), 'DateTime64(6)')}"
    )
    rows = ch.query(
        f"SELECT {SELECT_EVENT} FROM {events_from(ch, project_id, p, where=where)}"
        f" ORDER BY e.timestamp, toString(e.uuid) LIMIT {p.add(limit, 'UInt64')}",
        p,
    )
    return to_events(rows)


def session_stream(project_id: int, session_key: str) -> list[StoredEvent]:
    from tracking.models import Session

    session = Session.objects.filter(project_id=project_id, session_key=session_key).first()
    if session is None:
        return []
    ch, p = client(), Params()
    where = (
        f"session_key = {p.add(session_key, 'String')}"
        f" AND timestamp >= {p.add(moment(session.started_at), 'DateTime64(6)')}"
        f" AND timestamp <= {p.add(moment(session.ended_at), 'DateTime64(6)')}"
    )
    rows = ch.query(
        f"SELECT {SELECT_EVENT} FROM {events_from(ch, project_id, p, where=where)}"
        f" WHERE e.person_id = {p.add(session.person_id, 'Int64')} ORDER BY e.timestamp, toString(e.uuid)",
        p,
    )
    return to_events(rows)


def sessions_with_action(
    project_id: int,
    candidates: list[tuple[int, str, datetime, datetime]],
    *,
    steps: list[dict],
    slack: timedelta,
) -> set[int]:
    """The ids of the candidates (id, session key, start, end) with a matching event in their window."""
    if not candidates:
        return set()
    ch, p = client(), Params()
    ids, keys, starts, ends = zip(*candidates, strict=True)
    lows = [moment(s - slack) for s in starts]
    highs = [moment(e + slack) for e in ends]
    where = (
        f"session_key IN {p.add(sorted(set(keys)), 'Array(String)')}"
        f" AND timestamp >= {p.add(min(lows), 'DateTime64(6)')} AND timestamp <= {p.add(max(highs), 'DateTime64(6)')}"
    )
    windows = (
        f"SELECT w.1 AS id, w.2 AS session_key, w.3 AS low, w.4 AS high FROM (SELECT arrayJoin(arrayZip("
        f"{p.add(list(ids), 'Array(Int64)')}, {p.add(list(keys), 'Array(String)')},"
        f" {p.add(lows, 'Array(DateTime64(6))')}, {p.add(highs, 'Array(DateTime64(6))')})) AS w)"
    )
    rows = ch.query(
        f"SELECT DISTINCT r.id FROM {events_from(ch, project_id, p, where=where)}"
        f" INNER JOIN ({windows}) AS r ON r.session_key = e.session_key"
        f" WHERE e.timestamp >= r.low AND e.timestamp <= r.high AND {action_where(steps, 'e', p)}",
        p,
    )
    return {int(row[0]) for row in rows}


def converted_persons(
    project_id: int,
    exposures: list[tuple[int, datetime]],
    *,
    within: timedelta,
    spec: dict,
    action_steps: Callable[[int], list],
) -> set[int]:
    """The exposed persons (person id, first exposed at) who did `spec` within `within` after."""
    if not exposures:
        return set()
    ch, p = client(), Params()
    persons = [person for person, _ in exposures]
    starts = [moment(at) for _, at in exposures]
    ends = [moment(at + within) for _, at in exposures]
    where = (
        f"{person_ids_where(ch, project_id, persons, p)}"
        f" AND timestamp > {p.add(min(starts), 'DateTime64(6)')} AND timestamp <= {p.add(max(ends), 'DateTime64(6)')}"
    )
    windows = (
        f"SELECT w.1 AS person_id, w.2 AS low, w.3 AS high FROM (SELECT arrayJoin(arrayZip("
        f"{p.add(persons, 'Array(Int64)')}, {p.add(starts, 'Array(DateTime64(6))')},"
        f" {p.add(ends, 'Array(DateTime64(6))')})) AS w)"
    )
    rows = ch.query(
        f"SELECT DISTINCT x.person_id FROM {events_from(ch, project_id, p, where=where)}"
        f" INNER JOIN ({windows}) AS x ON x.person_id = e.person_id"
        f" WHERE e.timestamp > x.low AND e.timestamp <= x.high"
        f" AND ({event_spec(spec, 'e', p, action_steps=action_steps)})",
        p,
    )
    return {int(row[0]) for row in rows}


def survey_responses(project_id: int, *, survey_id: int, key: str) -> list[tuple[int, datetime, str]]:
    """(person id, timestamp, the `$answers` object as JSON text) of the survey's responses."""
    ch, p = client(), Params()
    names = f"name = {p.add('$survey_response', 'String')}"
    by_id = json_filter("e.properties", "$survey_id", "eq", str(survey_id), p)
    by_key = json_filter("e.properties", "$survey", "eq", key, p)
    answers = p.add("$answers", "String")
    rows = ch.query(
        f"SELECT e.person_id, e.timestamp, JSONExtractRaw(e.properties, {answers})"
        f" FROM {events_from(ch, project_id, p, where=names)}"
        f" WHERE ({by_id} OR {by_key}) AND JSONType(e.properties, {answers}) = 'Object'",
        p,
    )
    return [(int(person), at, text) for person, at, text in rows]
