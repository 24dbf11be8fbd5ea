"""Circular comparisons: a segment defined by the very outcome a metric measures.

Comparing "Reached checkout but did not pay" with everyone else on checkout
conversion is circular: its members have not paid by definition, so the
difference says nothing about them. A warning is raised when an event the
metric's outcome counts (its `to` step, or its `event`) also appears in the
segment's definition — in a behaviour, a count or a sequence, directly or
through a segment it refers to — or, for churn (which measures activity), when
the definition tests activity itself (last seen, active days).
"""

from __future__ import annotations

from typing import Any

from analysis.metrics import MetricSpec
from segments.definition import referenced_segments
from segments.models import Segment
from tracking.models import Action

ACTIVITY_CONDITIONS = ("last_seen", "active_days")
MAX_DEPTH = 5


def _outcome(spec: MetricSpec) -> dict | None:
    key = "to" if spec.kind == "conversion" else "event"
    event = spec.definition.get(key)
    return event if isinstance(event, dict) else None


def _names(event: dict, actions: dict[int, list[str | None]]) -> set[str | None]:
    """The event names an event spec can match (an action: its steps' events)."""
    if "action" in event:
        return set(actions.get(event["action"], []))
    name = event.get("name")
    return {name} if isinstance(name, str) else set()


def _definition_parts(definition: Any, project_id: int, depth: int = 0) -> tuple[list[dict], set[str]]:
    """Every event spec in a definition (and the segments it refers to), and its condition types."""
    events: list[dict] = []
    types: set[str] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        if isinstance(node.get("type"), str):
            types.add(node["type"])
        if isinstance(node.get("event"), dict):
            events.append(node["event"])
        for step in node.get("steps", []) if isinstance(node.get("steps"), list) else []:
            if isinstance(step, dict):
                events.append(step)
        for child in node.get("conditions", []) if isinstance(node.get("conditions"), list) else []:
            walk(child)

    walk(definition)
    if depth < MAX_DEPTH:
        refs = referenced_segments(definition) if isinstance(definition, dict) else []
        for ref in Segment.objects.filter(project_id=project_id, pk__in=refs).only("definition"):
            more_events, more_types = _definition_parts(ref.definition, project_id, depth + 1)
            events += more_events
            types |= more_types
    return events, types


def circular_warnings(*, spec: MetricSpec, segments: list[Segment], project_id: int) -> list[str]:
    """One sentence per segment whose definition contains what the metric measures."""
    outcome = _outcome(spec)
    warnings = []
    for segment in segments:
        events, types = _definition_parts(segment.definition, project_id)
        if spec.kind == "churn":
            if types & set(ACTIVITY_CONDITIONS):
                warnings.append(
                    f"“{segment.name}” is defined by activity (last seen or active days), which is what "
                    f"{spec.name or 'churn'} measures: its members differ on it by construction."
                )
            continue
        if outcome is None:
            continue
        action_ids = {e["action"] for e in [outcome, *events] if isinstance(e.get("action"), int)}
        actions = {
            a.pk: [step.get("event") for step in a.steps or []]
            for a in Action.objects.filter(project_id=project_id, pk__in=action_ids)
        }
        used = {n for e in events for n in _names(e, actions)}
        named = sorted(n for n in _names(outcome, actions) & used if n)
        if named:
            what = ", ".join(named)
            warnings.append(
                f"“{segment.name}” is defined by {what}, which {spec.name or 'this metric'} measures: "
                f"its members differ on it by construction, so the comparison is circular."
            )
    return warnings
