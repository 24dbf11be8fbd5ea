"""Funnel levels on PostgreSQL: the matching events read as columns, each entrant's furthest step walked in NumPy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tracking.eventstore.arrays import MICROS, unnest_sql, values_sql
from tracking.eventstore.columns import in_groups, read_columns
from tracking.eventstore.postgres.analysis_steps import excluded_sql, step_names, step_sql
from tracking.eventstore.postgres.funnel_walk import Levels, walk

MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def matched_sql(
    *,
    project_id: int,
    steps: list[dict | None],
    within: timedelta,
    start: datetime,
    end: datetime,
    with_session: bool = False,
    excluded: tuple[str, list] | None = None,
) -> tuple[str, list]:
    """`SELECT person_id, ts, mask[, event_id]`: the events that match some step, bit k-1 of mask for step k.

    When every step names its events, `name = ANY(...)` lets event_project_name_ts
    (project_id, name, timestamp) serve the scan; otherwise the range is read by
    event_timestamp_brin or sequentially, in parallel workers either way. Only
    the rows that match cross the Gather. When no two steps share an event name,
    a row that matches some step matches the step of its name, so the mask is
    read from the name alone and the step conditions (URL tests, properties) run
    once per row, in the filter; otherwise they run again for the matching rows.
    `excluded` keeps persons out by a predicate on `e.person_id` (tracking.traffic.filtering).
    """
    person_filter = excluded_sql("e.person_id", excluded)
    conditions = [step_sql(step, "e") for step in steps]
    names = [step_names(step) for step in steps]
    named = all(names)
    own_names = named and sum(len(set(group)) for group in names) == len(
        {n for group in names for n in group}
    )  # type: ignore[union-attr, arg-type]
    if own_names:
        by_name = {name: 1 << k for k, group in enumerate(names) for name in group}  # type: ignore[arg-type]
        mask = "CASE e.name " + " ".join(f"WHEN %s THEN {bit}" for bit in by_name.values()) + " ELSE 0 END"
        mask_params: list = list(by_name)
    else:
        mask = " + ".join(
            f"CASE WHEN {sql} THEN {1 << k} ELSE 0 END" for k, (sql, _) in enumerate(conditions)
        )
        mask_params = [p for _, params in conditions for p in params]
    any_step = " OR ".join(sql for sql, _ in conditions)
    any_params = [p for _, params in conditions for p in params]
    prefilter, prefilter_params = "", []
    if named:
        # a name test the index can serve; the full conditions run once per row after it
        prefilter, prefilter_params = " AND e.name = ANY(%s)", [sorted({n for group in names for n in group})]  # type: ignore[union-attr]
    event_id = ", e.id AS event_id" if with_session else ""
    sql = (
        f"SELECT e.person_id, e.timestamp AS ts, ({mask}) AS mask{event_id} FROM tracking_event e"
        f" WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s{prefilter}"
        f" AND {person_filter[0]} AND ({any_step})"
    )
    return sql, [
        *mask_params, project_id, start, end + within, *prefilter_params, *person_filter[1], *any_params
    ]  # fmt: skip


def levels_sql(
    *,
    project_id: int,
    steps: list[dict | None],
    within: timedelta,
    start: datetime,
    end: datetime,
    with_session: bool = False,
    excluded: tuple[str, list] | None = None,
) -> tuple[str, list]:
    """`SELECT person_id, level, entered_at[, session_key]`: one row per entrant, level = furthest step reached.

    The matching events (matched_sql) come to Python as columns, NumPy walks the
    steps (funnel_walk), and the levels go back as an unnest relation that the
    breakdowns and counts join like a table. The events' query runs now, on this
    connection: an enclosing `web.sql.bounded` limits it. The session of the
    first step-1 event is looked up by that event's id.
    """
    import pyarrow as pa

    levels, event_ids = _walked(
        project_id=project_id, steps=steps, within=within, start=start, end=end,
        with_session=with_session, excluded=excluded,
    )  # fmt: skip
    values = [levels.person, levels.level, levels.entered]
    names = [("person_id", "bigint"), ("level", "int"), ("entered_at", MICROS)]
    if with_session:
        values.append(event_ids[levels.first_row])
        names.append(("first_event_id", "bigint"))
    relation, relation_params = unnest_sql(
        names, pa.table([pa.array(v) for v in values], names=[n for n, _ in names])
    )
    if not with_session:
        return relation, relation_params
    # a lookup by primary key per entrant, kept apart (OFFSET 0) so it runs once a row: joined,
    # the planner merged the ids with the whole primary key index (2.2 s at 421,000 entrants against 1.5 s)
    return (
        "SELECT * FROM (SELECT l.person_id, l.level, l.entered_at,"
        " (SELECT e.session_key FROM tracking_event e WHERE e.id = l.first_event_id) AS session_key"
        f" FROM ({relation}) l OFFSET 0) l"
    ), relation_params


def _walked(
    *, steps: list[dict | None], within: timedelta, end: datetime, with_session: bool = False, **args
) -> tuple[Levels, Any]:
    """The matching events (matched_sql) read as columns and walked; with the events' ids when `with_session`."""
    matched, params = matched_sql(steps=steps, within=within, end=end, with_session=with_session, **args)
    columns = [("person_id", "bigint"), ("ts", "timestamptz"), ("mask", "int")]
    if with_session:
        columns.append(("event_id", "bigint"))
    read = read_columns(matched, params, columns)
    levels = walk(*read[:3], steps=len(steps), within=within // MICROSECOND, end=_micros(end))
    return levels, read[3] if with_session else None


def _micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch, as tracking.eventstore.columns reads a timestamptz."""
    return (moment - _EPOCH) // MICROSECOND


def counts_relation(
    *,
    project_id: int,
    steps: list[dict | None],
    within: timedelta,
    start: datetime,
    end: datetime,
    excluded: tuple[str, list] | None = None,
    groups: tuple[str, list] | None = None,
    samples: int,
) -> tuple[str, list]:
    """`group_id, reached1…n, stopped1…n-1`: the levels (as levels_sql walks them) counted in NumPy.

    A row for everyone (group NULL) and one per group with an entrant; `groups`
    is the query of `(group_id, person_id)`, read as columns. `stopped_k` holds
    up to `samples` ids of the entrants whose furthest step is k.
    """
    import numpy as np

    levels, _ = _walked(
        project_id=project_id, steps=steps, within=within, start=start, end=end, excluded=excluded
    )
    n = len(steps)
    rows = []
    for group, entrants in in_groups(levels.person, groups):
        level, person = levels.level[entrants], levels.person[entrants]
        reached = [int(np.count_nonzero(level >= k)) for k in range(1, n + 1)]
        stopped = [person[level == k][:samples].tolist() for k in range(1, n)]
        rows.append((group or None, *reached, *stopped))  # everyone is group NULL here
    columns = [("group_id", "bigint"), *((f"reached{k}", "bigint") for k in range(1, n + 1))]
    return values_sql([*columns, *((f"stopped{k}", "bigint[]") for k in range(1, n))], rows)
