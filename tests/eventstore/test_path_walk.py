"""The NumPy path walk against the window functions that stated the rule in SQL, on random sessions full of repeats."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from tracking.eventstore.postgres.path_walk import walk

# (person, moment, label, is_start); ids are the row numbers, so ties of moment are ordered by them
_EVENT = st.tuples(st.integers(1, 3), st.integers(0, 6), st.integers(0, 3), st.booleans())


@st.composite
def _sessions(draw):
    events = draw(st.lists(_EVENT, max_size=30))
    # at most one anchor a person, and it is a start event
    anchors, seen = [], set()
    for i, (person, _, _, is_start) in enumerate(events):
        if is_start and person not in seen and draw(st.booleans()):
            anchors.append(i)
            seen.add(person)
    return events, anchors


def _walked(events, anchors, forward: bool) -> dict[int, list[int | None]]:
    columns = [np.array([e[i] for e in events], dtype=np.int64) for i in range(4)]
    person, moment, label, is_start = columns
    is_anchor = np.zeros(len(events), bool)
    is_anchor[anchors] = True
    steps = walk(
        person, moment, np.arange(len(events)), label, is_start.astype(bool), is_anchor, forward=forward
    )
    return {
        int(p): [None if s[i] < 0 else int(s[i]) for s in steps.steps] for i, p in enumerate(steps.person)
    }


def _windows(events, anchors, forward: bool) -> dict[int, list[int | None]]:
    """The statement analysis.paths ran before the walk: fold repeats with lag, then lead/lag three steps."""
    shift = "lead" if forward else "lag"
    sql = f"""
        WITH ev AS (
            SELECT p AS person_id, t AS ts, i AS id, l AS label, s AS is_start, i = ANY(%s) AS is_anchor
            FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::bool[]) WITH ORDINALITY AS u(p, t, l, s, i)
        ),
        marked AS (
            SELECT ev.*, lag(label) OVER w AS prev_label, lag(is_start) OVER w AS prev_start
            FROM ev WINDOW w AS (PARTITION BY person_id ORDER BY ts, id)
        ),
        kept AS (
            SELECT * FROM marked
            WHERE prev_label IS DISTINCT FROM label OR (is_start AND NOT coalesce(prev_start, false))
        ),
        stepped AS (
            SELECT person_id, is_anchor,
                   {shift}(label, 1) OVER w AS s1, {shift}(label, 2) OVER w AS s2, {shift}(label, 3) OVER w AS s3
            FROM kept WINDOW w AS (PARTITION BY person_id ORDER BY ts, id)
        )
        SELECT person_id, s1, s2, s3 FROM stepped WHERE is_anchor
    """
    columns = [[e[i] for e in events] for i in range(4)]
    with connection.cursor() as cursor:
        # ORDINALITY counts from 1, the rows from 0
        cursor.execute(sql, [[a + 1 for a in anchors], *columns])
        return {p: [s1, s2, s3] for p, s1, s2, s3 in cursor.fetchall()}


@pytest.mark.django_db
@settings(max_examples=120, deadline=None)
@given(_sessions(), st.booleans())
def test_the_walk_gives_the_steps_the_window_functions_gave(case, forward):
    events, anchors = case
    assert _walked(events, anchors, forward) == _windows(events, anchors, forward)


def test_repeats_fold_but_a_start_after_other_events_does_not():
    # page 1 (start, anchor), a reload of it, page 2, page 2 again, page 1 as a start again, page 3
    events = [
        (1, 0, 1, True),
        (1, 1, 1, False),
        (1, 2, 2, False),
        (1, 3, 2, False),
        (1, 4, 1, True),
        (1, 5, 3, False),
    ]
    assert _walked(events, [0], forward=True) == {1: [2, 1, 3]}
    # backwards from the last start: page 2, page 1 (the reload folded into the anchor)
    assert _walked(events, [4], forward=False) == {1: [2, 1, None]}
    # an anchor that repeats the start just before it is folded into it: no path
    assert _walked([(1, 0, 1, True), (1, 1, 1, True)], [1], forward=True) == {}
    # after the same page not as a start, it stays
    assert _walked([(1, 0, 1, False), (1, 1, 1, True)], [1], forward=True) == {1: [None, None, None]}
