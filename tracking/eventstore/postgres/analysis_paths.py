"""Path steps on PostgreSQL: the three steps after (or before) each person's first anchor, walked in NumPy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tracking.eventstore.arrays import unnest_sql
from tracking.eventstore.columns import in_groups, read_columns
from tracking.eventstore.postgres.analysis_steps import excluded_sql, step_sql
from tracking.eventstore.postgres.path_walk import DEPTH, Steps, walk

_LABEL = (
    "CASE WHEN e.name = '$pageview' THEN coalesce(nullif(e.path, ''), e.url)"
    " WHEN e.name = '$autocapture' AND e.el_text <> '' THEN 'click “' || left(e.el_text, 60) || '”'"
    " ELSE e.name END"
)


def _walked(
    *,
    project_id: int,
    start: datetime,
    end: datetime,
    anchor: dict | None,
    start_path: str | None,
    pageviews_only: bool,
    skipped: tuple[str, ...],
    forward: bool,
    excluded: tuple[str, list] | None = None,
) -> tuple[Steps, Any]:
    """Each person's steps (path_walk.Steps, label codes) and the labels of the codes (a pyarrow array).

    The events are read now, on this connection (an enclosing `web.sql.bounded`
    limits it), as columns (tracking.eventstore.columns), and the steps walked
    in NumPy (path_walk):

    1. each person's first anchor (event_project_name_ts when the anchor names its event);
    2. only that session's events on the anchor's side of it, so the walk runs over
       the paths asked about, not over every session of the range: each anchor reads its
       person's events from the anchor to the session's edge on event_project_person_ts
       (project_id, person_id, timestamp). The edge is the session's `ended_at` (`started_at`
       backwards), which the drain keeps at the latest (earliest) event of the session; an
       anchor whose session has no row reads to the range's edge. The probes are a LATERAL
       subquery kept whole (OFFSET 0): flattened, the planner hashed the anchors and read every
       event of the range instead, several times slower at 10M events.
    """
    if start_path is not None:
        anchor_sql, anchor_params = "(e.name = '$pageview' AND e.path = %s)", [start_path]
    else:
        anchor_sql, anchor_params = step_sql(anchor, "e")
    if pageviews_only:
        # page views only (and the anchor itself, when it is another event): event_project_name_ts
        kinds, kind_params = f"(e.name = '$pageview' OR {anchor_sql})", list(anchor_params)
    else:
        kinds, kind_params = "NOT (e.name = ANY(%s))", [list(skipped)]
    side = ">=" if forward else "<="
    # the other side's bound: the session's last (first) event
    edge, bound, infinity = ("ended_at", "<=", "infinity") if forward else ("started_at", ">=", "-infinity")
    counted, counted_params = excluded_sql("e.person_id", excluded)
    events = f"""
        WITH anchors AS NOT MATERIALIZED (
            SELECT DISTINCT ON (e.person_id) e.person_id, e.session_key, e.timestamp AS ts, e.id
            FROM tracking_event e
            WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s AND {anchor_sql} AND {counted}
            ORDER BY e.person_id, e.timestamp, e.id
        )
        SELECT a.person_id, e.ts, e.id, e.label, coalesce(e.is_start, false)::int AS is_start,
            (e.id = a.id)::int AS is_anchor
        FROM anchors a
        LEFT JOIN tracking_session s ON s.project_id = %s AND s.session_key = a.session_key
        CROSS JOIN LATERAL (
            SELECT e.timestamp AS ts, e.id, {_LABEL} AS label, {anchor_sql} AS is_start
            FROM tracking_event e
            WHERE e.project_id = %s AND e.person_id = a.person_id AND e.session_key = a.session_key
                AND e.timestamp >= %s AND e.timestamp < %s AND e.timestamp {side} a.ts
                AND e.timestamp {bound} coalesce(s.{edge}, '{infinity}') AND {kinds}
            OFFSET 0
        ) e
    """
    params = [
        project_id, start, end, *anchor_params, *counted_params,
        project_id, *anchor_params, project_id, start, end, *kind_params,
    ]  # fmt: skip
    import pyarrow as pa

    person, moment, event_id, label, is_start, is_anchor = read_columns(
        events, params,
        [("person_id", "bigint"), ("ts", "timestamptz"), ("id", "bigint"), ("label", "text"),
         ("is_start", "smallint"), ("is_anchor", "smallint")],
    )  # fmt: skip
    labels = label.dictionary_encode()
    codes = labels.indices.to_numpy(zero_copy_only=False)
    walked = walk(person, moment, event_id, codes, is_start != 0, is_anchor != 0, forward=forward)
    return walked, labels.dictionary.cast(pa.string())


def steps_sql(**args) -> tuple[str, list]:
    """`person_id, s1, s2, s3` as an unnest relation (the arguments of tracking.eventstore.analysis.path_steps_sql)."""
    import pyarrow as pa

    walked, labels = _walked(**args)
    table = pa.table(
        [pa.array(walked.person), *(labels.take(pa.array(c, mask=c < 0)) for c in walked.steps)],
        names=["person_id", "s1", "s2", "s3"],
    )
    return unnest_sql([("person_id", "bigint"), ("s1", "text"), ("s2", "text"), ("s3", "text")], table)


COUNT_COLUMNS = (
    ("group_id", "bigint"), ("depth", "int"), ("s1", "text"), ("s2", "text"), ("s3", "text"), ("persons", "bigint"),
)  # fmt: skip


def counts_relation(*, groups: tuple[str, list], **args) -> tuple[str, list]:
    """`group_id, depth, s1, s2, s3, persons`: the steps counted per prefix and group in NumPy, as a relation.

    Group 0 is everyone; `groups` is the query of `(group_id, person_id)`, read as
    columns. A person counts once in each of their groups, once per depth; a group
    without an anchor has no rows.
    """
    import numpy as np

    walked, labels = _walked(**args)
    rows: list[tuple] = []
    for group, chosen in in_groups(walked.person, groups):
        if not chosen.any():  # as in ClickHouse: no rows when nobody has an anchor
            continue
        rows.append((group, 0, None, None, None, int(np.count_nonzero(chosen))))
        for depth in range(1, DEPTH + 1):
            prefixes, counts = _prefixes([step[chosen] for step in walked.steps[:depth]], len(labels))
            for prefix, count in zip(prefixes, counts.tolist(), strict=True):
                steps = [None if code < 0 else labels[code].as_py() for code in prefix]
                rows.append((group, depth, *steps, *[None] * (DEPTH - depth), count))
    return unnest_sql(COUNT_COLUMNS, rows)


def _prefixes(steps: list, labels: int) -> tuple[list[tuple[int, ...]], Any]:
    """The distinct rows of label codes (-1: no step) across `steps`, and how many times each occurs."""
    import numpy as np

    base = labels + 1
    if base ** len(steps) < 2**63:
        # one integer a row: the codes + 1 as digits in base labels + 1
        key = np.zeros(len(steps[0]), dtype=np.int64)
        for step in steps:
            key = key * base + step + 1
        values, counts = np.unique(key, return_counts=True)
        digits = [(values // base ** (len(steps) - 1 - k)) % base - 1 for k in range(len(steps))]
        return list(zip(*(d.tolist() for d in digits), strict=True)), counts
    values, counts = np.unique(np.stack(steps, axis=1), axis=0, return_counts=True)
    return [tuple(row) for row in values.tolist()], counts
