"""The builder's form fields and the definition they stand for: labels, fields -> definition, structural edits."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from django.http import QueryDict

from segments.definition import CONDITION_TYPES, MAX_SEQUENCE_STEPS, SESSION_NUMBERS, TEXT_OPERATORS
from tracking.properties import COMPARATORS

ROOT = "r"
MAX_JSON_CHARS = 200_000
MAX_WHERE = 20
_PATH = re.compile(r"^r(_\d{1,3}){0,9}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_INTEGER = re.compile(r"^-?\d+$")

TYPE_LABELS = {
    "behavior": "Did an event",
    "active_days": "Active days",
    "aggregate": "Sum / average of a property",
    "sequence": "Did events in order",
    "first_seen": "First seen",
    "last_seen": "Last seen",
    "person": "Person property",
    "company": "Company property",
    "device": "Browser, OS or device",
    "geo": "Country, region or city",
    "survey": "Survey answer",
    "segment": "In another segment",
    "first_time": "Did an event for the first time",
    "stopped": "Stopped doing an event",
    "restarted": "Started doing an event again",
    "session": "Sessions (length, pages, campaign…)",
    "company_segment": "Works at a company in a company segment",
    "people": "How many of its people…",
    "rank": "Top or bottom people by a measure",
}
# The <select> of condition types, grouped as the product explains them.
TYPE_GROUPS = [
    (
        "Behavioural",
        ["behavior", "active_days", "aggregate", "rank", "sequence", "session", "first_seen", "last_seen"],
    ),
    ("Lifecycle", ["first_time", "stopped", "restarted"]),
    ("Demographic & firmographic", ["person", "company"]),
    ("Technographic & geographic", ["device", "geo"]),
    ("Psychographic", ["survey"]),
    ("Other", ["segment", "company_segment"]),
]
# A company segment's conditions: its traits, its people, its events, other company segments.
COMPANY_TYPE_GROUPS = [
    ("Firmographic", ["company"]),
    ("Its people", ["people"]),
    ("Behavioural", ["aggregate"]),
    ("Other", ["segment"]),
]
OPERATOR_LABELS = {
    "eq": "is",
    "neq": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "not_contains": "does not contain",
    "regex": "matches regex",
    "gt": ">",
    "gte": "≥",
    "lt": "<",
    "lte": "≤",
    "is_set": "is set",
    "is_not_set": "is not set",
}
COMPARATOR_LABELS = {
    "gte": "at least",
    "gt": "more than",
    "eq": "exactly",
    "neq": "not exactly",
    "lte": "at most",
    "lt": "fewer than",
}

EMPTY_SPEC = {"name": "", "where": []}
DEFAULTS: dict[str, dict] = {
    "behavior": {"type": "behavior", "event": {"name": "$pageview", "where": []},
                 "count": {"operator": "gte", "value": 1}, "window": {"last_days": 30}},
    "active_days": {"type": "active_days", "count": {"operator": "gte", "value": 3}, "window": {"last_days": 28}},
    "aggregate": {"type": "aggregate", "event": copy.deepcopy(EMPTY_SPEC), "property": "", "function": "sum",
                  "operator": "gte", "value": 1, "window": {"last_days": 30}},
    "sequence": {"type": "sequence", "steps": [{"name": "$pageview", "where": []}, copy.deepcopy(EMPTY_SPEC)],
                 "within_days": 7, "last_step": "did"},
    "first_seen": {"type": "first_seen", "operator": "within_last_days", "value": 14},
    "last_seen": {"type": "last_seen", "operator": "within_last_days", "value": 30},
    "person": {"type": "person", "property": "", "operator": "eq", "value": ""},
    "company": {"type": "company", "property": "", "operator": "eq", "value": ""},
    "device": {"type": "device", "property": "browser", "operator": "eq", "value": ""},
    "geo": {"type": "geo", "property": "country", "operator": "eq", "value": ""},
    "survey": {"type": "survey", "survey": "", "question": "", "operator": "eq", "value": ""},
    "segment": {"type": "segment", "segment": None, "negate": False},
    "company_segment": {"type": "company_segment", "segment": None, "negate": False},
    "people": {"type": "people", "count": {"operator": "gte", "value": 1},
               "definition": {"match": "all", "negate": False, "conditions": [
                   {"type": "person", "property": "", "operator": "eq", "value": ""}]}},
    "first_time": {"type": "first_time", "event": {"name": "$pageview", "where": []}, "within_last_days": 7},
    "stopped": {"type": "stopped", "event": {"name": "$pageview", "where": []}, "days": 14},
    "restarted": {"type": "restarted", "event": {"name": "$pageview", "where": []}, "days": 14},
    "session": {"type": "session", "where": [{"property": "duration_seconds", "operator": "gt", "value": 300}],
                "count": {"operator": "gte", "value": 1}, "window": {"last_days": 30}},
    "rank": {"type": "rank", "measure": {"event": {"name": "$pageview", "where": []}, "of": "count"},
             "top": {"percent": 10}, "direction": "top", "window": {"last_days": 30}},
}  # fmt: skip
# A rank's measure, as its <select> offers it.
RANK_MEASURE_LABELS = {"count": "number of", "sum": "sum of a property of", "active_days": "days active with"}
NEW_SESSION_FILTER = {"property": "utm_source", "operator": "eq", "value": ""}
WINDOWED = {"device", "geo", "behavior", "active_days", "aggregate", "sequence", "session", "rank"}
WITH_EVENT = {"behavior", "aggregate", "first_time", "stopped", "restarted"}
WITH_FILTER = {"person", "company", "device", "geo", "survey"}


def new_condition(kind: str) -> dict:
    return copy.deepcopy(DEFAULTS.get(kind, DEFAULTS["behavior"]))


def new_group(match: str = "any") -> dict:
    return {"match": match, "negate": False, "conditions": [new_condition("behavior")]}


def starting_definition(subject: str = "person") -> dict:
    first = new_condition("company" if subject == "company" else "behavior")
    return {"match": "all", "negate": False, "conditions": [first]}


def pretty(definition: Any) -> str:
    return json.dumps(definition, indent=2, ensure_ascii=False)


def is_group(node: Any) -> bool:
    return isinstance(node, dict) and ("conditions" in node or "match" in node)


def is_people(node: Any) -> bool:
    """A company's `people` condition: in the builder, a group of person conditions with a count."""
    return isinstance(node, dict) and node.get("type") == "people"


def children_of(node: Any) -> list | None:
    """The nodes under a group, or under a people condition (its definition's), else None."""
    if is_people(node):
        inner = node.get("definition")
        node = inner if isinstance(inner, dict) else None
    children = node.get("conditions") if isinstance(node, dict) else None
    return children if isinstance(children, list) else None


# -- fields -> definition -----------------------------------------------------------


def _int_or_raw(text: str | None) -> Any:
    """A number when the text is one; otherwise the text (or None) for the validator to name."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if _INTEGER.match(text):
        return int(text)
    if _NUMBER.match(text):
        return float(text)
    return text


def display_value(value: Any) -> str:
    """A filter value as its input shows it: lists comma-separated, JSON scalars in their text form."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(display_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def filter_value(text: str | None, original: str | None, operator: str) -> Any:
    """The value a filter input stands for.

    An input left as it was rendered keeps its original JSON value (so `42` stays
    a number and `"42"` a string). An edited one is read for its operator: a
    comma-separated list for in/not_in, a number for comparisons when it looks
    like one, text otherwise (filters compare through the text form anyway).
    """
    if operator in ("is_set", "is_not_set"):
        return None
    listy = operator in ("in", "not_in")
    if original is not None and text is not None:
        try:
            before = json.loads(original)
        except ValueError:
            before = None
        if before is not None and display_value(before) == text and isinstance(before, list) == listy:
            return before
    if text is None:
        return None
    if listy:
        return [item.strip() for item in text.split(",") if item.strip()]
    if operator in ("gt", "gte", "lt", "lte") and _NUMBER.match(text.strip()):
        number = text.strip()
        return int(number) if _INTEGER.match(number) else float(number)
    return text


class _Fields:
    """The posted fields of one node: `get("count_value")` reads `n-<path>-count_value`."""

    def __init__(self, values: dict[str, str]):
        self.values = values

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.values.get(name, default)

    def indices(self, pattern: str) -> list[int]:
        compiled = re.compile(pattern)
        found = {int(m.group(1)) for key in self.values if (m := compiled.match(key))}
        return sorted(found)

    def window(self, kind_default: str = "all") -> dict | None:
        kind = self.get("window_kind", kind_default)
        if kind == "last_days":
            return {"last_days": _int_or_raw(self.get("window_last_days"))}
        if kind == "range":
            return {
                "from": (self.get("window_from") or "").strip() or None,
                "to": (self.get("window_to") or "").strip() or None,
            }
        return None

    def spec(self, prefix: str) -> dict:
        if self.get(f"{prefix}_source") == "action":
            return {"action": _int_or_raw(self.get(f"{prefix}_action"))}
        where = []
        for j in self.indices(rf"^{prefix}_w(\d+)_property$"):
            operator = self.get(f"{prefix}_w{j}_operator") or "eq"
            where.append(
                {
                    "property": (self.get(f"{prefix}_w{j}_property") or "").strip(),
                    "operator": operator,
                    "value": filter_value(
                        self.get(f"{prefix}_w{j}_value"), self.get(f"{prefix}_w{j}_value_json"), operator
                    ),
                }
            )
        return {"name": (self.get(f"{prefix}_name") or "").strip(), "where": where}

    def session_where(self) -> list[dict]:
        """A session condition's filters (`w<j>_property`…): numbers for its numeric facts."""
        where = []
        for j in self.indices(r"^w(\d+)_property$"):
            prop = (self.get(f"w{j}_property") or "").strip()
            operator = self.get(f"w{j}_operator") or "eq"
            # after the fact was switched, its comparison may not apply: the first that does
            allowed = COMPARATORS if prop in SESSION_NUMBERS else TEXT_OPERATORS
            operator = operator if operator in allowed else allowed[0]
            if prop in SESSION_NUMBERS:
                value = _int_or_raw(self.get(f"w{j}_value"))
            else:
                value = filter_value(self.get(f"w{j}_value"), self.get(f"w{j}_value_json"), operator)
            where.append({"property": prop, "operator": operator, "value": value})
        return where

    def filter(self) -> tuple[str, Any]:
        operator = self.get("operator") or "eq"
        return operator, filter_value(self.get("value"), self.get("value_json"), operator)

    def count(self, default_operator: str = "gte") -> dict:
        return {
            "operator": self.get("count_operator") or default_operator,
            "value": _int_or_raw(self.get("count_value")),
        }


def _condition_from(f: _Fields) -> dict:
    kind = f.get("type") or "behavior"
    if kind not in CONDITION_TYPES:
        return {"type": kind}
    if f.get("was_type") not in (None, kind):
        # The type was just switched: start from that type's defaults, keeping what still applies.
        previous = _condition_from(
            _Fields({**f.values, "type": f.get("was_type") or "", "was_type": f.get("was_type")})
        )
        fresh = new_condition(kind)
        for key in ("event", "window", "count", "days"):
            if key in fresh and key in previous and previous[key] is not None:
                fresh[key] = previous[key]
        # a rank keeps its event in its measure: it carries over both ways
        if kind == "rank" and isinstance(previous.get("event"), dict):
            fresh["measure"]["event"] = previous["event"]
        elif (
            "event" in fresh
            and isinstance(previous.get("measure"), dict)
            and previous["measure"].get("event")
        ):
            fresh["event"] = previous["measure"]["event"]
        return fresh
    node: dict[str, Any] = {"type": kind}
    if kind in ("person", "company", "device", "geo"):
        operator, value = f.filter()
        default_property = {"device": "browser", "geo": "country"}.get(kind, "")
        node.update(property=(f.get("property") or default_property).strip(), operator=operator, value=value)
    elif kind == "behavior":
        node.update(event=f.spec("ev"), count=f.count())
    elif kind == "active_days":
        node.update(count=f.count())
    elif kind == "session":
        node.update(where=f.session_where(), count=f.count())
    elif kind == "aggregate":
        node.update(
            event=f.spec("ev"),
            property=(f.get("property") or "").strip(),
            function=f.get("function") or "sum",
            operator=f.get("operator") or "gte",
            value=_int_or_raw(f.get("value")),
        )
    elif kind == "sequence":
        steps = [f.spec(f"s{i}") for i in f.indices(r"^s(\d+)_source$")]
        node.update(
            steps=steps, within_days=_int_or_raw(f.get("within_days")), last_step=f.get("last_step") or "did"
        )
        if f.get("window_covers") == "first_step":
            node["window_covers"] = "first_step"
    elif kind in ("first_seen", "last_seen"):
        node.update(operator=f.get("operator") or "within_last_days", value=_int_or_raw(f.get("value")))
    elif kind == "first_time":
        node.update(event=f.spec("ev"), within_last_days=_int_or_raw(f.get("within_last_days")))
    elif kind in ("stopped", "restarted"):
        node.update(event=f.spec("ev"), days=_int_or_raw(f.get("days")))
    elif kind == "survey":
        operator, value = f.filter()
        node.update(
            survey=(f.get("survey") or "").strip(),
            question=(f.get("question") or "").strip(),
            operator=operator,
            value=value,
        )
    elif kind in ("segment", "company_segment"):
        node.update(segment=_int_or_raw(f.get("segment")), negate=f.get("negate") == "1")
    elif kind == "rank":
        of = f.get("measure_of") or "count"
        measure = {"event": f.spec("ev"), "of": of}
        if of == "sum":
            measure["property"] = (f.get("measure_property") or "").strip()
        top_kind = f.get("top_kind") if f.get("top_kind") in ("percent", "count") else "percent"
        node.update(
            measure=measure,
            top={top_kind: _int_or_raw(f.get("top_value"))},
            direction=f.get("direction") or "top",
        )
    if kind in WINDOWED:
        window = f.window("last_days" if kind == "active_days" else "all")
        if window is not None:
            node["window"] = window
    return node


def definition_from_fields(data: QueryDict) -> dict | None:
    """The definition the builder's fields describe, or None when the form carries no tree."""
    nodes: dict[str, dict[str, str]] = {}
    for key in data:
        if not key.startswith("n-"):
            continue
        path, _, name = key[2:].partition("-")
        if _PATH.match(path) and name:
            nodes.setdefault(path, {})[name] = data.get(key, "")
    if nodes.get(ROOT, {}).get("kind") != "group":
        return None

    def build(path: str) -> dict:
        f = _Fields(nodes[path])
        people = f.get("kind") == "people" and f.get("type") in (None, "people")
        if f.get("kind") not in ("group", "people") or (f.get("kind") == "people" and not people):
            return _condition_from(f)
        children = sorted(
            (int(child.rsplit("_", 1)[1]), child)
            for child in nodes
            if child.startswith(path + "_") and "_" not in child[len(path) + 1 :] and nodes[child].get("kind")
        )
        group = {
            "match": f.get("match") or "all",
            "negate": f.get("negate") == "1",
            "conditions": [build(child) for _, child in children],
        }
        if people:
            return {"type": "people", "count": f.count(), "definition": group}
        return group

    return build(ROOT)


def condition_from_fields(data: QueryDict, path: str) -> dict:
    """One condition from its posted fields (the suggestions endpoint reads a single node)."""
    prefix = f"n-{path}-"
    return _condition_from(
        _Fields({key[len(prefix) :]: value for key, value in data.items() if key.startswith(prefix)})
    )


# -- structural edits ----------------------------------------------------------------


def node_at(definition: dict, path: str) -> Any:
    """The node at a builder path, or None."""
    if not _PATH.match(path):
        return None
    node: Any = definition
    for part in path.split("_")[1:]:
        children = children_of(node)
        index = int(part)
        if not isinstance(children, list) or index >= len(children):
            return None
        node = children[index]
    return node


def apply_op(definition: dict, op: str, data: QueryDict) -> dict:
    """One structural edit named by the button that was pressed; unknown or stale edits change nothing.

    add:<group>             append a condition of the type chosen in `n-<group>-new`
    add_group:<group>       append a nested "any" group
    remove:<node>           remove a condition or group
    add_step:<node>         / remove_step:<node>:<i>          sequence steps
    add_where:<node>:<spec> / remove_where:<node>:<spec>:<j>   event property filters
                                        (spec "session": a session condition's own filters)
    """
    definition = copy.deepcopy(definition)
    verb, _, rest = op.partition(":")
    args = rest.split(":") if rest else []
    if not args:
        return definition
    node = node_at(definition, args[0])
    if node is None:
        return definition
    if verb in ("add", "add_group") and (is_group(node) or is_people(node)):
        kind = data.get(f"n-{args[0]}-new") or "behavior" if verb == "add" else "group"
        if is_people(node) and not isinstance(node.get("definition"), dict):
            node["definition"] = {"match": "all", "negate": False, "conditions": []}
        holder = node["definition"] if is_people(node) else node
        holder.setdefault("conditions", []).append(
            new_group("any") if kind == "group" else new_condition(kind)
        )
    elif verb == "remove" and args[0] != ROOT:
        parent_path, _, index = args[0].rpartition("_")
        siblings = children_of(node_at(definition, parent_path))
        if siblings is not None and int(index) < len(siblings):
            siblings.pop(int(index))
    elif verb == "add_step" and node.get("type") == "sequence":
        steps = node.setdefault("steps", [])
        if isinstance(steps, list) and len(steps) < MAX_SEQUENCE_STEPS:
            steps.append(copy.deepcopy(EMPTY_SPEC))
    elif verb == "remove_step" and node.get("type") == "sequence" and len(args) == 2 and args[1].isdecimal():
        steps = node.get("steps")
        if isinstance(steps, list) and int(args[1]) < len(steps) and len(steps) > 2:
            steps.pop(int(args[1]))
    elif verb in ("add_where", "remove_where") and len(args) >= 2:
        spec = _spec_at(node, args[1])
        if isinstance(spec, dict) and "action" not in spec:
            where = spec.setdefault("where", [])
            if not isinstance(where, list):
                spec["where"] = where = []
            if verb == "add_where" and len(where) < MAX_WHERE:
                where.append(
                    dict(NEW_SESSION_FILTER)
                    if spec is node
                    else {"property": "", "operator": "eq", "value": ""}
                )
            elif (
                verb == "remove_where"
                and len(args) == 3
                and args[2].isdecimal()
                and int(args[2]) < len(where)
            ):
                where.pop(int(args[2]))
    return definition


def _spec_at(node: dict, prefix: str) -> Any:
    if prefix == "session" and node.get("type") == "session":
        return node  # its own filters
    if prefix == "ev":
        measure = node.get("measure")
        return (
            measure.get("event")
            if node.get("type") == "rank" and isinstance(measure, dict)
            else node.get("event")
        )
    match = re.match(r"^s(\d+)$", prefix)
    steps = node.get("steps")
    if match and isinstance(steps, list) and int(match.group(1)) < len(steps):
        return steps[int(match.group(1))]
    return None
