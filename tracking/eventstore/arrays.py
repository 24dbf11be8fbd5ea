"""Values found outside PostgreSQL (in ClickHouse, or worked out in NumPy), handed to it as arrays.

psycopg adapts a list of Python ints or Decimals one value at a time (70 ms
for 50,000 ids); the array's text form is joined in a few milliseconds and
PostgreSQL parses it as fast. `unnest_sql` turns such columns into a relation
that PostgreSQL statements join like a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date


def pg_array(numbers: Iterable[int | str]) -> str:
    """`{1,2,3}`: the text form of a one-dimensional array, to bind as `%s::bigint[]` or `%s::numeric[]`.

    Strings must already be numbers' text (ClickHouse's `toString` of an integer or a decimal)."""
    return "{" + ",".join(map(str, numbers)) + "}"


_UNQUOTED = frozenset({"bigint", "int", "integer", "smallint", "numeric", "double precision", "real"})


def pg_array_of(values: Iterable, pg_type: str) -> str:
    """The text form of a one-dimensional array of `pg_type` (bind as `%s::pg_type[]`); None is NULL.

    Numbers go as they print; every other value (text, dates, times: their ISO
    form) is quoted, with backslashes and double quotes escaped.
    """
    if pg_type in _UNQUOTED:
        values = values if isinstance(values, list | tuple) else list(values)
        if None not in values:  # the usual case, three times faster than testing every value
            return "{" + ",".join(map(str, values)) + "}"
        return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
    return "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"


def _quoted(value) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, date):  # datetimes too
        text = value.isoformat()
    else:
        text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# a column type for unnest_sql: moments as microseconds since the Unix epoch (ClickHouse's
# `toUnixTimestamp64Micro`, tracking.eventstore.columns' timestamptz), a timestamptz in PostgreSQL
MICROS = "micros"


def unnest_sql(columns: Sequence[tuple[str, str]], rows) -> tuple[str, list]:
    """`SELECT … FROM unnest(%s::t1[], …) AS u(c1, …)`: a result found outside PostgreSQL as a relation.

    `rows` is a sequence of tuples, or a pyarrow Table (ClickHouse's `Client.query_table`, NumPy columns)
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


def values_sql(columns: Sequence[tuple[str, str]], rows: Sequence[tuple]) -> tuple[str, list]:
    """`SELECT * FROM (VALUES (%s::t1, …), …) AS v(c1, …)`: a few rows found outside PostgreSQL as a relation.

    For short results whose columns unnest cannot carry (arrays); every value is a parameter.
    """
    if not rows:
        casts = ", ".join(f"NULL::{pg_type} AS {name}" for name, pg_type in columns)
        return f"SELECT {casts} WHERE false", []
    row = "(" + ", ".join(f"%s::{pg_type}" for _, pg_type in columns) + ")"
    names = ", ".join(name for name, _ in columns)
    return f"SELECT * FROM (VALUES {', '.join([row] * len(rows))}) AS v({names})", [
        v for r in rows for v in r
    ]
