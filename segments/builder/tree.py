"""A definition (valid or not) as what the builder's template renders, and the builder as a whole."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from segments.builder.fields import (
    COMPANY_TYPE_GROUPS,
    COMPARATOR_LABELS,
    MAX_JSON_CHARS,
    OPERATOR_LABELS,
    ROOT,
    TYPE_GROUPS,
    TYPE_LABELS,
    WITH_EVENT,
    WITH_FILTER,
    apply_op,
    definition_from_fields,
    display_value,
    is_group,
    pretty,
    starting_definition,
)
from segments.definition import MAX_DEPTH, TEXT_OPERATORS
from tracking.properties import COMPARATORS, OPERATORS

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
    where: list[WhereView] = field(default_factory=list)  # a session condition's filters

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

    @property
    def is_people(self) -> bool:
        """A company's people condition: a count over a group of person conditions."""
        return not self.is_group and self.type == "people"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def _where_views(where: Any, prefix: str) -> list[WhereView]:
    """Property filters; inputs named `<prefix>w<j>_…` ("ev_w0_", or "w0_" for a session's own)."""
    views = []
    for j, item in enumerate(where if isinstance(where, list) else []):
        item = item if isinstance(item, dict) else {}
        views.append(
            WhereView(
                index=j,
                prefix=f"{prefix}w{j}_",
                property=_text(item.get("property")),
                operator=str(item.get("operator") or "eq"),
                value=display_value(item.get("value")),
                value_json=json.dumps(item.get("value"), ensure_ascii=False),
            )
        )
    return views


def _spec_view(spec: Any, prefix: str) -> SpecView:
    spec = spec if isinstance(spec, dict) else {}
    return SpecView(
        prefix=prefix,
        source="action" if "action" in spec else "event",
        name=_text(spec.get("name")),
        action=_text(spec.get("action")),
        where=_where_views(spec.get("where"), f"{prefix}_"),
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
        measure = node.get("measure") if isinstance(node.get("measure"), dict) else {}
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
            "window_covers",
            "within_days",
            "within_last_days",
            "days",
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
        if kind == "people":
            inner = node.get("definition") if isinstance(node.get("definition"), dict) else {}
            view.match = inner.get("match") if inner.get("match") in ("all", "any") else "all"
            view.negate = inner.get("negate") is True
            view.children = group(inner, path, depth).children
        if kind in WITH_EVENT:
            view.event = _spec_view(node.get("event"), "ev")
        if kind == "session":
            view.where = _where_views(node.get("where"), "")
        if kind == "rank":
            view.event = _spec_view(measure.get("event"), "ev")
            top = node.get("top") if isinstance(node.get("top"), dict) else {}
            top_kind = "count" if "count" in top and "percent" not in top else "percent"
            v.update(
                measure_of=str(measure.get("of") or "count"),
                measure_property=_text(measure.get("property")),
                top_kind=top_kind,
                top_value=_text(top.get(top_kind)),
                direction="bottom" if node.get("direction") == "bottom" else "top",
            )
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


def type_choices(subject: str = "person") -> list[tuple[str, list[tuple[str, str]]]]:
    """The condition types a segment of `subject`s takes, grouped for the type menu."""
    groups = COMPANY_TYPE_GROUPS if subject == "company" else TYPE_GROUPS
    return [(label, [(kind, TYPE_LABELS[kind]) for kind in kinds]) for label, kinds in groups]


OPERATOR_CHOICES = [(op, OPERATOR_LABELS[op]) for op in OPERATORS]
TEXT_OPERATOR_CHOICES = [(op, OPERATOR_LABELS[op]) for op in TEXT_OPERATORS]
NUMBER_OPERATOR_CHOICES = [(op, OPERATOR_LABELS[op]) for op in COMPARATORS]
COMPARATOR_CHOICES = [(op, COMPARATOR_LABELS[op]) for op in COMPARATORS]
