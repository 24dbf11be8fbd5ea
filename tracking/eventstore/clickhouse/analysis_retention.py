"""Retention returns on ClickHouse: the cohort comes from PostgreSQL, the return periods from the events.

The cohort (persons first seen in the range, with their first moment) is read
from PostgreSQL and bound as two arrays; ClickHouse reads the events of the
span every member's window can cover, keeps each member's own window and
gives back the distinct (person, period) pairs. Periods are whole microseconds
divided exactly, as PostgreSQL's floor of the epoch difference.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection

from tracking.eventstore.clickhouse.analysis_common import micros, moment, step_condition, unnest_sql
from tracking.eventstore.clickhouse.client import Params, client
from tracking.eventstore.clickhouse.reads import events_from

COLUMNS = (("person_id", "bigint"), ("period", "int"))


def returns_relation(
    *, project_id: int, cohort: tuple[str, list], step: dict | None, period: timedelta, periods: int
) -> tuple[str, list]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT c.person_id, c.first_seen FROM ({cohort[0]}) c", cohort[1])
        members = cursor.fetchall()
    if not members:
        return unnest_sql(COLUMNS, [])
    span = period * periods
    ch, p = client(), Params()
    first, last = min(m[1] for m in members), max(m[1] for m in members)
    where = f"timestamp >= {moment(first, p)} AND timestamp < {moment(last + span, p)}"
    ids = p.add([m[0] for m in members], "Array(Int64)")
    firsts = p.add([m[1] for m in members], "Array(DateTime64(6, 'UTC'))")
    rows = ch.query(
        "SELECT DISTINCT e.person_id, toInt32(intDiv(toUnixTimestamp64Micro(e.timestamp) - c.first_us,"
        f" {p.add(micros(period), 'Int64')}))"
        f" FROM {events_from(ch, project_id, p, where=where)}"
        " INNER JOIN (SELECT pair.1 AS person_id, toUnixTimestamp64Micro(pair.2) AS first_us"
        f" FROM (SELECT arrayJoin(arrayZip({ids}, {firsts})) AS pair)) AS c ON c.person_id = e.person_id"
        " WHERE toUnixTimestamp64Micro(e.timestamp) >= c.first_us"
        f" AND toUnixTimestamp64Micro(e.timestamp) < c.first_us + {p.add(micros(span), 'Int64')}"
        f" AND {step_condition(step, 'e', p)}",
        p,
    )
    return unnest_sql(COLUMNS, rows)
