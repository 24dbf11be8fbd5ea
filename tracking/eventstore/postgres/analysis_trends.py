"""Trends on PostgreSQL: counts and unique persons by local bucket and breakdown value, in one statement."""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from tracking.eventstore.postgres.analysis_steps import excluded_sql
from tracking.matching.actions import action_where_sql
from tracking.properties import event_filter_sql

SESSION_BREAKDOWNS = ("browser", "os", "device_type", "country")


def breakdown_sql(breakdown: tuple[str, str] | None) -> tuple[str, str, list]:
    """(value expression, joins, parameters of the value expression) — column names are constants."""
    if breakdown is None:
        return "''", "", []
    kind, prop = breakdown
    if kind in SESSION_BREAKDOWNS:
        # relies on the unique index session_project_key (project_id, session_key)
        joins = (
            " LEFT JOIN tracking_session s ON s.project_id = e.project_id AND s.session_key = e.session_key"
        )
        return f"coalesce(s.{kind}, '')", joins, []
    if kind == "path":
        return "e.path", "", []
    if kind == "event":
        return "coalesce(e.properties ->> %s, '')", "", [prop]
    joins = " LEFT JOIN tracking_person p ON p.id = e.person_id AND p.project_id = e.project_id"
    if kind == "person":
        return "coalesce(p.properties ->> %s, '')", joins, [prop]
    joins += " LEFT JOIN tracking_company c ON c.id = p.company_id"
    return "coalesce(c.properties ->> %s, '')", joins, [prop]


def where_sql(
    *,
    project_id: int,
    start: datetime,
    end: datetime,
    event: str | None,
    action_steps: list | None,
    filters: list[dict],
    excluded: tuple[str, list] | None,
) -> tuple[str, list]:
    """Rows of the question: project, time range, event or action, property filters."""
    parts = ["e.project_id = %s", "e.timestamp >= %s", "e.timestamp < %s"]
    params: list = [project_id, start, end]
    if action_steps is not None:
        condition, more = action_where_sql(action_steps, alias="e")
    else:
        # relies on event_project_name_ts (project_id, name, timestamp)
        condition, more = "e.name = %s", [event]
    parts.append(condition)
    params += more
    for flt in filters:
        condition, more = event_filter_sql("e", flt["property"], flt["operator"], flt.get("value"))
        parts.append(condition)
        params += more
    if excluded is not None:
        counted, counted_params = excluded_sql("e.person_id", excluded)
        parts.append(counted)
        params += counted_params
    return " AND ".join(parts), params


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
    value_sql, joins, value_params = breakdown_sql(breakdown)
    where, where_params = where_sql(
        project_id=project_id, start=start, end=end, event=event, action_steps=action_steps,
        filters=filters, excluded=excluded,
    )  # fmt: skip
    # GROUPING SETS give, in one pass: per bucket and value, per value (series totals,
    # where persons are not a sum of buckets), per bucket (all values) and overall.
    sql = f"""
        WITH base AS (
            SELECT date_trunc(%s, e.timestamp AT TIME ZONE %s) AS bucket, e.person_id, {value_sql} AS value
            FROM tracking_event e{joins}
            WHERE {where}
        ),
        top AS (SELECT value FROM base GROUP BY value ORDER BY count(*) DESC, value LIMIT %s),
        tagged AS (
            SELECT b.bucket, b.person_id, t.value IS NOT NULL AS is_top, t.value AS shown
            FROM base b LEFT JOIN top t ON t.value = b.value
        )
        SELECT bucket, is_top, shown, count(*), count(DISTINCT person_id), GROUPING(bucket), GROUPING(is_top)
        FROM tagged
        GROUP BY GROUPING SETS ((bucket, is_top, shown), (is_top, shown), (bucket), ())
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [interval, zone, *value_params, *where_params, top_values])
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
    value_sql, joins, value_params = breakdown_sql(breakdown)
    where, where_params = where_sql(
        project_id=project_id, start=start, end=end, event=event, action_steps=action_steps,
        filters=filters, excluded=excluded,
    )  # fmt: skip
    extra, extra_params = "", []
    if breakdown is not None and breakdown_value is not None:
        extra, extra_params = f" AND {value_sql} = %s", [*value_params, breakdown_value]
    sql = (
        f"SELECT e.person_id, count(*) FROM tracking_event e{joins}"
        f" WHERE {where}{extra} GROUP BY e.person_id ORDER BY count(*) DESC, e.person_id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*where_params, *extra_params, limit])
        return cursor.fetchall()
