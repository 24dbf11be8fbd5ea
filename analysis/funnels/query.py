"""Funnel parameters: the steps, the conversion window, the dates and the breakdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analysis.events import EventSpec, parse_event
from analysis.params import TRAFFIC_FIELDS, Checker, DateRange, ParamError, Window, parse_window
from segments.models import Segment
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter

MIN_STEPS = 2
MAX_STEPS = 10
TOP_VALUES = 10
SAMPLE_IDS = 100
SESSION_BREAKDOWNS = ("browser", "os", "device_type", "country")
PROPERTY_BREAKDOWNS = ("person", "company")
BREAKDOWN_TYPES = (*SESSION_BREAKDOWNS, *PROPERTY_BREAKDOWNS, "segment")
BREAKDOWN_LABELS = {
    "browser": "browser", "os": "OS", "device_type": "device type", "country": "country",
    "person": "person property", "company": "company property", "segment": "segment",
}  # fmt: skip


@dataclass
class Breakdown:
    type: str
    prop: str = ""  # the property name of person and company breakdowns
    segments: list[Segment] = field(default_factory=list)

    def to_json(self) -> dict:
        if self.type == "segment":
            return {"type": "segment", "segments": [s.pk for s in self.segments]}
        if self.type in PROPERTY_BREAKDOWNS:
            return {"type": self.type, "property": self.prop}
        return {"type": self.type}

    @property
    def label(self) -> str:
        if self.type in PROPERTY_BREAKDOWNS:
            return f"{self.type} property “{self.prop}”"
        return BREAKDOWN_LABELS[self.type]


@dataclass
class FunnelQuery:
    steps: list[EventSpec]
    within: Window
    range: DateRange
    breakdown: Breakdown | None = None
    traffic: TrafficFilter = field(default_factory=TrafficFilter)

    def to_json(self) -> dict:
        return {
            "steps": [s.to_json() for s in self.steps],
            "within": self.within.to_json(),
            **self.range.to_json(),
            "breakdown": self.breakdown.to_json() if self.breakdown else None,
            **self.traffic.to_json(),
        }


def parse_breakdown(raw: Any, checker: Checker) -> Breakdown | None:
    if raw in (None, "", {}):
        return None
    node = checker.obj(raw, "breakdown")
    if node is None:
        return None
    kind = checker.choice(node.get("type"), "breakdown.type", BREAKDOWN_TYPES)
    if kind is None:
        return None
    if kind == "segment":
        checker.unknown_keys(node, ("type", "segments"), "breakdown.")
        segments = checker.segments(node.get("segments"), "breakdown.segments", minimum=1)
        return Breakdown("segment", segments=segments) if segments else None
    if kind in PROPERTY_BREAKDOWNS:
        checker.unknown_keys(node, ("type", "property"), "breakdown.")
        prop = checker.string(node.get("property"), "breakdown.property")
        return Breakdown(kind, prop=prop) if prop else None
    checker.unknown_keys(node, ("type",), "breakdown.")
    return Breakdown(kind)


def funnel_params(data: Any, *, project: Project) -> FunnelQuery:
    """Check funnel parameters (the JSON of the API); raise ParamError naming every bad field."""
    checker = Checker(project=project)
    if not isinstance(data, dict):
        raise ParamError({"non_field_errors": ["send an object of parameters"]})
    checker.unknown_keys(
        data, ("steps", "within", "date_from", "date_to", "last_days", "breakdown", *TRAFFIC_FIELDS)
    )
    raw_steps = data.get("steps")
    steps: list[EventSpec | None] = []
    if not isinstance(raw_steps, list) or not MIN_STEPS <= len(raw_steps) <= MAX_STEPS:
        checker.error("steps", f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps")
    else:
        steps = [parse_event(raw, f"steps[{i}]", checker) for i, raw in enumerate(raw_steps)]
    within = parse_window(data.get("within", {"value": 14, "unit": "days"}), "within", checker)
    date_range = checker.date_range(data)
    breakdown = parse_breakdown(data.get("breakdown"), checker)
    traffic = checker.traffic(data)
    checker.done()
    assert within is not None and date_range is not None
    return FunnelQuery(
        steps=[s for s in steps if s is not None],
        within=within,
        range=date_range,
        breakdown=breakdown,
        traffic=traffic,
    )
