"""The NumPy funnel walk against the rule written out plainly, and against the window functions that stated it in SQL."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from tracking.eventstore.postgres.funnel_walk import walk

# few persons and moments, so that ties, repeats and interleaved attempts are common
_EVENT = st.tuples(st.integers(1, 4), st.integers(0, 30), st.integers(1, 15))
_CASE = st.fixed_dictionaries(
    {
        "events": st.lists(_EVENT, max_size=40),
        "steps": st.integers(2, 4),
        "within": st.integers(0, 12),
        "end": st.integers(0, 31),
    }
)


def _plain(events, steps: int, within: int, end: int) -> dict[int, tuple[int, int]]:
    """{person: (level, first start)}: for each event matching step k, the latest start of a chain that
    reached step k-1 at a strictly earlier moment, every pair of events compared."""
    out = {}
    for person in sorted({e[0] for e in events}):
        mine = [(t, m) for p, t, m in events if p == person]
        chain = [t if m & 1 and t < end else None for t, m in mine]
        if all(s is None for s in chain):
            continue
        level = 1
        for k in range(1, steps):
            chain = [
                max(
                    (s for (t2, _), s in zip(mine, chain, strict=True) if s is not None and t2 < t),
                    default=None,
                )
                if m & (1 << k)
                else None
                for t, m in mine
            ]
            if any(s is not None and t - s <= within for (t, _), s in zip(mine, chain, strict=True)):
                level = k + 1
        out[person] = (level, min(t for t, m in mine if m & 1 and t < end))
    return out


def _walked(events, steps: int, within: int, end: int) -> dict[int, tuple[int, int]]:
    person, moment, mask = (np.array([e[i] for e in events], dtype=np.int64) for i in range(3))
    levels = walk(person, moment, mask, steps=steps, within=within, end=end)
    rows = np.arange(len(events))
    # the first start's row is one of the person's step-1 events at the first start
    for p, entered, row in zip(levels.person, levels.entered, levels.first_row, strict=True):
        assert row in rows and events[row][0] == p and events[row][1] == entered and events[row][2] & 1
    return {
        int(p): (int(level), int(entered))
        for p, level, entered in zip(levels.person, levels.level, levels.entered, strict=True)
    }


@settings(max_examples=400, deadline=None)
@given(_CASE)
def test_the_walk_follows_the_rule(case):
    assert _walked(**case) == _plain(**case)


def test_a_repeat_at_the_same_moment_does_not_follow_itself():
    # steps 1 and 2 at the same moment: no chain; a later step 2 follows the start
    assert _walked([(1, 5, 3)], steps=2, within=10, end=20) == {1: (1, 5)}
    assert _walked([(1, 5, 3), (1, 6, 2)], steps=2, within=10, end=20) == {1: (2, 5)}
    # the latest start counts: the first is out of the window, the second is not
    assert _walked([(1, 0, 1), (1, 8, 1), (1, 12, 2)], steps=2, within=5, end=20) == {1: (2, 0)}
    # a start at or after the end does not enter
    assert _walked([(1, 20, 1), (1, 21, 2)], steps=2, within=5, end=20) == {}


def test_person_ids_and_moments_too_wide_for_one_sort_key():
    events = [(2**62, 2**40, 1), (2**62, 2**40 + 1, 2), (1, -(2**40), 1)]
    assert _walked(events, steps=2, within=5, end=2**41) == {1: (1, -(2**40)), 2**62: (2, 2**40)}


def _windows(events, steps: int, within: int, end: int) -> dict[int, tuple[int, int]]:
    """The rule as PostgreSQL window functions, one per step over the events sorted by person and moment."""
    chain = "SELECT *, CASE WHEN m & 1 = 1 AND t < %s THEN t END AS s0 FROM ev"
    for k in range(1, steps):
        chain = (
            f"SELECT *, CASE WHEN m & {1 << k} <> 0 THEN max(s{k - 1}) OVER (PARTITION BY p ORDER BY t"
            f" RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) END AS s{k} FROM ({chain}) l{k}"
        )
    cases = " ".join(f"WHEN t - s{k} <= %s THEN {k + 1}" for k in range(steps - 1, 0, -1))
    sql = (
        "WITH ev AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::int[]) AS u(p, t, m))"
        f" SELECT p, max(CASE {cases} WHEN s0 IS NOT NULL THEN 1 ELSE 0 END), min(s0) FROM ({chain}) f"
        " GROUP BY p HAVING min(s0) IS NOT NULL"
    )
    columns = [[e[i] for e in events] for i in range(3)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*columns, *[within] * (steps - 1), end])
        return {p: (level, entered) for p, level, entered in cursor.fetchall()}


@pytest.mark.django_db
@settings(max_examples=60, deadline=None)
@given(_CASE)
def test_the_walk_answers_as_the_window_functions_did(case):
    assert _walked(**case) == _windows(**case)
