"""Event property filters as form rows (property, operator, value), like the segment builder's.

A funnel step's filters are posted as `step_<i>_property`, `step_<i>_operator` and
`step_<i>_value`, one of each per row, `<i>` being the step's row in the form. The
form always shows one blank row more, so a filter is added without JavaScript by
filling it in and pressing Show. Values are read as the segment builder reads them
(a comma-separated list for "is one of", numbers for comparisons).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from segments.builder import OPERATOR_CHOICES, display_value, filter_value

NO_VALUE = ("is_set", "is_not_set")


@dataclass(frozen=True)
class FilterRow:
    property: str = ""
    operator: str = "eq"
    value: str = ""


def posted_rows(data: QueryDict, prefix: str) -> list[FilterRow] | None:
    """The rows posted under `prefix` (`step_0`), or None when the form sent none."""
    properties = data.getlist(f"{prefix}_property")
    if not properties:
        return None
    operators, values = data.getlist(f"{prefix}_operator"), data.getlist(f"{prefix}_value")
    rows = []
    for index, prop in enumerate(properties):
        row = FilterRow(
            property=prop.strip(),
            operator=operators[index] if index < len(operators) else "eq",
            value=values[index] if index < len(values) else "",
        )
        if row.property or row.value.strip():  # a blank row adds nothing
            rows.append(row)
    return rows


def where_from_rows(rows: list[FilterRow]) -> list[dict]:
    """Rows as the wire's filters; an empty property stays, for validation to name it."""
    where = []
    for row in rows:
        flt: dict[str, Any] = {"property": row.property, "operator": row.operator}
        if row.operator not in NO_VALUE:
            flt["value"] = filter_value(row.value, None, row.operator)
        where.append(flt)
    return where


def rows_from_where(where: Any) -> list[FilterRow]:
    """Stored filters as rows to show (anything malformed shows as text to correct)."""
    if not isinstance(where, list):
        return []
    rows = []
    for flt in where:
        if isinstance(flt, dict):
            rows.append(
                FilterRow(
                    property=str(flt.get("property") or ""),
                    operator=str(flt.get("operator") or "eq"),
                    value=display_value(flt.get("value")),
                )
            )
    return rows


def with_blank(rows: list[FilterRow]) -> list[FilterRow]:
    return [*rows, FilterRow()]


def query_pairs(where: Any, prefix: str) -> list[tuple[str, str]]:
    """A spec's filters as query-string pairs of the form (for links that reopen it)."""
    pairs: list[tuple[str, str]] = []
    for row in rows_from_where(where):
        pairs += [(f"{prefix}_property", row.property), (f"{prefix}_operator", row.operator)]
        pairs.append((f"{prefix}_value", row.value))
    return pairs


OPERATORS = OPERATOR_CHOICES
