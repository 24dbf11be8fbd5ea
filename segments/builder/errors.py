"""A validation error's JSON path, as the builder field it lands on and in words."""

from __future__ import annotations

import re
from typing import Any

from segments.builder.fields import ROOT, children_of, is_group, is_people

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
    "within_last_days": "number of days",
    "days": "number of days",
    "last_step": "last step",
    "survey": "survey",
    "question": "question",
    "segment": "segment",
    "where": "session filters",
    "measure": "measure",
    "measure_of": "ranked by",
    "measure_property": "property to add up",
    "top_value": "how many",
    "direction": "top or bottom",
}


def error_target(path: str) -> tuple[str, str]:
    """(builder node path, field name) for a definition error path.

    `definition.conditions[2].event.where[0].value` -> ("r_2", "ev_w0_value").
    """
    rest = path.removeprefix("definition")
    node = ROOT
    # a people condition's own definition is its group in the builder: `.definition` adds no level
    while match := re.match(r"^(?:\.definition)?\.conditions\[(\d+)\]", rest):
        node += f"_{match.group(1)}"
        rest = rest[match.end() :]
    if rest == ".definition":
        rest = ""
    rest = rest.lstrip(".")
    rest = re.sub(r"^(measure\.)?event", "ev", rest)
    rest = re.sub(r"^steps\[(\d+)\]", r"s\1", rest)
    rest = re.sub(r"where\[(\d+)\]", r"w\1", rest)
    name = rest.replace(".", "_")
    name = {"window": "window_kind", "ev": "ev_name", "count": "count_value", "top": "top_value",
            "top_percent": "top_value", "top_count": "top_value", "measure": "measure_of"}.get(name, name)  # fmt: skip
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
    if match := re.match(r"^w(\d+)_(\w+)$", name):
        return f"session filter {int(match.group(1)) + 1} {FIELD_LABELS.get(match.group(2), match.group(2))}"
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
        children = children_of(node)
        child = children[int(index)] if isinstance(children, list) and int(index) < len(children) else None
        kind = "group" if is_group(child) else "people condition" if is_people(child) else "condition"
        parts.append(f"{kind} {int(index) + 1}")
        node = child
    where = ", ".join(parts) if parts else "the definition"
    where = where[0].upper() + where[1:]
    return f"{where} · {field_words(name)}" if name else where
