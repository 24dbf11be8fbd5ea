"""Event specs of analyses: the segment format's `E`, checked, and handed to the event store as steps.

`E = {"name": "$pageview", "where": [{"property", "operator", "value"}, …]} | {"action": id}`
— the same JSON as in segment definitions (docs/segments.md), so a step written
for a segment can be pasted into a funnel and means the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analysis.params import Checker
from tracking.models import Action
from tracking.properties import OPERATORS, FilterError, validate_filter

MAX_FILTERS = 20


@dataclass
class EventSpec:
    """One event definition: a name with property filters, or a stored action."""

    name: str | None = None
    where: list[dict] = field(default_factory=list)
    action: Action | None = None

    def step(self) -> dict:
        """The spec as an event-store step (tracking.eventstore.analysis): a name with filters, or action steps."""
        if self.action is not None:
            return {"action_steps": self.action.steps}
        return {"name": self.name, "where": [dict(f) for f in self.where]}

    def to_json(self) -> dict:
        if self.action is not None:
            return {"action": self.action.pk}
        return {"name": self.name, "where": [dict(f) for f in self.where]}

    @property
    def label(self) -> str:
        if self.action is not None:
            return self.action.name
        if not self.where:
            return self.name or ""
        conditions = ", ".join(_filter_label(f) for f in self.where)
        return f"{self.name} ({conditions})"

    @property
    def short_label(self) -> str:
        """A step's name as people say it ("Page view /de/checkout"), for narrow column headers.

        The part that tells two steps apart (a filter's value) is kept; `label` is the
        full definition, for a tooltip.
        """
        if self.action is not None:
            return self.action.name
        name = EVENT_WORDS.get(self.name or "", self.name or "")
        values = [_filter_value_words(f) for f in self.where]
        return " ".join([name, *values]) if values else name


EVENT_WORDS = {
    "$pageview": "Page view",
    "$pageleave": "Page leave",
    "$autocapture": "Click",
    "$rageclick": "Rage click",
}


def _filter_value_words(flt: dict) -> str:
    """A filter by what it asks for: `/checkout` for equality, `~checkout` for contains."""
    operator, value = flt["operator"], flt.get("value")
    shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if operator in ("eq", "in"):
        return shown
    if operator == "contains":
        return f"~{shown}"
    return _filter_label(flt)


def _filter_label(flt: dict) -> str:
    if flt["operator"] in ("is_set", "is_not_set"):
        return f"{flt['property']} {flt['operator'].replace('_', ' ')}"
    return f"{flt['property']} {flt['operator']} {flt.get('value')}"


def parse_event(raw: Any, path: str, checker: Checker) -> EventSpec | None:
    """Check an `E` and load its action; errors are recorded under `path`."""
    node = checker.obj(raw, path)
    if node is None:
        return None
    if "action" in node:
        checker.unknown_keys(node, ("action",), f"{path}.")
        action_id = node["action"]
        if isinstance(action_id, str) and action_id.isdecimal():
            action_id = int(action_id)
        if isinstance(action_id, bool) or not isinstance(action_id, int):
            checker.error(f"{path}.action", "must be an action id")
            return None
        action = Action.objects.filter(project=checker.project, pk=action_id).first()
        if action is None:
            checker.error(f"{path}.action", f"no action {action_id} in this project")
            return None
        return EventSpec(action=action)
    checker.unknown_keys(node, ("name", "where"), f"{path}.")
    name = checker.string(node.get("name"), f"{path}.name")
    where = node.get("where") or []
    if not isinstance(where, list):
        checker.error(f"{path}.where", "must be a list of property filters")
        return None
    if len(where) > MAX_FILTERS:
        checker.error(f"{path}.where", f"takes at most {MAX_FILTERS} filters")
        return None
    filters = []
    for index, item in enumerate(where):
        item_path = f"{path}.where[{index}]"
        item = checker.obj(item, item_path)
        if item is None:
            continue
        prop = checker.string(item.get("property"), f"{item_path}.property")
        operator = item.get("operator", "eq")
        if operator not in OPERATORS:
            checker.error(f"{item_path}.operator", f"must be one of {', '.join(OPERATORS)}; got {operator!r}")
            continue
        try:
            validate_filter(operator, item.get("value"))
        except FilterError as error:
            checker.error(f"{item_path}.value", str(error))
            continue
        if prop is not None:
            flt = {"property": prop, "operator": operator}
            if operator not in ("is_set", "is_not_set"):
                flt["value"] = item.get("value")
            filters.append(flt)
    if name is None or checker.has_errors(f"{path}."):
        return None
    return EventSpec(name=name, where=filters)
