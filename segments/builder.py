"""The segment builder's state: a definition tree as form fields, and back.

The builder is a plain HTML form. Every node of the definition has a path —
`r` for the root group, `r_2` for its third child, `r_2_0` for that child's
first child — and every editable part of a node is a field named
`n-<path>-<field>` (`n-r_2-count_value`). Posting the form posts the whole
tree; `definition_from_fields` rebuilds the definition from it, and
`tree_view` turns a definition (valid or not) back into what the template
renders. Structural edits (add a condition, remove a group, add a sequence
step) are `apply_op` on the definition followed by a re-render, so they work
with or without JavaScript.

The "Advanced: edit JSON" textarea is a second way in. The form also carries
the JSON as it was last rendered (`definition_baseline`); when the textarea no
longer equals it, the person edited the JSON and it wins over the fields.

Field names follow the definition's own paths, so a validation error such as
`definition.conditions[2].count.value` lands on the input `f-r_2-count_value`.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from segments.definition import CONDITION_TYPES, MAX_DEPTH, MAX_SEQUENCE_STEPS
from tracking.properties import COMPARATORS, OPERATORS

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
}
# The <select> of condition types, grouped as the product explains them.
TYPE_GROUPS = [
    ("Behavioural", ["behavior", "active_days", "aggregate", "sequence", "first_seen", "last_seen"]),
    ("Demographic & firmographic", ["person", "company"]),
    ("Technographic & geographic", ["device", "geo"]),
    ("Psychographic", ["survey"]),
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
}  # fmt: skip
WINDOWED = {"device", "geo", "behavior", "active_days", "aggregate", "sequence"}
WITH_EVENT = {"behavior", "aggregate"}
WITH_FILTER = {"person", "company", "device", "geo", "survey"}


def new_condition(kind: str) -> dict:
    return copy.deepcopy(DEFAULTS.get(kind, DEFAULTS["behavior"]))


def new_group(match: str = "any") -> dict:
    return {"match": match, "negate": False, "conditions": [new_condition("behavior")]}


def starting_definition() -> dict:
    return {"match": "all", "negate": False, "conditions": [new_condition("behavior")]}


def pretty(definition: Any) -> str:
    return json.dumps(definition, indent=2, ensure_ascii=False)


def is_group(node: Any) -> bool:
    return isinstance(node, dict) and ("conditions" in node or "match" in node)


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
        for key in ("event", "window", "count"):
            if key in fresh and key in previous and previous[key] is not None:
                fresh[key] = previous[key]
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
    elif kind in ("first_seen", "last_seen"):
        node.update(operator=f.get("operator") or "within_last_days", value=_int_or_raw(f.get("value")))
    elif kind == "survey":
        operator, value = f.filter()
        node.update(
            survey=(f.get("survey") or "").strip(),
            question=(f.get("question") or "").strip(),
            operator=operator,
            value=value,
        )
    elif kind == "segment":
        node.update(segment=_int_or_raw(f.get("segment")), negate=f.get("negate") == "1")
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
        if f.get("kind") != "group":
            return _condition_from(f)
        children = sorted(
            (int(child.rsplit("_", 1)[1]), child)
            for child in nodes
            if child.startswith(path + "_") and "_" not in child[len(path) + 1 :] and nodes[child].get("kind")
        )
        return {
            "match": f.get("match") or "all",
            "negate": f.get("negate") == "1",
            "conditions": [build(child) for _, child in children],
        }

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
        children = node.get("conditions") if isinstance(node, dict) else None
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
    """
    definition = copy.deepcopy(definition)
    verb, _, rest = op.partition(":")
    args = rest.split(":") if rest else []
    if not args:
        return definition
    node = node_at(definition, args[0])
    if node is None:
        return definition
    if verb == "add" and is_group(node):
        kind = data.get(f"n-{args[0]}-new") or "behavior"
        node.setdefault("conditions", []).append(new_group("any") if kind == "group" else new_condition(kind))
    elif verb == "add_group" and is_group(node):
        node.setdefault("conditions", []).append(new_group("any"))
    elif verb == "remove" and args[0] != ROOT:
        parent_path, _, index = args[0].rpartition("_")
        parent = node_at(definition, parent_path)
        if isinstance(parent, dict) and isinstance(parent.get("conditions"), list):
            parent["conditions"].pop(int(index))
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
                where.append({"property": "", "operator": "eq", "value": ""})
            elif (
                verb == "remove_where"
                and len(args) == 3
                and args[2].isdecimal()
                and int(args[2]) < len(where)
            ):
                where.pop(int(args[2]))
    return definition


def _spec_at(node: dict, prefix: str) -> Any:
    if prefix == "ev":
        return node.get("event")
    match = re.match(r"^s(\d+)$", prefix)
    steps = node.get("steps")
    if match and isinstance(steps, list) and int(match.group(1)) < len(steps):
        return steps[int(match.group(1))]
    return None


# -- errors ----------------------------------------------------------------------------

FIELD_LABELS = {
    "type": "condition type",
    "match": "all / any",
    "negate": "negation",
    "property": "property",
    "operator": "comparison",
    "value": "value",
    "count": "count",
    "count_operator": "count comparison",
    "count_value": "count",
    "window": "time window",
    "window_kind": "time window",
    "window_last_days": "number of days",
    "window_from": "start date",
    "window_to": "end date",
    "ev_name": "event name",
    "ev_action": "action",
    "ev_where": "event filters",
    "function": "function",
    "steps": "steps",
    "within_days": "days to complete",
    "last_step": "last step",
    "survey": "survey",
    "question": "question",
    "segment": "segment",
}


def error_target(path: str) -> tuple[str, str]:
    """(builder node path, field name) for a definition error path.

    `definition.conditions[2].event.where[0].value` -> ("r_2", "ev_w0_value").
    """
    rest = path.removeprefix("definition")
    node = ROOT
    while match := re.match(r"^\.conditions\[(\d+)\]", rest):
        node += f"_{match.group(1)}"
        rest = rest[match.end() :]
    rest = rest.lstrip(".")
    rest = re.sub(r"^event", "ev", rest)
    rest = re.sub(r"^steps\[(\d+)\]", r"s\1", rest)
    rest = re.sub(r"where\[(\d+)\]", r"w\1", rest)
    name = rest.replace(".", "_")
    name = {"window": "window_kind", "ev": "ev_name", "count": "count_value"}.get(name, name)
    if re.match(r"^s\d+$", name):
        name += "_name"
    return node, name


def error_is_unfilled(path: str, definition: Any) -> bool:
    """Whether a definition error points at a part nobody has filled in yet (empty or absent).

    Such an error waits for the save: a condition just added is blank, and calling it
    wrong before anyone could type in it is noise. A wrong value is shown at once.
    """
    node: Any = definition
    for key, index in re.findall(r"\.?(\w+)(?:\[(\d+)\])?", path.removeprefix("definition")):
        node = node.get(key) if isinstance(node, dict) else None
        if index:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        if node is None:
            return True
    return node in ("", [], {})


def field_words(name: str) -> str:
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    if match := re.match(r"^(ev|s(\d+))_w(\d+)_(\w+)$", name):
        owner = "event" if match.group(1) == "ev" else f"step {int(match.group(2)) + 1}"
        return f"{owner} filter {int(match.group(3)) + 1} {FIELD_LABELS.get(match.group(4), match.group(4))}"
    if match := re.match(r"^s(\d+)_(\w+)$", name):
        what = {"name": "event name", "action": "action", "where": "filters"}.get(
            match.group(2), match.group(2)
        )
        return f"step {int(match.group(1)) + 1} {what}"
    return name.replace("_", " ")


def error_words(path: str, definition: Any) -> str:
    """Where an error is, in plain words: `Group 2, condition 3 · count`."""
    node_path, name = error_target(path)
    parts = []
    node: Any = definition
    for index in node_path.split("_")[1:]:
        children = node.get("conditions") if isinstance(node, dict) else None
        child = children[int(index)] if isinstance(children, list) and int(index) < len(children) else None
        kind = "group" if is_group(child) else "condition"
        parts.append(f"{kind} {int(index) + 1}")
        node = child
    where = ", ".join(parts) if parts else "the definition"
    where = where[0].upper() + where[1:]
    return f"{where} · {field_words(name)}" if name else where


# -- definition -> what the template renders ------------------------------------------------


@dataclass
class WhereView:
    index: int
    prefix: str  # of its inputs' names: "ev_w0_", "s1_w2_"
    property: str
    operator: str
    value: str
    value_json: str


@dataclass
class SpecView:
    prefix: str
    source: str  # "event" | "action"
    name: str
    action: str
    where: list[WhereView]
    label: str = ""


@dataclass
class NodeView:
    path: str
    depth: int
    is_group: bool
    errors: dict[str, str] = field(default_factory=dict)
    # groups
    match: str = "all"
    negate: bool = False
    children: list[NodeView] = field(default_factory=list)
    # conditions: every input's text, by field name
    type: str = ""
    v: dict[str, str] = field(default_factory=dict)
    event: SpecView | None = None
    steps: list[SpecView] = field(default_factory=list)

    @property
    def index(self) -> int:
        return int(self.path.rsplit("_", 1)[1]) if "_" in self.path else 0

    @property
    def node_error(self) -> str:
        """An error that belongs to no single input of this node."""
        return self.errors.get("", "")

    @property
    def can_nest(self) -> bool:
        return self.depth < MAX_DEPTH


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def _spec_view(spec: Any, prefix: str) -> SpecView:
    spec = spec if isinstance(spec, dict) else {}
    where = []
    for j, item in enumerate(spec.get("where") or []):
        item = item if isinstance(item, dict) else {}
        where.append(
            WhereView(
                index=j,
                prefix=f"{prefix}_w{j}_",
                property=_text(item.get("property")),
                operator=str(item.get("operator") or "eq"),
                value=display_value(item.get("value")),
                value_json=json.dumps(item.get("value"), ensure_ascii=False),
            )
        )
    return SpecView(
        prefix=prefix,
        source="action" if "action" in spec else "event",
        name=_text(spec.get("name")),
        action=_text(spec.get("action")),
        where=where,
    )


def _window_fields(window: Any) -> dict[str, str]:
    if isinstance(window, dict) and "last_days" in window:
        return {
            "window_kind": "last_days",
            "window_last_days": _text(window["last_days"]),
            "window_from": "",
            "window_to": "",
        }
    if isinstance(window, dict) and ("from" in window or "to" in window):
        return {"window_kind": "range", "window_last_days": "30", "window_from": _text(window.get("from"))[:10],
                "window_to": _text(window.get("to"))[:10]}  # fmt: skip
    return {"window_kind": "all", "window_last_days": "30", "window_from": "", "window_to": ""}


def tree_view(definition: Any, errors: dict[str, dict[str, str]] | None = None) -> NodeView:
    """The definition as nested views, with errors keyed by node path then field."""
    errors = errors or {}

    def group(node: dict, path: str, depth: int) -> NodeView:
        view = NodeView(path=path, depth=depth, is_group=True, errors=errors.get(path, {}))
        view.match = node.get("match") if node.get("match") in ("all", "any") else "all"
        view.negate = node.get("negate") is True
        for index, child in enumerate(
            node.get("conditions") if isinstance(node.get("conditions"), list) else []
        ):
            child_path = f"{path}_{index}"
            if is_group(child):
                view.children.append(group(child, child_path, depth + 1))
            else:
                view.children.append(
                    condition(child if isinstance(child, dict) else {}, child_path, depth + 1)
                )
        return view

    def condition(node: dict, path: str, depth: int) -> NodeView:
        kind = node.get("type")
        view = NodeView(
            path=path, depth=depth, is_group=False, errors=errors.get(path, {}), type=str(kind or "")
        )
        v: dict[str, str] = {}
        count = node.get("count") if isinstance(node.get("count"), dict) else {}
        v["count_operator"] = str(count.get("operator") or "gte")
        v["count_value"] = _text(count.get("value"))
        v.update(_window_fields(node.get("window")))
        for key in (
            "property",
            "operator",
            "function",
            "survey",
            "question",
            "segment",
            "last_step",
            "within_days",
        ):
            v[key] = _text(node.get(key))
        value = node.get("value")
        if kind in WITH_FILTER:
            v["value"] = display_value(value)
            v["value_json"] = json.dumps(value, ensure_ascii=False)
        else:
            v["value"] = _text(value)
        v["negate"] = "1" if node.get("negate") is True else ""
        view.v = v
        if kind in WITH_EVENT:
            view.event = _spec_view(node.get("event"), "ev")
        if kind == "sequence":
            steps = node.get("steps") if isinstance(node.get("steps"), list) else []
            view.steps = [_spec_view(step, f"s{i}") for i, step in enumerate(steps)]
        return view

    root = definition if isinstance(definition, dict) else {"match": "all", "conditions": []}
    return group(root, ROOT, 0)


# -- the builder as a whole --------------------------------------------------------------


@dataclass
class BuilderState:
    """What the builder shows: the definition it holds, and its JSON text."""

    definition: dict
    json_text: str
    baseline: str
    source: str = "fields"  # which input the definition came from: "fields" or "json"
    json_error: str = ""

    @classmethod
    def of(cls, definition: dict) -> BuilderState:
        text = pretty(definition)
        return cls(definition=definition, json_text=text, baseline=text)

    @classmethod
    def from_post(cls, data: QueryDict) -> BuilderState:
        """The posted tree; the JSON textarea wins when it was edited (it differs from the baseline)."""
        fields = definition_from_fields(data)
        text = data.get("definition_json")
        baseline = data.get("definition_baseline", "")
        if text is not None and (fields is None or _same_text(text) != _same_text(baseline)):
            if len(text) > MAX_JSON_CHARS:
                return cls._json_failed(
                    fields, text, f"the JSON is longer than {MAX_JSON_CHARS:,} characters"
                )
            try:
                parsed = json.loads(text)
            except ValueError as error:
                where = f"line {error.lineno}, column {error.colno}: " if hasattr(error, "lineno") else ""
                return cls._json_failed(fields, text, f"{where}{getattr(error, 'msg', str(error))}")
            if not isinstance(parsed, dict):
                return cls._json_failed(fields, text, "the definition must be a JSON object (a group)")
            return cls(definition=parsed, json_text=text, baseline=text, source="json")
        definition = fields if fields is not None else starting_definition()
        return cls(definition=definition, json_text=pretty(definition), baseline=pretty(definition))

    @classmethod
    def _json_failed(cls, fields: dict | None, text: str, message: str) -> BuilderState:
        definition = fields if fields is not None else starting_definition()
        return cls(
            definition=definition,
            json_text=text,
            baseline=pretty(definition),
            source="json",
            json_error=message,
        )

    def edited(self, op: str, data: QueryDict) -> BuilderState:
        """The state after a structural edit; the JSON follows the tree again."""
        return BuilderState.of(apply_op(self.definition, op, data))


def _same_text(text: str) -> str:
    # browsers may send a textarea's line breaks as CRLF
    return text.replace("\r\n", "\n").strip()


def type_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return [(label, [(kind, TYPE_LABELS[kind]) for kind in kinds]) for label, kinds in TYPE_GROUPS]


OPERATOR_CHOICES = [(op, OPERATOR_LABELS[op]) for op in OPERATORS]
COMPARATOR_CHOICES = [(op, COMPARATOR_LABELS[op]) for op in COMPARATORS]
