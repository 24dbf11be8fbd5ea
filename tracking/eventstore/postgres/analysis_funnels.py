"""Funnel levels on PostgreSQL: each entrant's furthest step, in one pass over the matching events."""

from __future__ import annotations

from datetime import datetime, timedelta

from tracking.eventstore.postgres.analysis_steps import excluded_sql, step_names, step_sql


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

    When every step names its events, `name = ANY(...)` lets event_project_name_ts
    (project_id, name, timestamp) serve the scan; otherwise the range is read by
    event_timestamp_brin or sequentially. The matching events are sorted once by
    (person_id, timestamp) for all the window functions.
    The matching events are a MATERIALIZED CTE on purpose: otherwise the planner
    reads them in (person_id, timestamp) order from event_project_person_ts to
    skip the sort, which walks every event of the project in the range and costs
    several times more than sorting the few that match.
    `excluded` keeps persons out by a predicate on `e.person_id` (tracking.traffic.filtering).
    """
    person_filter = excluded_sql("e.person_id", excluded)
    conditions = [step_sql(step, "e") for step in steps]
    flags = ", ".join(f"{sql} AS m{i}" for i, (sql, _) in enumerate(conditions))
    flag_params = [p for _, params in conditions for p in params]
    any_step = " OR ".join(f"m{i}" for i in range(len(steps)))
    session = ", e.session_key" if with_session else ""
    names = [step_names(step) for step in steps]
    prefilter, prefilter_params = "", []
    if all(names):
        # a name test the index can serve; the full conditions run once per row below
        prefilter, prefilter_params = " AND e.name = ANY(%s)", [sorted({n for group in names for n in group})]  # type: ignore[union-attr]
    # The subquery is flattened on purpose: the step conditions then filter inside the scan,
    # which runs in parallel workers, and only matching rows cross the Gather (the flags are
    # evaluated again for those rows only). Kept whole (OFFSET 0), every row in the range
    # crossed the Gather, and the planner chose a single-process scan instead.
    matched = (
        f"SELECT * FROM (SELECT e.person_id, e.timestamp AS ts{session}, {flags} FROM tracking_event e"
        f" WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s{prefilter}"
        f" AND {person_filter[0]}) x WHERE {any_step}"
    )
    matched_params: list = [
        *flag_params,
        project_id,
        start,
        end + within,
        *prefilter_params,
        *person_filter[1],
    ]
    # step 1 must happen in the range; later steps may follow it past the range's end
    chain = "SELECT *, CASE WHEN m0 AND ts < %s THEN ts END AS s0 FROM ev"
    for i in range(1, len(steps)):
        chain = (
            f"SELECT *, CASE WHEN m{i} THEN max(s{i - 1}) OVER (PARTITION BY person_id ORDER BY ts"
            f" RANGE BETWEEN UNBOUNDED PRECEDING AND '1 microsecond'::interval PRECEDING) END AS s{i}"
            f" FROM ({chain}) l{i}"
        )
    cases = " ".join(
        f"WHEN s{i} IS NOT NULL AND ts - s{i} <= %s THEN {i + 1}" for i in range(len(steps) - 1, 0, -1)
    )
    case_params = [within] * (len(steps) - 1)
    first_session = (
        ", (array_agg(session_key ORDER BY ts) FILTER (WHERE s0 IS NOT NULL))[1] AS session_key"
        if with_session
        else ""
    )
    sql = (
        f"WITH ev AS MATERIALIZED ({matched})"
        f" SELECT person_id, max(CASE {cases} WHEN s0 IS NOT NULL THEN 1 ELSE 0 END) AS level,"
        f" min(s0) AS entered_at{first_session}"
        f" FROM ({chain}) f GROUP BY person_id HAVING min(s0) IS NOT NULL"
    )
    return sql, [*matched_params, *case_params, end]


def counts_sql(
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
    """`group_id, reached1…n, stopped1…n-1` over the levels, in the same statement (see levels_sql)."""
    levels, params = levels_sql(
        project_id=project_id, steps=steps, within=within, start=start, end=end, excluded=excluded
    )
    n = len(steps)
    reached = [f"count(*) FILTER (WHERE level >= {k}) AS reached{k}" for k in range(1, n + 1)]
    stopped = [
        f"(array_agg(person_id) FILTER (WHERE level = {k}))[1:{int(samples)}] AS stopped{k}"
        for k in range(1, n)
    ]
    counts = ", ".join(reached + stopped)
    total = f"SELECT NULL::bigint AS group_id, {counts} FROM pl"
    if groups is None:
        return f"WITH pl AS ({levels}) {total}", params
    return (
        f"WITH pl AS ({levels}), g AS ({groups[0]}) {total}"
        f" UNION ALL SELECT g.group_id, {counts} FROM pl"
        " JOIN (SELECT group_id, person_id AS member_id FROM g) g ON g.member_id = pl.person_id"
        " GROUP BY g.group_id"
    ), [*params, *groups[1]]
