"""Metric populations on ClickHouse: the event facts per person, the population and arithmetic in PostgreSQL.

Each function returns the PostgreSQL relation `person_id, y, mature` of its
kind (analysis.metrics). ClickHouse computes what needs the events — who did
the event in their window, each active person's last event and what followed
it, numeric property values, counts per local day — and PostgreSQL does the
rest from those rows, so numbers are PostgreSQL numerics on both backends:

- activation and retention: the cohort (persons first seen in the range) is
  read from PostgreSQL and sent with the query as a table (`client.Rows`);
  ClickHouse names the members who did the event in their own window;
  PostgreSQL flags them in the cohort.
- churn: per active person, the last event of the range and the first one
  after the range (the only events that can follow it); y comes out of
  ClickHouse, maturity is decided in PostgreSQL.
- value: the numeric texts (sl_numeric's meaning: a JSON number as written, or
  a string holding a plain decimal) go to PostgreSQL, which sums or averages
  them as numeric, exactly as before.
- frequency: matching events and active days per person; the division is
  PostgreSQL's numeric one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tracking.eventstore.arrays import MICROS, pg_array, unnest_sql
from tracking.eventstore.clickhouse.analysis_common import (
    cohort_members,
    micros,
    moment,
    step_condition,
)
from tracking.eventstore.clickhouse.client import Params, Rows, client
from tracking.eventstore.clickhouse.reads import events_from

# sl_numeric's numbers (tracking/migrations/0003_sl_numeric.py)
_NUMBER_TYPES = "('Int64', 'UInt64', 'Double')"
_NUMERIC = "'^-?[0-9]+(\\\\.[0-9]+)?$'"


def window_population(
    *,
    project_id: int,
    step: dict | None,
    start: datetime,
    end: datetime,
    window_start: timedelta,
    window_end: timedelta,
    inclusive_end: bool,
    now: datetime,
) -> tuple[str, list]:
    cohort = "FROM tracking_person p WHERE p.project_id = %s AND p.first_seen >= %s AND p.first_seen < %s"
    members = cohort_members(f"SELECT p.id AS person_id, p.first_seen {cohort}", [project_id, start, end])
    did: list[int] = []
    if members:
        member_ids, firsts_us, first, last = members
        ch, p = client(), Params()
        where = (
            f"timestamp >= {moment(first + window_start, p)} AND timestamp <= {moment(last + window_end, p)}"
        )
        cohort_rows = Rows("cohort", ("person_id", "first_us"), (member_ids, firsts_us))
        upper = "<=" if inclusive_end else "<"
        did = [
            row[0]
            for row in ch.query(
                "SELECT DISTINCT e.person_id"
                f" FROM {events_from(ch, project_id, p, where=where)}"
                f" INNER JOIN {ch.rows_table(cohort_rows)} AS c ON c.person_id = e.person_id"
                f" WHERE toUnixTimestamp64Micro(e.timestamp) >= c.first_us + {p.add(micros(window_start), 'Int64')}"
                f" AND toUnixTimestamp64Micro(e.timestamp) {upper} c.first_us + {p.add(micros(window_end), 'Int64')}"
                f" AND {step_condition(step, 'e', p)}",
                p,
                rows=[cohort_rows],
            )
        ]
    return (
        f"SELECT p.id AS person_id, (p.id IN (SELECT unnest(%s::bigint[])))::int AS y, p.first_seen + %s <= %s AS mature {cohort}",
        [pg_array(did), window_end, now, project_id, start, end],
    )


def churn_population(
    *, project_id: int, start: datetime, end: datetime, quiet: timedelta, now: datetime
) -> tuple[str, list]:
    ch, p = client(), Params()
    end_at = moment(end, p)
    where = f"timestamp >= {moment(start, p)} AND timestamp <= {moment(end + quiet, p)}"
    rows = ch.query_table(
        "SELECT person_id, toUInt8(isNull(next_at) OR toUnixTimestamp64Micro(assumeNotNull(next_at))"
        f" > toUnixTimestamp64Micro(last_at) + {p.add(micros(quiet), 'Int64')}), toUnixTimestamp64Micro(last_at) FROM ("
        f"SELECT e.person_id AS person_id, maxIf(e.timestamp, e.timestamp < {end_at}) AS last_at,"
        f" minIfOrNull(e.timestamp, e.timestamp >= {end_at}) AS next_at"
        f" FROM {events_from(ch, project_id, p, where=where)}"
        f" GROUP BY person_id HAVING countIf(e.timestamp < {end_at}) > 0)",
        p,
    )
    facts, params = unnest_sql((("person_id", "bigint"), ("y", "int"), ("last_at", MICROS)), rows)
    return f"SELECT l.person_id, l.y, l.last_at + %s <= %s AS mature FROM ({facts}) l", [quiet, now, *params]


def _numeric_text(column: str, key: str, p: Params) -> str:
    """Nullable(String): the value's text when sl_numeric reads a number from it, else NULL."""
    k = p.add(key, "String")
    return (
        f"multiIf(JSONType({column}, {k}) IN {_NUMBER_TYPES}, JSONExtractRaw({column}, {k}),"
        f" JSONType({column}, {k}) = 'String' AND match(JSONExtractString({column}, {k}), {_NUMERIC}),"
        f" JSONExtractString({column}, {k}), NULL)"
    )


def value_population(
    *, project_id: int, step: dict | None, prop: str, start: datetime, end: datetime, aggregate: str, per: str
) -> tuple[str, list]:
    ch, p = client(), Params()
    where = f"timestamp >= {moment(start, p)} AND timestamp < {moment(end, p)}"
    values = ch.query_table(
        f"SELECT person_id, x FROM (SELECT e.person_id AS person_id, {_numeric_text('e.properties', prop, p)} AS x"
        f" FROM {events_from(ch, project_id, p, where=where)} WHERE {step_condition(step, 'e', p)})"
        " WHERE x IS NOT NULL",
        p,
    )
    values_sql, values_params = unnest_sql((("person_id", "bigint"), ("x", "text")), values)
    if per == "active":
        p = Params()
        active = ch.query_table(
            f"SELECT DISTINCT e.person_id FROM {events_from(ch, project_id, p, where=_range(start, end, p))}",
            p,
        )
        active_sql, active_params = unnest_sql((("person_id", "bigint"),), active)
        return (
            "SELECT a.person_id, coalesce(sum(v.x::numeric), 0) AS y, true AS mature"
            f" FROM ({active_sql}) a LEFT JOIN ({values_sql}) v ON v.person_id = a.person_id GROUP BY a.person_id",
            [*active_params, *values_params],
        )
    function = "sum" if aggregate == "sum" else "avg"
    return (
        f"SELECT v.person_id, {function}(v.x::numeric) AS y, true AS mature FROM ({values_sql}) v GROUP BY v.person_id",
        values_params,
    )


def frequency_population(
    *, project_id: int, step: dict | None, start: datetime, end: datetime, zone: str
) -> tuple[str, list]:
    ch, p = client(), Params()
    rows = ch.query_table(
        "SELECT person_id, sum(matching), count() FROM ("
        f"SELECT e.person_id AS person_id, toDate(e.timestamp, {p.add(zone, 'String')}) AS day,"
        f" countIf({step_condition(step, 'e', p)}) AS matching"
        f" FROM {events_from(ch, project_id, p, where=_range(start, end, p))} GROUP BY person_id, day"
        ") GROUP BY person_id",
        p,
    )
    counts, params = unnest_sql((("person_id", "bigint"), ("m", "bigint"), ("d", "bigint")), rows)
    return f"SELECT c.person_id, c.m::numeric / c.d AS y, true AS mature FROM ({counts}) c", params


def _range(start: datetime, end: datetime, p: Params) -> str:
    return f"timestamp >= {moment(start, p)} AND timestamp < {moment(end, p)}"
