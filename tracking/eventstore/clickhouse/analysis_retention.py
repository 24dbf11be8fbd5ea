"""Retention returns on ClickHouse: the cohort comes from PostgreSQL, the return periods from the events.

The cohort (persons first seen in the range, with their first moment) is read
from PostgreSQL and sent with the query as a table (`client.Rows`); ClickHouse
reads the events of the span every member's window can cover, keeps each
member's own window and gives back the distinct (person, period) pairs.
Periods are whole microseconds divided exactly, as PostgreSQL's floor of the
epoch difference.

`counts_relation` counts there too: the cohort's members go with their cohort
(a day number) and the groups' members as a second table, and a few hundred
counts come back instead of every (person, period) pair.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tracking.eventstore.arrays import unnest_sql
from tracking.eventstore.clickhouse.analysis_common import (
    cohort_members,
    from_micros,
    in_groups,
    micros,
    moment,
    step_condition,
)
from tracking.eventstore.clickhouse.client import Params, Rows, client
from tracking.eventstore.clickhouse.reads import events_from
from tracking.eventstore.columns import bigint_columns

COLUMNS = (("person_id", "bigint"), ("period", "int"))


def _returns(
    *,
    project_id: int,
    table: str,
    first: datetime,
    last: datetime,
    step: dict | None,
    period: timedelta,
    periods: int,
    p: Params,
    columns: str = "",
) -> str:
    """`SELECT DISTINCT person_id, period[, columns]` of the members in `table` (person_id, first_us, …)."""
    span = period * periods
    where = f"timestamp >= {moment(first, p)} AND timestamp < {moment(last + span, p)}"
    return (
        f"SELECT DISTINCT e.person_id AS person_id, toInt32(intDiv(toUnixTimestamp64Micro(e.timestamp) - c.first_us,"
        f" {p.add(micros(period), 'Int64')})) AS period{columns}"
        f" FROM {events_from(client(), project_id, p, where=where)}"
        f" INNER JOIN {table} AS c ON c.person_id = e.person_id"
        " WHERE toUnixTimestamp64Micro(e.timestamp) >= c.first_us"
        f" AND toUnixTimestamp64Micro(e.timestamp) < c.first_us + {p.add(micros(span), 'Int64')}"
        f" AND {step_condition(step, 'e', p)}"
    )


def returns_relation(
    *, project_id: int, cohort: tuple[str, list], step: dict | None, period: timedelta, periods: int
) -> tuple[str, list]:
    members = cohort_members(cohort[0], cohort[1])
    if members is None:
        return unnest_sql(COLUMNS, [])
    member_ids, firsts_us, first, last = members
    ch, p = client(), Params()
    cohort_rows = Rows("cohort", ("person_id", "first_us"), (member_ids, firsts_us))
    returns = _returns(
        project_id=project_id, table=ch.rows_table(cohort_rows), first=first, last=last,
        step=step, period=period, periods=periods, p=p,
    )  # fmt: skip
    return unnest_sql(COLUMNS, ch.query_table(returns, p, rows=[cohort_rows]))


_EPOCH_DAY = date(1970, 1, 1)
COUNT_COLUMNS = (("cohort", "date"), ("group_id", "bigint"), ("period", "int"), ("persons", "bigint"))


def counts_relation(
    *,
    project_id: int,
    cohort: tuple[str, list],
    groups: tuple[str, list],
    step: dict | None,
    period: timedelta,
    periods: int,
) -> tuple[str, list]:
    ids, firsts, cohorts = bigint_columns(
        "SELECT c.person_id, (extract(epoch FROM c.first_seen) * 1000000)::bigint AS first_us,"
        f" (c.cohort - date '1970-01-01')::bigint AS cohort FROM ({cohort[0]}) c",
        cohort[1],
        ("person_id", "first_us", "cohort"),
    )
    if not len(ids):
        return unnest_sql(COUNT_COLUMNS, [])
    ch, p = client(), Params()
    cohort_rows = Rows("cohort", ("person_id", "first_us", "cohort"), (ids, firsts, cohorts))
    table = ch.rows_table(cohort_rows)
    returns = _returns(
        project_id=project_id, table=table, first=from_micros(int(firsts.min())), last=from_micros(int(firsts.max())),
        step=step, period=period, periods=periods, p=p, columns=", c.cohort AS cohort",
    )  # fmt: skip
    # each member once with period -1 (the cohort's size) and once per period they came back
    members = f"SELECT person_id, toInt32(-1) AS period, cohort FROM {table} UNION ALL {returns}"
    grouped, sent = in_groups(ch, members, ("person_id", "period", "cohort"), groups)
    rows = ch.query(
        f"SELECT cohort, grp, period, count() FROM ({grouped}) GROUP BY cohort, grp, period",
        p,
        rows=[cohort_rows, *sent],
    )
    return unnest_sql(COUNT_COLUMNS, [(_EPOCH_DAY + timedelta(days=c), *rest) for c, *rest in rows])
