"""What the ClickHouse analyses share: steps as conditions, the traffic filter, segment members sent as tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

from tracking.eventstore.clickhouse.client import Client, Params, Rows
from tracking.eventstore.clickhouse.filters import action_where, json_filter
from tracking.eventstore.columns import bigint_columns

MICROSECOND = timedelta(microseconds=1)


def micros(delta: timedelta) -> int:
    return delta // MICROSECOND


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cohort_members(cohort_sql: str, params: list) -> tuple[Any, Any, datetime, datetime] | None:
    """A PostgreSQL cohort `(person_id, first_seen)` as two integer columns for ClickHouse, and its time span.

    Returns (ids, first moments as ClickHouse's `toUnixTimestamp64Micro`, earliest,
    latest), or None for an empty cohort. The moments are read as integers, and
    the columns as NumPy arrays (bigint_columns).
    """
    ids, firsts = bigint_columns(
        f"SELECT c.person_id, (extract(epoch FROM c.first_seen) * 1000000)::bigint AS first_us FROM ({cohort_sql}) c",
        params,
        ("person_id", "first_us"),
    )
    if not len(ids):
        return None
    return ids, firsts, from_micros(int(firsts.min())), from_micros(int(firsts.max()))


def from_micros(value: int) -> datetime:
    """The moment of a `toUnixTimestamp64Micro` value."""
    return _EPOCH + value * MICROSECOND


def in_groups(
    ch: Client, relation: str, columns: Sequence[str], groups: tuple[str, list] | None
) -> tuple[str, list]:
    """`SELECT columns…, grp FROM relation`, each row once for everyone and once per group of its `person_id`.

    Group 0 is everyone (group ids are positive). `groups` is a PostgreSQL query
    of `(group_id, person_id)`, a person in any number of groups, whose members
    go with the statement as a table: returns the statement and the `Rows` to
    pass to `Client.query`. Without groups, every row is in group 0 alone.
    """
    names = ", ".join(columns)
    if groups is None:
        return f"SELECT {names}, toInt64(0) AS grp FROM ({relation})", []
    group_ids, person_ids = bigint_columns(
        f"SELECT g.group_id, g.person_id FROM ({groups[0]}) g", groups[1], ("group_id", "person_id")
    )
    members = Rows("groups", ("group_id", "person_id"), (group_ids, person_ids))
    selected = ", ".join(f"x.{column} AS {column}" for column in columns)
    return (
        f"SELECT {names}, grp FROM (SELECT {selected}, g.ids AS ids FROM ({relation}) AS x"
        " LEFT JOIN (SELECT person_id, groupArray(group_id) AS ids"
        f" FROM {ch.rows_table(members)} GROUP BY person_id) AS g ON g.person_id = x.person_id)"
        " ARRAY JOIN arrayPushFront(ids, 0) AS grp"
    ), [members]


def moment(value: datetime, p: Params) -> str:
    """A bound instant, comparable with the events' `timestamp` (DateTime64(6, 'UTC'))."""
    return p.add(value, "DateTime64(6, 'UTC')")


def step_condition(step: dict | None, alias: str, p: Params) -> str:
    """The ClickHouse twin of tracking.eventstore.postgres.analysis_steps.step_sql."""
    if step is None:
        return "true"
    if "action_steps" in step:
        return action_where(step["action_steps"], alias, p)
    parts = [f"{alias}.name = {p.add(step['name'], 'String')}"]
    for flt in step.get("where") or ():
        parts.append(
            json_filter(f"{alias}.properties", flt["property"], flt["operator"], flt.get("value"), p)
        )
    return "(" + " AND ".join(parts) + ")"


def step_names(step: dict | None) -> list[str] | None:
    from tracking.eventstore.postgres.analysis_steps import step_names as names

    return names(step)


def excluded_condition(column: str, excluded: tuple[str, list] | None, p: Params) -> str:
    """`column NOT IN (the excluded persons)`, the ids computed in PostgreSQL and bound as an array.

    A NULL among the excluded ids makes PostgreSQL's `NOT IN` false for every row:
    so it is here.
    """
    if excluded is None:
        return "true"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT x.person_id FROM ({excluded[0]}) x", excluded[1])
        ids = [row[0] for row in cursor.fetchall()]
    if any(i is None for i in ids):
        return "false"
    if not ids:
        return "true"
    return f"{column} NOT IN {p.add(sorted(set(ids)), 'Array(Int64)')}"
