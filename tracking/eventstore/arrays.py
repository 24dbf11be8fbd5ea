"""Numbers found outside PostgreSQL, handed to it as arrays.

psycopg adapts a list of Python ints or Decimals one value at a time (70 ms
for 50,000 ids); the array's text form is joined in a few milliseconds and
PostgreSQL parses it as fast. Only for numbers: nothing here quotes.
"""

from __future__ import annotations

from collections.abc import Iterable
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
