"""Retention returns on ClickHouse: the cohort comes from PostgreSQL, the return periods from the events.

The cohort (persons first seen in the range, with their first moment) is read
from PostgreSQL and sent with the query as a table (`client.Rows`); ClickHouse
reads the events of the span every member's window can cover, keeps each
member's own window and gives back the distinct (person, period) pairs.
Periods are whole microseconds divided exactly, as PostgreSQL's floor of the
epoch difference.
"""

from __future__ import annotations

from datetime import timedelta

from tracking.eventstore.clickhouse.analysis_common import (
    cohort_members,
    micros,
    moment,
    step_condition,
    unnest_sql,
)
from tracking.eventstore.clickhouse.client import Params, Rows, client
from tracking.eventstore.clickhouse.reads import events_from

COLUMNS = (("person_id", "bigint"), ("period", "int"))


def returns_relation(
    *, project_id: int, cohort: tuple[str, list], step: dict | None, period: timedelta, periods: int
) -> tuple[str, list]:
    members = cohort_members(cohort[0], cohort[1])
    if members is None:
        return unnest_sql(COLUMNS, [])
    member_ids, firsts_us, first, last = members
    span = period * periods
    ch, p = client(), Params()
    where = f"timestamp >= {moment(first, p)} AND timestamp < {moment(last + span, p)}"
    cohort_rows = Rows("cohort", ("person_id", "first_us"), (member_ids, firsts_us))
    rows = ch.query_table(
        "SELECT DISTINCT e.person_id, toInt32(intDiv(toUnixTimestamp64Micro(e.timestamp) - c.first_us,"
        f" {p.add(micros(period), 'Int64')}))"
        f" FROM {events_from(ch, project_id, p, where=where)}"
        f" INNER JOIN {ch.rows_table(cohort_rows)} AS c ON c.person_id = e.person_id"
        " WHERE toUnixTimestamp64Micro(e.timestamp) >= c.first_us"
        f" AND toUnixTimestamp64Micro(e.timestamp) < c.first_us + {p.add(micros(span), 'Int64')}"
        f" AND {step_condition(step, 'e', p)}",
        p,
        rows=[cohort_rows],
    )
    return unnest_sql(COLUMNS, rows)
