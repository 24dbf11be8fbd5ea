"""Property filters and action steps in ClickHouse SQL, with the meaning of tracking.properties.

The PostgreSQL side (`jsonb_filter_sql`, `column_filter_sql`, `action_where_sql`)
and the Python twins define the meaning; these give the same answers over the
same data (the three-way hypothesis tests in tests/tracking/test_properties.py,
test_action_matching.py and test_selectors.py). How:

- The JSON text form: ClickHouse stores the properties as the JSON text
  ingestion wrote. A string reads as its value, true/false as such, an integer
  as written, a double as PostgreSQL's numeric reads orjson's text ("10.0",
  "10000000000000000" for 1e+16: `json_text`); null and a missing key have no
  text form, as with `->>`.
- Case folding for `contains` is Unicode's simple folding, as PostgreSQL's
  ILIKE under the C.UTF-8 collation ("É" contains "é"); the Python twin folds
  ASCII only, a difference between PostgreSQL and Python that predates this.
- Regular expressions run on RE2 with `.` matching newlines (`dotall`), as in
  PostgreSQL. RE2 has no lookaround or backreferences: with ClickHouse active,
  `tracking.properties.regex_error` refuses such patterns (`regex_problem`).
  Selectors compile to a lookahead-free pattern over the chain with each
  element's fields sorted (`tracking.matching.re2`, `sorted_chain`).

Differences the engines force (docs/segments.md):
- numbers compare as Decimal256 with 20 digits after the point (PostgreSQL's
  numeric is exact);
- `\\w` is ASCII-only in RE2; `\\b` is a word boundary in RE2 (a backspace in
  PostgreSQL).

Every value is a `{name:Type}` parameter; column expressions come from code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from tracking.eventstore.clickhouse.client import ClickHouseUnavailable, Params, client
from tracking.matching.actions import DEFAULT_MATCHING
from tracking.matching.re2 import selector_regex_sorted
from tracking.properties import FilterError, text_form

_CMP = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "!="}
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
_NUMERIC = "'^-?[0-9]+(\\\\.[0-9]+)?$'"
_NUMBER_TYPES = "('Int64', 'UInt64', 'Double')"
_DECIMAL = "Decimal256(20)"
_FILTER_OPERATOR = {"exact": "eq", "contains": "contains", "regex": "regex"}


def _column(expression: str) -> str:
    if not _COLUMN.match(expression):
        raise ValueError(f"not a column expression: {expression!r}")
    return expression


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain(raw: str, tag: str) -> str:
    """String: a number ClickHouse printed in exponent form ("1.5e-7", "1e21") as plain digits.

    ClickHouse prints a double's shortest digits, in exponent form below 1e-5
    and from 1e21; PostgreSQL's numeric reads the stored text into plain digits.
    `raw` is an alias; the parts get aliases suffixed `tag` (query-wide names).
    """
    unsigned = f"trimLeft(splitByChar('e', {raw})[1], '-')"
    digits, point = f"_digits_{tag}", f"_point_{tag}"
    digits_def = f"(replaceOne({unsigned}, '.', '') AS {digits})"
    point_def = f"(toInt64(length(splitByChar('.', {unsigned})[1])) + toInt64OrZero(splitByChar('e', {raw})[2]) AS {point})"
    plain = (
        f"multiIf({point_def} >= length({digits_def}), concat({digits}, repeat('0', toUInt64(greatest({point} - length({digits}), 0)))),"
        f" {point} <= 0, concat('0.', repeat('0', toUInt64(greatest(-{point}, 0))), {digits}),"
        f" concat(substring({digits}, 1, {point}), '.', substring({digits}, {point} + 1)))"
    )
    return f"if(position({raw}, 'e') > 0, concat(if(startsWith({raw}, '-'), '-', ''), {plain}), {raw})"


def _double_text(raw: str, tag: str) -> str:
    """String: the text PostgreSQL's `->>` gives for a JSON double as ingestion wrote it (orjson).

    orjson writes integral values below 1e16 as "N.0", which numeric keeps;
    everything else reads as its plain shortest digits (tracking.properties.float_text).
    """
    plain = f"_plain_{tag}"
    return (
        f"multiIf(toFloat64OrZero({raw}) = 0, '0.0',"
        f" abs(toFloat64OrZero({raw})) < 1e16 AND position(({_plain(raw, tag)} AS {plain}), '.') = 0,"
        f" concat({plain}, '.0'), {plain})"
    )


def json_text(column: str, key: str, p: Params) -> str:
    """Nullable(String): the text form of `column`'s `key` (NULL for null or missing), as `->>` gives it.

    Its parts carry query-wide aliases made unique by the key's parameter name
    (ClickHouse resolves an alias wherever it is defined in the expression).
    """
    col, k = _column(column), p.add(key, "String")
    tag = k[1:].split(":")[0]
    kind, raw = f"_type_{tag}", f"_raw_{tag}"
    return (
        f"multiIf((JSONType({col}, {k}) AS {kind}) = 'String', JSONExtractString({col}, {k}),"
        f" {kind} = 'Null', NULL, {kind} = 'Double', {_double_text(raw, tag)},"
        f" (JSONExtractRaw({col}, {k}) AS {raw}))"
    )


def json_number(column: str, key: str, p: Params) -> str:
    """Nullable(Decimal): a JSON number, or a string holding a plain decimal number; else NULL."""
    col, k = _column(column), p.add(key, "String")
    return (
        f"multiIf(JSONType({col}, {k}) IN {_NUMBER_TYPES}, toDecimal256OrNull(JSONExtractRaw({col}, {k}), 20),"
        f" JSONType({col}, {k}) = 'String' AND match(JSONExtractString({col}, {k}), {_NUMERIC}),"
        f" toDecimal256OrNull(JSONExtractString({col}, {k}), 20), NULL)"
    )


# Decimal256(20) holds magnitudes below 10^56; a bound beyond it cannot be a parameter of that type
_DECIMAL_LIMIT = Decimal(10) ** 55


def number_compare(number: str, operator: str, value: Any, p: Params) -> str:
    """A boolean (never NULL): the Nullable(Decimal) `number` compared with `value`; NULL never holds.

    A value too large for Decimal256(20) (or NaN, which PostgreSQL orders above
    every number) is beyond every number ClickHouse reads, so the answer is
    the same for all of them.
    """
    bound = Decimal(str(value))
    if bound.is_finite() and abs(bound) < _DECIMAL_LIMIT:
        return f"ifNull({number} {_CMP[operator]} {p.add(bound, _DECIMAL)}, 0)"
    above_all = bound.is_nan() or bound > 0
    holds = {"gt": not above_all, "gte": not above_all, "lt": above_all, "lte": above_all, "eq": False}
    return f"(({number}) IS NOT NULL AND {'true' if holds.get(operator, True) else 'false'})"


def _texts(values: Iterable, p: Params) -> str:
    return p.add([text_form(v) for v in values], "Array(String)")


def _only_a_string(value: Any) -> bool:
    """True when no JSON value but a string can have `value` as its text form (and it is not '')."""
    return (
        isinstance(value, str)
        and value != ""
        and not _NOT_A_STRING.match(value)
        and value not in ("true", "false")
    )


_NOT_A_STRING = re.compile(r"^(-?[0-9]|[\[{])")


def json_filter(column: str, key: str, operator: str, value: Any, p: Params) -> str:
    """A boolean (never NULL) for a filter on `column`'s `key`; `column` holds JSON text.

    Equality with strings no number, boolean, object or array reads as is
    compared on JSONExtractString alone (it gives '' for anything but a string),
    which is much cheaper than the full text form.
    """
    if operator in ("eq", "neq") and _only_a_string(value):
        test = f"JSONExtractString({_column(column)}, {p.add(key, 'String')}) = {p.add(value, 'String')}"
        return test if operator == "eq" else f"NOT ({test})"
    if operator in ("in", "not_in") and all(_only_a_string(v) for v in value):
        test = f"has({_texts(value, p)}, JSONExtractString({_column(column)}, {p.add(key, 'String')}))"
        return test if operator == "in" else f"NOT {test}"
    if operator == "is_set":
        return f"JSONHas({_column(column)}, {p.add(key, 'String')})"
    if operator == "is_not_set":
        return f"NOT JSONHas({_column(column)}, {p.add(key, 'String')})"
    if operator in ("gt", "gte", "lt", "lte") and _is_number(value):
        return number_compare(json_number(column, key, p), operator, value, p)
    return _text_filter(json_text(column, key, p), operator, value, p)


def _text_filter(text: str, operator: str, value: Any, p: Params) -> str:
    # `text` is Nullable(String): NULL (no text form) matches nothing but the negations
    if operator == "eq":
        return f"ifNull({text} = {p.add(text_form(value), 'String')}, 0)"
    if operator == "neq":
        return f"ifNull({text} != {p.add(text_form(value), 'String')}, 1)"
    if operator == "in":
        return f"ifNull(has({_texts(value, p)}, {text}), 0)"
    if operator == "not_in":
        return f"NOT ifNull(has({_texts(value, p)}, {text}), 0)"
    if operator == "contains":
        return f"ifNull(positionCaseInsensitiveUTF8({text}, {p.add(value, 'String')}) > 0, 0)"
    if operator == "not_contains":
        return f"NOT ifNull(positionCaseInsensitiveUTF8({text}, {p.add(value, 'String')}) > 0, 0)"
    if operator == "regex":
        return f"ifNull(match({text}, {p.add(dotall(value), 'String')}), 0)"
    if operator in ("gt", "gte", "lt", "lte"):
        return f"ifNull({text} {_CMP[operator]} {p.add(value, 'String')}, 0)"
    raise FilterError(f"unknown operator {operator!r}")


def column_filter(column: str, operator: str, value: Any, p: Params) -> str:
    """A boolean for a filter on a text column where '' means unset (twin of column_filter_sql)."""
    col = _column(column)
    if operator == "is_set":
        return f"{col} != ''"
    if operator == "is_not_set":
        return f"{col} = ''"
    if operator in ("gt", "gte", "lt", "lte") and _is_number(value):
        number = f"if(match({col}, {_NUMERIC}), toDecimal256OrNull({col}, 20), NULL)"
        return number_compare(number, operator, value, p)
    return _text_filter(col, operator, value, p)


def dotall(pattern: str) -> str:
    """The pattern with `.` matching a newline too, as in PostgreSQL's regular expressions."""
    return "(?s)" + pattern


def regex_problem(pattern: str) -> str | None:
    """Why RE2 cannot compile `pattern` (as ClickHouse's `match` would run it), or None."""
    p = Params()
    try:
        client().query(f"SELECT match('', {p.add(dotall(pattern), 'String')})", p)
    except ClickHouseUnavailable as error:
        message = str(error)
        if "CANNOT_COMPILE_REGEXP" not in message and "re2" not in message.lower():
            raise
        found = re.search(r"error: ([^.]*)", message)
        return found.group(1) if found else "RE2 cannot compile it"
    return None


def sorted_chain(column: str) -> str:
    """String: the element chain with each element's fields sorted, the tag first (re2.sorted_chain)."""
    col = _column(column)
    return (
        "arrayStringConcat(arrayMap(el -> concat(splitByChar('\\x1F', el)[1],"
        " arrayStringConcat(arrayMap(f -> concat('\\x1F', f), arraySort(arrayPopFront(splitByChar('\\x1F', el)))))),"
        f" splitByChar('\\x1E', {col})), '\\x1E')"
    )


def _step(step: Mapping, alias: str, p: Params) -> str:
    parts: list[str] = []
    if step.get("event"):
        parts.append(f"{alias}.name = {p.add(step['event'], 'String')}")
    if step.get("selector"):
        regex = p.add(selector_regex_sorted(step["selector"]), "String")
        parts.append(f"match({sorted_chain(f'{alias}.elements_chain')}, {regex})")
    for key, column in (("text", "el_text"), ("href", "href"), ("url", "url")):
        if step.get(key):
            operator = _FILTER_OPERATOR[step.get(f"{key}_matching") or DEFAULT_MATCHING[key]]
            parts.append(column_filter(f"{alias}.{column}", operator, step[key], p))
    for flt in step.get("properties") or ():
        parts.append(
            json_filter(f"{alias}.properties", flt["property"], flt["operator"], flt.get("value"), p)
        )
    if not parts:
        return "false"
    return "(" + " AND ".join(parts) + ")"


def action_where(steps: Iterable[Mapping], alias: str, p: Params) -> str:
    """A boolean over the events relation `alias`: true when any step matches (twin of action_where_sql)."""
    clauses = [_step(step, alias, p) for step in steps]
    if not clauses:
        return "false"
    return clauses[0] if len(clauses) == 1 else "(" + " OR ".join(clauses) + ")"


def event_spec(spec: Mapping, alias: str, p: Params, *, action_steps: Callable[[int], list]) -> str:
    """A boolean for one event spec: `{"name", "where"}` or `{"action": id}`."""
    if "action" in spec:
        return action_where(action_steps(spec["action"]), alias, p)
    parts = [f"{alias}.name = {p.add(spec['name'], 'String')}"]
    for flt in spec.get("where", []):
        parts.append(json_filter(f"{alias}.properties", flt["property"], flt["operator"], flt["value"], p))
    return " AND ".join(parts)
