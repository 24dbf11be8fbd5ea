"""A definition evaluated at every day boundary in one pass over the stored history (the sweep).

segments.history rebuilds a segment's past by asking who matched as of each day
boundary. Boundary by boundary, each step re-reads the events of the persons who
may have changed, and those are the active persons, who own most of the events:
180 steps cost 60-350 full computations. This module answers all boundaries at
once, with the meaning of the compiler's as-of evaluation (segments.compiler,
`as_of=True`):

- every condition becomes, per person, the runs of boundaries at which it holds
  (indices into the sorted boundaries), from one statement over its rows;
- the boolean tree then combines per-person bit masks in Python (bit k: holds at
  boundary k), complements included, and persons count from their first_seen on.

How rows become runs. A row (an event, a session, a day of the rollup) counts at
boundary T when it lies in the condition's window as of T. For "the last A days",
an event at t counts from the first boundary at or after t to the last one at or
before t + A days: `width_bucket` over the boundaries gives both. Per person, +1
at the first and -1 past the last, summed in boundary order, is the number of
rows at each boundary (and the same for a property's sum and its count); where
the comparison holds is a run. Lags are whole days of 86,400 s, as the compiler's
windows are, so a DST change moves nothing.

Traits: each write starts a value that holds until the person's next write (the
latest `$set` so far, else the earliest `$set_once`); before the first write the
trait is not set, and without writes it is the current value. Survey answers: the
latest holds until the next. Sequences: every event completing the chain, with
the latest start of a chain it completes, holds from itself until that start
leaves the window. Ranks: each boundary's threshold comes from the histogram of
everyone's running scores there (segments.compiler.rank.rank_threshold).

Not here, so evaluated boundary by boundary (`unsupported` says why): company
segments (a company's people and aggregates), the min or max of a property over
"the last N days" (a moving extreme is not a running total), a sequence whose
window bounds only its first step, and every event condition when events live in
ClickHouse (this pass would hand every matching event to PostgreSQL).

Parts: base.py (answers, the tree, rows to runs), events.py, activity.py and
traits.py the conditions, as segments.compiler is laid out.

Values are always %s parameters; the SQL text is built only from constants.
"""

from __future__ import annotations

from datetime import datetime

from segments.compiler import effective_definition
from segments.definition import walk_conditions
from segments.models import Segment
from segments.sweep.activity import ActivityConditions
from segments.sweep.base import CONDITIONS, EVENT_CONDITIONS, Unsupported
from segments.sweep.events import EventConditions
from segments.sweep.traits import TraitConditions
from tracking.eventstore import using_clickhouse

__all__ = ["Sweep", "Unsupported", "sweep_members", "unsupported"]


def unsupported(definition: dict, *, project, seen: frozenset[int] = frozenset()) -> str | None:
    """Why the definition (with the dynamic segments it names) cannot be swept, or None."""
    for node in walk_conditions(definition):
        kind = node["type"]
        if kind not in CONDITIONS:
            return f"a {kind} condition"
        if kind in EVENT_CONDITIONS and using_clickhouse():
            return "events in ClickHouse"
        if (
            kind == "aggregate"
            and node["function"] in ("min", "max")
            and "last_days" in (node.get("window") or {})
        ):
            return f"the {node['function']} over a moving window"
        if kind == "sequence" and node.get("window_covers") == "first_step":
            return "a sequence whose window bounds its first step"
        if kind == "segment" and node["segment"] not in seen:
            inner = Segment.objects.filter(pk=node["segment"], project_id=project.pk).first()
            if inner is not None and inner.is_dynamic:
                reason = unsupported(effective_definition(inner), project=project, seen=seen | {inner.pk})
                if reason:
                    return reason
    return None


class Sweep(EventConditions, ActivityConditions, TraitConditions):
    """One definition at every one of `points` (sorted day boundaries): `members()`."""


def sweep_members(segment: Segment, definition: dict, points: list[datetime]) -> dict[int, int]:
    """Per person, the mask of the boundaries (bit k: points[k]) at which they were in the segment."""
    return Sweep(segment.project, points, segment_id=segment.pk).members(definition)
