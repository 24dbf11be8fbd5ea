"""Every boundary in one pass (segments.sweep) equals evaluating the definition at each of them.

test_history draws definitions of every kind, most of them small; here only
the conditions a sweep evaluates, in deeper trees and more examples, shrunk to
the smallest failing one.
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from segments.compiler.base import ZERO_SATISFIES
from segments.sweep import base as sweep_base
from tests.segments.test_asof import periods_st, segment_refs
from tests.segments.test_differential import conditions, groups
from tests.segments.test_history import _reconstruction_matches_every_boundary
from tests.segments.world import world_st
from tracking.properties import compare

pytestmark = pytest.mark.django_db


def _sweepable(node: dict) -> bool:
    kind, window = node["type"], node.get("window") or {}
    if kind == "sequence" and node.get("window_covers") == "first_step":
        return False
    return not (kind == "aggregate" and node["function"] in ("min", "max") and "last_days" in window)


leaves = conditions.filter(_sweepable)
nested_st = st.recursive(leaves, groups, max_leaves=4).map(
    lambda node: node if "conditions" in node else {"match": "all", "conditions": [node]}
)
sweep_definitions = st.recursive(st.one_of(leaves, segment_refs), groups, max_leaves=8).map(
    lambda node: node if "conditions" in node else {"match": "all", "conditions": [node]}
)
_SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]


@settings(max_examples=80, deadline=None, suppress_health_check=_SLOW)
@given(spec=world_st, definition=sweep_definitions, nested=nested_st, periods=periods_st,
       tz=st.sampled_from(["UTC", "America/New_York", "Europe/Paris"]))  # fmt: skip
def test_one_sweep_equals_evaluating_at_every_boundary(spec, definition, nested, periods, tz):
    _reconstruction_matches_every_boundary(spec, definition, nested, periods, tz, ("sweep", None))


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 70),
    rows=st.lists(
        st.tuples(st.integers(1, 6), st.integers(0, 75), st.integers(-1, 75), st.integers(1, 4)), max_size=25
    ),
    operator=st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte"]),
    value=st.integers(0, 6),
    block=st.sampled_from([1, 2, 4, 1 << 15]),
)
def test_counts_in_blocks_of_persons_equal_counting_each_boundary(n, rows, operator, value, block):
    """The in-memory totals (`_count_masks`): bits past 64, persons split across blocks, rows that never count."""
    assume(not ZERO_SATISFIES[operator](value))  # the caller's concern: see Sweep._counted
    rows = [(pid, min(lo, n - 1), min(hi, n - 1), c) for pid, lo, hi, c in rows]
    expected = {}
    for pid in {r[0] for r in rows}:
        mask = 0
        for k in range(n):
            total = sum(c for p, lo, hi, c in rows if p == pid and lo <= k <= hi)
            if compare(total, operator, value):
                mask |= 1 << k
        if mask:
            expected[pid] = mask
    with patch.object(sweep_base, "PERSONS_PER_BLOCK", block):
        assert sweep_base._count_masks(rows, n, operator, value) == expected
