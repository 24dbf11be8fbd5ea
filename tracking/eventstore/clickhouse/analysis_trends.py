"""Trends on ClickHouse: events counted per local bucket, person and breakdown key; PostgreSQL finishes.

ClickHouse reads the matching events once and counts them per (local bucket,
person, key), where the key is what the breakdown needs from the event: its
session (browser, OS, device type and country live on tracking_session), its
path, or its property's text; persons and companies are joined by person id.
PostgreSQL then joins sessions, persons and companies, picks the top values
and forms the same grouping sets as the PostgreSQL backend's statement, with
`sum(n)` for `count(*)`: equal counts, equal unique persons, equal order of
values. Buckets are local: ClickHouse gives the local hour or day in the
project's zone (its tz database, DST included) and PostgreSQL truncates it to
the interval with `date_trunc`, as the PostgreSQL backend does.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from tracking.eventstore.arrays import unnest_sql
from tracking.eventstore.clickhouse.analysis_common import (
    excluded_condition,
    moment,
)
from tracking.eventstore.clickhouse.client import Params, client
from tracking.eventstore.clickhouse.filters import action_where, json_filter, json_text
from tracking.eventstore.clickhouse.reads import events_from

SESSION_BREAKDOWNS = ("browser", "os", "device_type", "country")
_FACTS = (("local", "timestamp"), ("person_id", "bigint"), ("key", "text"), ("n", "bigint"))


def _key(breakdown: tuple[str, str] | None, p: Params) -> str:
    if breakdown is None:
        return "''"
    kind, prop = breakdown
    if kind in SESSION_BREAKDOWNS:
        return "e.session_key"
    if kind == "path":
        return "e.path"
    if kind == "event":
        return f"ifNull({json_text('e.properties', prop, p)}, '')"
    return "''"


def _value(breakdown: tuple[str, str] | None, project_id: int) -> tuple[str, str, list, list]:
    """(value expression over the facts `f`, joins, join parameters, value parameters)."""
    if breakdown is None:
        return "''", "", [], []
    kind, prop = breakdown
    if kind in SESSION_BREAKDOWNS:
        # relies on the unique index session_project_key (project_id, session_key)
        joins = " LEFT JOIN tracking_session s ON s.project_id = %s AND s.session_key = f.key"
        return f"coalesce(s.{kind}, '')", joins, [project_id], []
    if kind in ("path", "event"):
        return "f.key", "", [], []
    joins = " LEFT JOIN tracking_person p ON p.id = f.person_id AND p.project_id = %s"
    if kind == "person":
        return "coalesce(p.properties ->> %s, '')", joins, [project_id], [prop]
    joins += " LEFT JOIN tracking_company c ON c.id = p.company_id"
    return "coalesce(c.properties ->> %s, '')", joins, [project_id], [prop]


def _matching(
    *,
    project_id: int,
    start: datetime,
    end: datetime,
    event: str | None,
    action_steps: list | None,
    filters: list[dict],
    excluded: tuple[str, list] | None,
    p: Params,
) -> str:
    """`FROM events WHERE …`: the matching events (the event's name pushed down to the primary key)."""
    where = f"timestamp >= {moment(start, p)} AND timestamp < {moment(end, p)}"
    if action_steps is not None:
        condition = action_where(action_steps, "e", p)
    else:
        where += f" AND name = {p.add(event, 'String')}"
        condition = "true"
    parts = [condition]
    for flt in filters:
        parts.append(json_filter("e.properties", flt["property"], flt["operator"], flt.get("value"), p))
    parts.append(excluded_condition("e.person_id", excluded, p))
    return f" FROM {events_from(client(), project_id, p, where=where)} WHERE {' AND '.join(parts)}"


def _unbroken_rows(
    *,
    project_id: int,
    zone: str,
    interval: str,
    start: datetime,
    end: datetime,
    event: str | None,
    action_steps: list | None,
    filters: list[dict],
    excluded: tuple[str, list] | None,
) -> list[tuple]:
    """Without a breakdown everything is counted in ClickHouse, in the rows PostgreSQL's grouping sets give.

    Every event has the value '' then, always the top value: the (bucket, value)
    rows equal the (bucket) rows, the (value) row the () row, which PostgreSQL
    gives even when nothing matched.
    """
    ch, p = client(), Params()
    tz = p.add(zone, "String")
    bucket = {
        "hour": f"formatDateTime(e.timestamp, '%Y-%m-%d %H:00:00', {tz})",
        "day": f"toString(toDate(e.timestamp, {tz}))",
    }.get(interval, f"toString(toMonday(e.timestamp, {tz}))")
    matching = _matching(
        project_id=project_id, start=start, end=end, event=event, action_steps=action_steps,
        filters=filters, excluded=excluded, p=p,
    )  # fmt: skip
    # the () set names no bucket: its bucket is the type's default, '' (a real bucket never is)
    counted = ch.query(
        f"SELECT {bucket} AS bucket, count(), uniqExact(e.person_id){matching}"
        " GROUP BY GROUPING SETS ((bucket), ())",
        p,
    )
    rows: list[tuple] = []
    total, total_persons = 0, 0
    for text, count, persons in counted:
        if text == "":
            total, total_persons = count, persons
        else:
            local = datetime.fromisoformat(text)
            rows += [(local, True, "", count, persons, 0, 0), (local, None, None, count, persons, 0, 1)]
    rows.append((None, None, None, total, total_persons, 1, 1))
    if total:
        rows.append((None, True, "", total, total_persons, 1, 0))
    return rows


def _facts(
    *,
    project_id: int,
    start: datetime,
    end: datetime,
    event: str | None,
    action_steps: list | None,
    filters: list[dict],
    breakdown: tuple[str, str] | None,
    excluded: tuple[str, list] | None,
    local: str | None,
    zone: str = "UTC",
) -> list[tuple]:
    """(local bucket text or '', person_id, key, events) for the matching events."""
    ch, p = client(), Params()
    matching = _matching(
        project_id=project_id, start=start, end=end, event=event, action_steps=action_steps,
        filters=filters, excluded=excluded, p=p,
    )  # fmt: skip
    tz = p.add(zone, "String")
    bucket = {
        None: "''",
        "hour": f"formatDateTime(e.timestamp, '%Y-%m-%d %H:00:00', {tz})",
    }.get(local, f"toString(toDate(e.timestamp, {tz}))")
    return ch.query(
        f"SELECT {bucket} AS local, e.person_id AS person_id, {_key(breakdown, p)} AS key, count(){matching}"
        " GROUP BY local, person_id, key",
        p,
    )


def trend_rows(
    *,
    project_id: int,
    zone: str,
    interval: str,
    start: datetime,
    end: datetime,
    event: str | None,
    action_steps: list | None,
    filters: list[dict],
    breakdown: tuple[str, str] | None,
    excluded: tuple[str, list] | None,
    top_values: int,
) -> list[tuple]:
    if breakdown is None:
        return _unbroken_rows(
            project_id=project_id, zone=zone, interval=interval, start=start, end=end, event=event,
            action_steps=action_steps, filters=filters, excluded=excluded,
        )  # fmt: skip
    rows = _facts(
        project_id=project_id, start=start, end=end, event=event, action_steps=action_steps, filters=filters,
        breakdown=breakdown, excluded=excluded, local="hour" if interval == "hour" else "day", zone=zone,
    )  # fmt: skip
    facts, fact_params = unnest_sql(_FACTS, rows)
    value_sql, joins, join_params, value_params = _value(breakdown, project_id)
    sql = f"""
        WITH base AS (
            SELECT date_trunc(%s, f.local) AS bucket, f.person_id, {value_sql} AS value, f.n
            FROM ({facts}) f{joins}
        ),
        top AS (SELECT value FROM base GROUP BY value ORDER BY sum(n) DESC, value LIMIT %s),
        tagged AS (
            SELECT b.bucket, b.person_id, b.n, t.value IS NOT NULL AS is_top, t.value AS shown
            FROM base b LEFT JOIN top t ON t.value = b.value
        )
        SELECT bucket, is_top, shown, coalesce(sum(n), 0)::bigint, count(DISTINCT person_id), GROUPING(bucket), GROUPING(is_top)
        FROM tagged
        GROUP BY GROUPING SETS ((bucket, is_top, shown), (is_top, shown), (bucket), ())
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [interval, *value_params, *fact_params, *join_params, top_values])
        return cursor.fetchall()


def person_counts(
    *,
    project_id: int,
    start: datetime,
    end: datetime,
    event: str | None,
    action_steps: list | None,
    filters: list[dict],
    breakdown: tuple[str, str] | None,
    breakdown_value: str | None,
    excluded: tuple[str, list] | None,
    limit: int,
) -> list[tuple[int, int]]:
    rows = _facts(
        project_id=project_id, start=start, end=end, event=event, action_steps=action_steps, filters=filters,
        breakdown=breakdown, excluded=excluded, local=None,
    )  # fmt: skip
    facts, fact_params = unnest_sql(_FACTS, [(None, *row[1:]) for row in rows])
    value_sql, joins, join_params, value_params = _value(breakdown, project_id)
    extra, extra_params = "", []
    if breakdown is not None and breakdown_value is not None:
        extra, extra_params = f" WHERE {value_sql} = %s", [*value_params, breakdown_value]
    sql = (
        f"SELECT f.person_id, sum(f.n)::bigint FROM ({facts}) f{joins}{extra}"
        " GROUP BY f.person_id ORDER BY sum(f.n) DESC, f.person_id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*fact_params, *join_params, *extra_params, limit])
        return cursor.fetchall()
