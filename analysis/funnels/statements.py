"""The funnel's SQL: each entrant's furthest step in one pass, and the counts per breakdown value."""

from __future__ import annotations

from datetime import datetime, timedelta

from analysis.events import EventSpec
from analysis.funnels.query import SAMPLE_IDS, SESSION_BREAKDOWNS, TOP_VALUES, Breakdown, FunnelQuery
from analysis.params import range_bounds
from analysis.selectors import tagged_members_sql
from tracking.eventstore.analysis import funnel_counts_sql, funnel_levels_sql
from tracking.models import Project
from tracking.traffic.filtering import excluded_persons_sql


def levels_sql(
    *,
    project_id: int,
    steps: list[EventSpec],
    within: timedelta,
    start: datetime,
    end: datetime,
    with_session: bool = False,
    excluded: tuple[str, list] | None = None,
) -> tuple[str, list]:
    """`SELECT person_id, level, entered_at[, session_key]`: one row per entrant, level = furthest step reached.

    The event store answers it (tracking.eventstore.analysis.funnel_levels_sql);
    `excluded` is the traffic filter's excluded persons (tracking.traffic.filtering).
    """
    return funnel_levels_sql(
        project_id=project_id,
        steps=[step.step() for step in steps],
        within=within,
        start=start,
        end=end,
        with_session=with_session,
        excluded=excluded,
    )


def value_sql(breakdown: Breakdown, project_id: int) -> tuple[str, list, str, list]:
    """(value expression over `pl`, its parameters, joins, their parameters) — column names are constants."""
    if breakdown.type in SESSION_BREAKDOWNS:
        # relies on the unique index session_project_key (project_id, session_key)
        joins = " LEFT JOIN tracking_session s ON s.project_id = %s AND s.session_key = pl.session_key"
        return f"coalesce(s.{breakdown.type}, '')", [], joins, [project_id]
    joins = " JOIN tracking_person p ON p.id = pl.person_id"
    if breakdown.type == "person":
        return "coalesce(p.properties ->> %s, '')", [breakdown.prop], joins, []
    joins += " LEFT JOIN tracking_company c ON c.id = p.company_id"
    return "coalesce(c.properties ->> %s, '')", [breakdown.prop], joins, []


def _counts_sql(n: int) -> str:
    reached = ", ".join(f"count(*) FILTER (WHERE level >= {k})" for k in range(1, n + 1))
    samples = ", ".join(
        f"(array_agg(person_id) FILTER (WHERE level = {k}))[1:{SAMPLE_IDS}]" for k in range(1, n)
    )
    return f"{reached}, {samples}"


def entrants_sql(query: FunnelQuery, project: Project) -> tuple[str, list]:
    start, end = range_bounds(query.range, project)
    breakdown = query.breakdown
    with_session = breakdown is not None and breakdown.type in SESSION_BREAKDOWNS
    return levels_sql(
        project_id=project.pk,
        steps=query.steps,
        within=query.within.delta,
        start=start,
        end=end,
        with_session=with_session,
        excluded=excluded_persons_sql(project=project, traffic=query.traffic),
    )


def compute_sql(query: FunnelQuery, project: Project) -> tuple[str, list]:
    """Rows of (value, is_total, is_other, reached step 1…n, sample ids of those who stopped at 1…n-1)."""
    breakdown = query.breakdown
    if breakdown is None or breakdown.type == "segment":
        # counted by the event store (ClickHouse counts where the events are)
        start, end = range_bounds(query.range, project)
        groups = None
        if breakdown is not None:
            members, member_params = tagged_members_sql(breakdown.segments)
            groups = (f"SELECT m.segment_id AS group_id, m.person_id FROM ({members}) m", member_params)  # noqa: S608 - constant SQL, values as %s parameters
        counts, params = funnel_counts_sql(
            project_id=project.pk,
            steps=[step.step() for step in query.steps],
            within=query.within.delta,
            start=start,
            end=end,
            excluded=excluded_persons_sql(project=project, traffic=query.traffic),
            groups=groups,
            samples=SAMPLE_IDS,
        )
        n = len(query.steps)
        columns = ", ".join(
            [*(f"c.reached{k}" for k in range(1, n + 1)), *(f"c.stopped{k}" for k in range(1, n))]
        )
        return f"SELECT c.group_id::text, c.group_id IS NULL, false, {columns} FROM ({counts}) c", params  # noqa: S608 - constant SQL, values as %s parameters
    levels, params = entrants_sql(query, project)
    counts = _counts_sql(len(query.steps))
    value, value_params, joins, join_params = value_sql(breakdown, project.pk)
    sql = (
        f"WITH pl AS ({levels}),"  # noqa: S608 - constant SQL, values as %s parameters
        f" tagged AS (SELECT pl.*, {value} AS value FROM pl{joins}),"
        " top AS (SELECT value FROM tagged GROUP BY value ORDER BY count(*) DESC, value LIMIT %s),"
        " shown AS (SELECT t.*, t.value IN (SELECT value FROM top) AS is_top,"
        " CASE WHEN t.value IN (SELECT value FROM top) THEN t.value END AS shown_value FROM tagged t)"
        f" SELECT shown_value, GROUPING(is_top) = 1, NOT coalesce(is_top, true), {counts}"
        " FROM shown GROUP BY GROUPING SETS ((is_top, shown_value), ())"
    )
    return sql, [*params, *value_params, *join_params, TOP_VALUES]
