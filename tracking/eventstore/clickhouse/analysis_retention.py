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

from tracking.eventstore.clickhouse.analysis_common import (
    bigint_columns,
    cohort_members,
    from_micros,
    group_members,
    micros,
    moment,
    step_condition,
    unnest_sql,
)
from tracking.eventstore.clickhouse.client import Params, Rows, client
from tracking.eventstore.clickhouse.reads import events_from

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
_COUNTS = "SELECT * FROM (VALUES {rows}) AS r(cohort, group_id, period, persons)"


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
        return _COUNTS.format(rows="(NULL::date, NULL::bigint, NULL::int, NULL::bigint)") + " WHERE false", []
    ch, p = client(), Params()
    cohort_rows = Rows("cohort", ("person_id", "first_us", "cohort"), (ids, firsts, cohorts))
    group_ids, person_ids = group_members(groups)
    group_rows = Rows("groups", ("group_id", "person_id"), (group_ids, person_ids))
    table = ch.rows_table(cohort_rows)
    returns = _returns(
        project_id=project_id, table=table, first=from_micros(int(firsts.min())), last=from_micros(int(firsts.max())),
        step=step, period=period, periods=periods, p=p, columns=", c.cohort AS cohort",
    )  # fmt: skip
    # each member once with period -1 (the cohort's size) and once per period they came back;
    # counted for everyone (group 0: segment ids are positive) and for each of their groups
    statement = (
        "SELECT cohort, grp, period, count() FROM (SELECT x.cohort AS cohort, x.period AS period, g.ids AS ids"
        f" FROM (SELECT person_id, toInt32(-1) AS period, cohort FROM {table} UNION ALL {returns}) AS x"
        " LEFT JOIN (SELECT person_id, groupArray(group_id) AS ids"
        f" FROM {ch.rows_table(group_rows)} GROUP BY person_id) AS g ON g.person_id = x.person_id)"
        " ARRAY JOIN arrayPushFront(ids, 0) AS grp GROUP BY cohort, grp, period"
    )
    rows = ch.query(statement, p, rows=[cohort_rows, group_rows])
    values = ", ".join(["(%s::date, %s::bigint, %s::int, %s::bigint)"] * len(rows))
    params = [v for c, grp, n, count in rows for v in (_EPOCH_DAY + timedelta(days=c), grp, n, count)]
    return _COUNTS.format(rows=values), params
