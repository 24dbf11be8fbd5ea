"""What the ClickHouse analyses share: steps as conditions, the traffic filter, results as PostgreSQL relations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

from tracking.eventstore.arrays import pg_array_of
from tracking.eventstore.clickhouse.client import Client, Params, Rows
from tracking.eventstore.clickhouse.filters import action_where, json_filter

MICROSECOND = timedelta(microseconds=1)


def micros(delta: timedelta) -> int:
    return delta // MICROSECOND


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bigint_columns(sql: str, params: list, names: Sequence[str]) -> list:
    """The bigint columns `names` of a PostgreSQL query (no NULLs) as NumPy arrays, for a `client.Rows`.

    PostgreSQL packs each column into one bytea (`int8send`, 8 bytes big-endian a
    value) and NumPy reads it in one go. Fetched as rows, every value is a Python
    object and a 500,000-member cohort with moments and cohorts took 0.7 s; COPY's
    binary format is read one row a message, slower still.
    """
    import numpy as np

    packed = ", ".join(f"string_agg(int8send(x.{name}), ''::bytea)" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), {packed} FROM ({sql}) x", params)
        count, *values = cursor.fetchone()
    columns = [np.frombuffer(value or b"", dtype=">i8").astype("<i8") for value in values]
    if any(len(column) != count for column in columns):  # string_agg skips NULLs
        raise ValueError(f"NULL in a column of {', '.join(names)}")
    return columns


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


# a column type for unnest_sql: moments given as ClickHouse's `toUnixTimestamp64Micro`, a timestamptz in PostgreSQL
MICROS = "micros"


def unnest_sql(columns: Sequence[tuple[str, str]], rows) -> tuple[str, list]:
    """`SELECT … FROM unnest(%s::t1[], …) AS u(c1, …)`: ClickHouse's result as a PostgreSQL relation.

    `rows` is a sequence of tuples, or a pyarrow Table (`Client.query_table`)
    whose columns are `columns` in order: long results go that way, each column's
    array text joined by Arrow without a Python value per cell (a 500,000-row
    result: 0.9 s as tuples, of which 0.4 s only to transpose them).
    A `MICROS` column holds integers and comes out as a timestamptz, exactly (a
    microsecond interval times an integer below 2^53): long results carry their
    moments as numbers, whose text is a tenth of the cost of a datetime's.
    """
    sent = ["bigint" if pg_type == MICROS else pg_type for _, pg_type in columns]
    if not isinstance(rows, Sequence) and rows.num_columns == 0:
        rows = []  # chDB's empty result has no columns
    if isinstance(rows, Sequence):
        values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
        arrays = [pg_array_of(column, pg_type) for column, pg_type in zip(values, sent, strict=True)]
    else:
        arrays = [
            arrow_array_text(column, pg_type) for column, pg_type in zip(rows.columns, sent, strict=True)
        ]
    casts = ", ".join(f"%s::{pg_type}[]" for pg_type in sent)
    names = ", ".join(name for name, _ in columns)
    selected = ", ".join(
        f"timestamptz 'epoch' + u.{name} * interval '1 microsecond' AS {name}"
        if pg_type == MICROS
        else f"u.{name}"
        for name, pg_type in columns
    )
    return f"SELECT {selected} FROM unnest({casts}) AS u({names})", arrays


_NUMBERS = frozenset({"bigint", "int"})


def arrow_array_text(column, pg_type: str) -> str:
    """An Arrow column (integers or text) in PostgreSQL's array text, as `pg_array_of` writes it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pg_type in _NUMBERS and (pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)):
        texts = pc.cast(pc.cast(column, pa.int64()), pa.string())
    elif pg_type == "text" and (pa.types.is_string(column.type) or pa.types.is_binary(column.type)):
        texts = pc.cast(column, pa.string()) if pa.types.is_binary(column.type) else column
        texts = pc.replace_substring(pc.replace_substring(texts, "\\", "\\\\"), '"', '\\"')
        texts = pc.binary_join_element_wise("", texts, "", '"')  # '' + "x" + '', joined by a quote
    else:
        return pg_array_of(column.to_pylist(), pg_type)
    texts = pc.fill_null(texts, "NULL")
    if len(texts) == 0:
        return "{}"
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    joined = pc.binary_join(pa.LargeListArray.from_arrays(pa.array([0, len(texts)], pa.int64()), texts), ",")
    return "{" + joined[0].as_py() + "}"
