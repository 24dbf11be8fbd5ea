"""Action steps: validation, the SQL condition, and the Python predicate with the same meaning.

A step is `{"event", "selector", "text", "text_matching", "href", "href_matching",
"url", "url_matching", "properties"}`, every key optional, at least one
condition per step. Conditions within a step are ANDed; the steps of an action
are ORed.

- `event`: the event name equals it (`$autocapture`, `$pageview`, `$rageclick`, custom…).
- `selector`: the element chain matches the CSS selector (`tracking.matching.selectors`).
- `text` / `href` / `url`: `Event.el_text` / `Event.href` / `Event.url` compared by
  `*_matching` = `exact` | `contains` (case-insensitive) | `regex`
  (defaults: exact for text and href, contains for url).
- `properties`: event property filters of `tracking.properties`, all of which must hold.

Text, link, URL and property comparisons reuse `tracking.properties`, so their SQL
and Python meanings are the ones tested there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from tracking.matching.selectors import SelectorError, chain_matches, selector_regex
from tracking.properties import (
    MAX_VALUE_LENGTH,
    OPERATORS,
    FilterError,
    column_filter_match,
    column_filter_sql,
    event_filter_sql,
    jsonb_filter_match,
    regex_error,
    validate_filter,
)

STEP_KEYS = (
    "event", "selector", "text", "text_matching", "href", "href_matching", "url", "url_matching", "properties",
)  # fmt: skip
CONDITIONS = ("event", "selector", "text", "href", "url", "properties")
MATCHING = ("exact", "contains", "regex")
DEFAULT_MATCHING = {"text": "exact", "href": "exact", "url": "contains"}
_FILTER_OPERATOR = {"exact": "eq", "contains": "contains", "regex": "regex"}
MAX_STEPS = 20
MAX_FILTERS = 20
MAX_EVENT_NAME = 200
_ALIAS = re.compile(r"^[a-z_][a-z0-9_]*$")


class ActionError(ValueError):
    """Invalid steps. `field` is a JSON path such as `steps[1].selector`; `errors` holds every problem found."""

    def __init__(self, field: str, message: str, errors: dict[str, str] | None = None) -> None:
        self.field = field
        self.message = message
        self.errors = errors or {field: message}
        super().__init__(f"{field}: {message}")


def _text(value: Any, field: str, errors: dict[str, str], *, limit: int = MAX_VALUE_LENGTH) -> str | None:
    """A stripped string, None when empty; records an error for anything else."""
    if value is None:
        return None
    if not isinstance(value, str):
        errors[field] = "must be a string"
        return None
    value = value.strip()
    if len(value) > limit:
        errors[field] = f"is longer than {limit} characters"
        return None
    if "\x00" in value:
        errors[field] = "contains a NUL character"
        return None
    return value or None


def _validate_step(raw: Any, path: str, errors: dict[str, str], *, check_regex: bool) -> dict:
    if not isinstance(raw, Mapping):
        errors[path] = "a step must be an object"
        return {}
    unknown = sorted(str(k) for k in raw if k not in STEP_KEYS)
    if unknown:
        errors[f"{path}.{unknown[0]}"] = f"unknown field; a step takes {', '.join(STEP_KEYS)}"
    step: dict = {}

    event = _text(raw.get("event"), f"{path}.event", errors, limit=MAX_EVENT_NAME)
    if event:
        step["event"] = event

    selector = _text(raw.get("selector"), f"{path}.selector", errors)
    if selector:
        try:
            selector_regex(selector)
        except SelectorError as error:
            errors[f"{path}.selector"] = str(error)
        else:
            step["selector"] = selector

    for key in ("text", "href", "url"):
        value = _text(raw.get(key), f"{path}.{key}", errors)
        matching_key = f"{key}_matching"
        matching = raw.get(matching_key)
        if matching in (None, ""):
            matching = DEFAULT_MATCHING[key]
        elif matching not in MATCHING:
            errors[f"{path}.{matching_key}"] = f"must be one of {', '.join(MATCHING)}"
            continue
        if value is None:
            continue
        if matching == "regex" and check_regex:
            problem = regex_error(value)
            if problem:
                errors[f"{path}.{key}"] = problem
                continue
        step[key] = value
        step[matching_key] = matching

    filters = raw.get("properties")
    if filters not in (None, []):
        cleaned = _validate_filters(filters, f"{path}.properties", errors, check_regex=check_regex)
        if cleaned:
            step["properties"] = cleaned

    if not any(key in step for key in CONDITIONS) and not any(
        k == path or k.startswith(path + ".") for k in errors
    ):
        errors[path] = "a step needs at least one condition: " + ", ".join(CONDITIONS)
    return step


def _validate_filters(filters: Any, path: str, errors: dict[str, str], *, check_regex: bool) -> list[dict]:
    if not isinstance(filters, list):
        errors[path] = "must be a list of {property, operator, value} filters"
        return []
    if len(filters) > MAX_FILTERS:
        errors[path] = f"takes at most {MAX_FILTERS} filters"
        return []
    cleaned = []
    for index, raw in enumerate(filters):
        where = f"{path}[{index}]"
        if not isinstance(raw, Mapping):
            errors[where] = "a filter must be an object with property, operator and value"
            continue
        prop = raw.get("property")
        if not isinstance(prop, str) or not prop.strip() or len(prop) > MAX_EVENT_NAME:
            errors[f"{where}.property"] = "must be a property name"
            continue
        operator = raw.get("operator", "eq")
        value = raw.get("value")
        try:
            validate_filter(operator, value, check_regex=check_regex)
        except FilterError as error:
            errors[f"{where}.{'value' if operator in OPERATORS else 'operator'}"] = str(error)
            continue
        item = {"property": prop.strip(), "operator": operator}
        if operator not in ("is_set", "is_not_set"):
            item["value"] = value
        cleaned.append(item)
    return cleaned


def validate_steps(steps: Any, *, check_regex: bool = True) -> list[dict]:
    """Normalise steps for storage; raise ActionError naming every invalid field.

    Regular expressions must compile in Python and in PostgreSQL (`check_regex`
    asks the database; turn it off only where the steps were validated before).
    """
    if not isinstance(steps, list) or not steps:
        raise ActionError("steps", "an action needs at least one step")
    if len(steps) > MAX_STEPS:
        raise ActionError("steps", f"an action takes at most {MAX_STEPS} steps")
    errors: dict[str, str] = {}
    cleaned = [
        _validate_step(raw, f"steps[{i}]", errors, check_regex=check_regex) for i, raw in enumerate(steps)
    ]
    if errors:
        field, message = next(iter(errors.items()))
        raise ActionError(field, message, errors)
    return cleaned


# -- SQL ---------------------------------------------------------------------------
#
# Every column expression below is a constant; every user value is a %s parameter.
# Index use: a step with `event` filters `name = %s`, which together with the
# caller's `project_id = %s AND timestamp` range is served by `event_project_name_ts`
# (project_id, name, timestamp); the selector regex, the text/href/url comparisons
# and the property filters then run only on those rows. A step without an event
# name can only be narrowed by the project and time range (`event_timestamp_brin`),
# so the builder suggests an event name for every step.


def _step_sql(step: Mapping, alias: str) -> tuple[str, list]:
    parts: list[str] = []
    params: list = []
    if step.get("event"):
        parts.append(f"{alias}.name = %s")
        params.append(step["event"])
    if step.get("selector"):
        parts.append(f"{alias}.elements_chain ~ %s")
        params.append(selector_regex(step["selector"]))
    for key, column in (("text", "el_text"), ("href", "href"), ("url", "url")):
        if step.get(key):
            operator = _FILTER_OPERATOR[step.get(f"{key}_matching") or DEFAULT_MATCHING[key]]
            sql, more = column_filter_sql(f"{alias}.{column}", operator, step[key])
            parts.append(sql)
            params += more
    for flt in step.get("properties") or ():
        sql, more = event_filter_sql(alias, flt["property"], flt["operator"], flt.get("value"))
        parts.append(sql)
        params += more
    if not parts:
        return "false", []
    return "(" + " AND ".join(parts) + ")", params


def action_where_sql(steps: Iterable[Mapping], *, alias: str) -> tuple[str, list]:
    """A parameterised SQL boolean over the events table `alias`: true when any step matches."""
    if not _ALIAS.match(alias):
        raise ValueError(f"not a table alias: {alias!r}")
    clauses: list[str] = []
    params: list = []
    for step in steps:
        sql, more = _step_sql(step, alias)
        clauses.append(sql)
        params += more
    if not clauses:
        return "false", []
    if len(clauses) == 1:
        return clauses[0], params
    return "(" + " OR ".join(clauses) + ")", params


# -- Python ------------------------------------------------------------------------


def _field(event: Any, name: str) -> Any:
    if isinstance(event, Mapping):
        return event.get(name)
    return getattr(event, name, None)


def step_matches(step: Mapping, event: Any) -> bool:
    """The Python twin of one step's SQL."""
    conditions = 0
    if step.get("event"):
        conditions += 1
        if _field(event, "name") != step["event"]:
            return False
    if step.get("selector"):
        conditions += 1
        if not chain_matches(step["selector"], _field(event, "elements_chain") or ""):
            return False
    for key, column in (("text", "el_text"), ("href", "href"), ("url", "url")):
        if step.get(key):
            conditions += 1
            operator = _FILTER_OPERATOR[step.get(f"{key}_matching") or DEFAULT_MATCHING[key]]
            if not column_filter_match(_field(event, column) or "", operator, step[key]):
                return False
    properties = _field(event, "properties") or {}
    for flt in step.get("properties") or ():
        conditions += 1
        if not jsonb_filter_match(properties, flt["property"], flt["operator"], flt.get("value")):
            return False
    return conditions > 0


def event_matches(steps: Iterable[Mapping], event: Any) -> bool:
    """Does the event (anything with name, url, el_text, href, elements_chain, properties) match any step?"""
    return any(step_matches(step, event) for step in steps)


_MATCHING_WORDS = {"exact": "=", "contains": "contains", "regex": "~"}
_SUBJECTS = {"text": "text", "href": "link", "url": "URL"}


def describe_step(step: Mapping) -> str:
    """A one-line summary: `$autocapture · #signup · text = "Sign up"`."""
    parts: list[str] = []
    if step.get("event"):
        parts.append(step["event"])
    if step.get("selector"):
        parts.append(step["selector"])
    for key, subject in _SUBJECTS.items():
        if step.get(key):
            word = _MATCHING_WORDS[step.get(f"{key}_matching") or DEFAULT_MATCHING[key]]
            parts.append(f"{subject} {word} “{step[key]}”")
    for flt in step.get("properties") or ():
        value = "" if flt["operator"] in ("is_set", "is_not_set") else f" {flt.get('value')!r}"
        parts.append(f"{flt['property']} {flt['operator']}{value}")
    return " · ".join(parts) or "(empty step)"
