"""Property filters: one meaning, two implementations (SQL and Python).

A filter is `{"property": P, "operator": OP, "value": V}`. It applies to a JSON
object (event, person or company properties: `jsonb_filter_sql` /
`jsonb_filter_match`) or to a plain text column (session browser, country…:
`column_filter_sql` / `column_filter_match`). The Python side exists for
ingestion-time matching and as the reference the SQL side is tested against;
both must give the same answer for the same data.

Semantics (documented in docs/segments.md):

- A JSON value is compared through its text form, as PostgreSQL's `->>` gives
  it: strings as-is, `true`/`false`, numbers as written; JSON null and a missing
  key have no text form.
- `eq`, `in`: the text form equals the value (or one of the values).
  `neq`, `not_in`: the negation — a missing property is "not equal".
- `contains`, `not_contains`: case-insensitive substring (ASCII case folding);
  a missing property does not contain anything.
- `regex`: the text form matches the regular expression (search, not full match).
- `gt`, `gte`, `lt`, `lte`: with a numeric value, numeric comparison of JSON
  numbers and numeric strings (others never match); with a string value,
  text comparison (works for ISO 8601 dates).
- `is_set` / `is_not_set`: the key is present (even with a null value) / absent.
  For text columns, set means non-empty.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import DatabaseError, connection, transaction

OPERATORS = (
    "eq", "neq", "in", "not_in", "contains", "not_contains", "regex",
    "gt", "gte", "lt", "lte", "is_set", "is_not_set",
)  # fmt: skip
COMPARATORS = ("eq", "neq", "gt", "gte", "lt", "lte")
_CMP_SQL = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "<>"}
_NUMERIC_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
MAX_LIST = 1000
MAX_VALUE_LENGTH = 1000


class FilterError(ValueError):
    """A filter that cannot be evaluated; the message says why (and which part, when known)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def text_form(value: Any) -> str | None:
    """The text PostgreSQL's `->>` gives for a JSON value (None for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return float_text(value)
    # objects and arrays in PostgreSQL's spacing (key order may still differ: not comparable)
    return json.dumps(value, ensure_ascii=False)


def float_text(value: float) -> str:
    """What `->>` gives for a float as ingestion stores it (orjson's shortest form, read as numeric).

    Written in fixed notation ("10.0", "0.00012") it reads back as written;
    in exponent notation ("1e+16", "1.5e-7") as its plain digits without a
    fraction ("10000000000000000", "0.00000015"). PostgreSQL has no -0.
    """
    if value == 0:
        return "0.0"
    text = format(Decimal(repr(value)), "f")
    if abs(value) < 1e16 and "." not in text:
        text += ".0"  # integral values below 1e16 are written "N.0"
    return text


def _number(value: Any) -> Decimal | None:
    if _is_number(value):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    if isinstance(value, str) and _NUMERIC_TEXT.match(value):
        return Decimal(value)
    return None


def regex_error(pattern: str) -> str | None:
    """Why a regular expression is unusable (by Python, PostgreSQL, or RE2 when events are in ClickHouse), or None."""
    if not isinstance(pattern, str) or not pattern:
        return "the regular expression is empty"
    if len(pattern) > MAX_VALUE_LENGTH:
        return f"the regular expression is longer than {MAX_VALUE_LENGTH} characters"
    try:
        re.compile(pattern)
    except re.error as error:
        return f"invalid regular expression: {error}"

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT '' ~ %s", [pattern])
    except DatabaseError as error:
        message = str(getattr(error, "__cause__", error) or error).splitlines()[0]
        return f"invalid regular expression for PostgreSQL: {message}"
    from tracking.eventstore import using_clickhouse

    if using_clickhouse():
        # events are matched by ClickHouse's RE2: no lookaround, no backreferences
        from tracking.eventstore.clickhouse.filters import regex_problem

        problem = regex_problem(pattern)
        if problem:
            return f"invalid regular expression for ClickHouse (RE2): {problem}"
    return None


def validate_filter(operator: Any, value: Any, *, check_regex: bool = True) -> None:
    """Raise FilterError when an operator/value pair cannot be evaluated."""
    if operator not in OPERATORS:
        raise FilterError(f"unknown operator {operator!r}; use one of {', '.join(OPERATORS)}")
    if operator in ("is_set", "is_not_set"):
        return
    if operator in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise FilterError(f"{operator} needs a non-empty list of values")
        if len(value) > MAX_LIST:
            raise FilterError(f"{operator} takes at most {MAX_LIST} values")
        for item in value:
            if not (isinstance(item, str | bool) or _is_number(item)):
                raise FilterError(f"{operator} values must be strings, numbers or booleans")
        return
    if operator in ("gt", "gte", "lt", "lte"):
        if not (_is_number(value) or isinstance(value, str)):
            raise FilterError(f"{operator} needs a number (or a string, compared as text)")
        return
    if not (isinstance(value, str | bool) or _is_number(value)):
        raise FilterError(f"{operator} needs a string, number or boolean value")
    if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
        raise FilterError(f"the value is longer than {MAX_VALUE_LENGTH} characters")
    if operator in ("contains", "not_contains", "regex") and not isinstance(value, str):
        raise FilterError(f"{operator} needs a string value")
    if operator == "regex" and check_regex:
        problem = regex_error(value)
        if problem:
            raise FilterError(problem)


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains_sql(text: str, text_params: list, value: str) -> tuple[str, list]:
    """`text ILIKE '%value%'` (case folded as the database's ILIKE does), computed faster when it can be.

    ILIKE under a UTF-8 collation lowercases every string through wide characters,
    which costs more than reading the row. For an ASCII `value` the same answer
    comes from ASCII folding on ASCII text, and from the full ILIKE only on text
    that holds other characters: lowercasing maps character to character, so an
    ASCII match found with ASCII folding is one with full folding too, and ASCII
    text folds the same way under both. The ASCII folding is the C collation's
    `lower` (byte by byte) and `strpos` of the folded value; the C collation's
    ILIKE folds the same way but lowers the pattern again for every row (a scan
    of 7.8M page views' URLs: 6.1 s against 4.9 s). (Locales that fold ASCII
    letters out of ASCII, the Turkish dotted I, are not ones Sightline runs
    under: ClickHouse folds as C.UTF-8 does.)
    """
    pattern = _like_pattern(value)
    if not value.isascii():
        return f"{text} ILIKE %s", [*text_params, pattern]
    return (
        f'(strpos(lower({text} COLLATE "C"), %s) > 0'
        f" OR (octet_length({text}) <> char_length({text}) AND {text} ILIKE %s))",
        [*text_params, value.lower(), *text_params, *text_params, *text_params, pattern],
    )


def _check_column(expression: str) -> str:
    # Column expressions come from code, never from users; this guards against mistakes.
    if not _COLUMN.match(expression):
        raise ValueError(f"not a column expression: {expression!r}")
    return expression


def _text_filter_sql(text: str, text_params: list, operator: str, value: Any) -> tuple[str, list] | None:
    """The filters decided by a value's text form alone (SQL NULL: no text form), or None."""
    if operator == "eq":
        return f"coalesce({text} = %s, false)", [*text_params, text_form(value)]
    if operator == "neq":
        return f"({text} IS DISTINCT FROM %s)", [*text_params, text_form(value)]
    if operator == "in":
        return f"coalesce({text} = ANY(%s::text[]), false)", [*text_params, [text_form(v) for v in value]]
    if operator == "not_in":
        return f"NOT coalesce({text} = ANY(%s::text[]), false)", [*text_params, [text_form(v) for v in value]]
    if operator in ("contains", "not_contains"):
        sql, params = _contains_sql(text, text_params, value)
        return f"{'NOT ' if operator == 'not_contains' else ''}coalesce({sql}, false)", params
    if operator == "regex":
        return f"coalesce({text} ~ %s, false)", [*text_params, value]
    if operator in ("gt", "gte", "lt", "lte") and not _is_number(value):
        return f"coalesce({text} {_CMP_SQL[operator]} %s, false)", [*text_params, value]
    return None


def jsonb_filter_sql(column: str, key: str, operator: str, value: Any) -> tuple[str, list]:
    """SQL boolean (never NULL) for a filter on `column->key`; the column may be NULL (a LEFT JOIN)."""
    col = _check_column(column)
    by_text = _text_filter_sql(f"({col} ->> %s)", [key], operator, value)
    if by_text is not None:
        return by_text
    if operator in ("gt", "gte", "lt", "lte"):
        # sl_numeric (migration tracking 0003) gives numbers and numeric strings as numeric, else NULL
        return f"coalesce(sl_numeric({col} -> %s) {_CMP_SQL[operator]} %s, false)", [key, Decimal(str(value))]
    if operator == "is_set":
        return f"coalesce({col} ? %s, false)", [key]
    if operator == "is_not_set":
        return f"NOT coalesce({col} ? %s, false)", [key]
    raise FilterError(f"unknown operator {operator!r}")


# Event properties that PostgreSQL also keeps in a column of the events (tracking.Event), generated from
# the properties (`pathname` is `properties ->> '$pathname'`, migration tracking 0017) and
# included in event_project_name_ts, so a filter on one reads the index instead of the rows.
LIFTED_EVENT_PROPERTIES = {"$pathname": "pathname"}


def event_filter_sql(alias: str, key: str, operator: str, value: Any) -> tuple[str, list]:
    """`jsonb_filter_sql` on the properties of the events aliased `alias`, through a lifted column
    where one holds the same text (the filters decided by the text form; the others read the JSON)."""
    column = LIFTED_EVENT_PROPERTIES.get(key)
    if column is not None:
        by_text = _text_filter_sql(_check_column(f"{alias}.{column}"), [], operator, value)
        if by_text is not None:
            return by_text
    return jsonb_filter_sql(f"{alias}.properties", key, operator, value)


def jsonb_filter_match(properties: dict | None, key: str, operator: str, value: Any) -> bool:
    """The Python twin of `jsonb_filter_sql`."""
    props = properties or {}
    present = key in props
    text = text_form(props.get(key)) if present else None
    if operator == "eq":
        return text is not None and text == text_form(value)
    if operator == "neq":
        return text != text_form(value)
    if operator == "in":
        return text is not None and text in {text_form(v) for v in value}
    if operator == "not_in":
        return text is None or text not in {text_form(v) for v in value}
    if operator == "contains":
        return text is not None and _ascii_lower(value) in _ascii_lower(text)
    if operator == "not_contains":
        return text is None or _ascii_lower(value) not in _ascii_lower(text)
    if operator == "regex":
        return text is not None and re.search(value, text) is not None
    if operator in ("gt", "gte", "lt", "lte"):
        if _is_number(value):
            number = _number(props.get(key)) if present else None
            return number is not None and _compare(number, operator, Decimal(str(value)))
        return text is not None and _compare(text, operator, value)
    if operator == "is_set":
        return present
    if operator == "is_not_set":
        return not present
    raise FilterError(f"unknown operator {operator!r}")


def column_filter_sql(column: str, operator: str, value: Any) -> tuple[str, list]:
    """SQL boolean for a filter on a text column where '' means unset."""
    col = _check_column(column)
    if operator == "eq":
        return f"{col} = %s", [text_form(value)]
    if operator == "neq":
        return f"{col} <> %s", [text_form(value)]
    if operator == "in":
        return f"{col} = ANY(%s::text[])", [[text_form(v) for v in value]]
    if operator == "not_in":
        return f"NOT ({col} = ANY(%s::text[]))", [[text_form(v) for v in value]]
    if operator == "contains":
        return _contains_sql(col, [], value)
    if operator == "not_contains":
        sql, params = _contains_sql(col, [], value)
        return f"NOT ({sql})", params
    if operator == "regex":
        return f"{col} ~ %s", [value]
    if operator in ("gt", "gte", "lt", "lte"):
        if _is_number(value):
            return f"coalesce(sl_numeric(to_jsonb({col})) {_CMP_SQL[operator]} %s, false)", [
                Decimal(str(value))
            ]
        return f"{col} {_CMP_SQL[operator]} %s", [value]
    if operator == "is_set":
        return f"{col} <> ''", []
    if operator == "is_not_set":
        return f"{col} = ''", []
    raise FilterError(f"unknown operator {operator!r}")


def column_filter_match(text: str, operator: str, value: Any) -> bool:
    """The Python twin of `column_filter_sql`."""
    if operator == "is_set":
        return text != ""
    if operator == "is_not_set":
        return text == ""
    if operator == "neq":
        return text != text_form(value)
    if operator == "not_in":
        return text not in {text_form(v) for v in value}
    if operator == "not_contains":
        return _ascii_lower(value) not in _ascii_lower(text)
    return jsonb_filter_match({"v": text}, "v", operator, value)


def compare(left: Any, operator: str, right: Any) -> bool:
    """CMP = eq | neq | gt | gte | lt | lte on two numbers."""
    return _compare(left, operator, right)


def compare_sql(operator: str) -> str:
    if operator not in COMPARATORS:
        raise FilterError(f"unknown comparison {operator!r}; use one of {', '.join(COMPARATORS)}")
    return _CMP_SQL[operator]


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator == "eq":
        return left == right
    if operator == "neq":
        return left != right
    if operator == "gt":
        return left > right
    if operator == "gte":
        return left >= right
    if operator == "lt":
        return left < right
    if operator == "lte":
        return left <= right
    raise FilterError(f"unknown comparison {operator!r}")


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
