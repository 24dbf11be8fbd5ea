"""Funnels: ordered steps with a conversion window, overall and broken down.

A person enters the funnel by doing step 1 in the date range, and reaches step
k when they did steps 1…k in that order (each strictly later than the one
before) with step k at most the conversion window after that same step 1. Later
steps may fall after the range ends, within the window. People can try several
times: the furthest step any of their attempts reached counts.

The event store gives each entrant's furthest step
(tracking.eventstore.analysis.funnel_levels_sql): it reads only the events that
match some step, ordered per person by time, and walks the steps — at each
event matching step k, the latest start of a chain reaching step k-1 strictly
earlier. The latest start leaves the most room before the deadline, so
checking it is enough. On PostgreSQL the matching events are read as columns
and the steps walked in NumPy; on ClickHouse the levels are computed there.
Either way the levels are a relation that PostgreSQL joins to sessions,
persons or segments and counts per breakdown value; only per-step counts and a
sample of ids reach the result.

A breakdown assigns each entrant one value: the browser, OS, device type or
country of the session of their first step-1 event in the range, a person or
company property, or membership of segments (current members; a person in two
segments counts in both). The value that deviates most from the rest at some
step — significantly, with a Bonferroni correction for the number of values and
steps tested — is singled out.
"""

from analysis.funnels.query import (
    BREAKDOWN_LABELS,
    BREAKDOWN_TYPES,
    MAX_STEPS,
    MIN_STEPS,
    PROPERTY_BREAKDOWNS,
    SESSION_BREAKDOWNS,
    Breakdown,
    FunnelQuery,
    funnel_params,
)
from analysis.funnels.results import (
    DroppedPage,
    FunnelResult,
    FunnelRow,
    Highlight,
    StepCount,
    funnel_compute,
    funnel_dropped_persons,
    funnel_persons_sql,
)
from analysis.funnels.statements import levels_sql

__all__ = [
    "BREAKDOWN_LABELS",
    "BREAKDOWN_TYPES",
    "MAX_STEPS",
    "MIN_STEPS",
    "PROPERTY_BREAKDOWNS",
    "SESSION_BREAKDOWNS",
    "Breakdown",
    "DroppedPage",
    "FunnelQuery",
    "FunnelResult",
    "FunnelRow",
    "Highlight",
    "StepCount",
    "funnel_compute",
    "funnel_dropped_persons",
    "funnel_params",
    "funnel_persons_sql",
    "levels_sql",
]
