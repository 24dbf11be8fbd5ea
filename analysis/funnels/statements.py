"""The funnel's SQL: each entrant's furthest step in one pass, and the counts per breakdown value."""

from __future__ import annotations

from datetime import datetime, timedelta

from analysis.events import EventSpec
from analysis.funnels.query import SAMPLE_IDS, SESSION_BREAKDOWNS, TOP_VALUES, Breakdown, FunnelQuery
from analysis.params import range_bounds
from analysis.selectors import tagged_members_sql
from tracking.models import Project
from tracking.traffic.filtering import person_filter_sql


def levels_sql(
    *,
    project_id: int,
    steps: list[EventSpec],
    within: timedelta,
    start: datetime,
    end: datetime,
    with_session: bool = False,
    person_filter: tuple[str, list] = ("true", []),
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
    `person_filter` is a predicate on `e.person_id` (tracking.traffic.filtering).
    """
    conditions = [step.sql("e") for step in steps]
    flags = ", ".join(f"{sql} AS m{i}" for i, (sql, _) in enumerate(conditions))
    flag_params = [p for _, params in conditions for p in params]
    any_step = " OR ".join(f"m{i}" for i in range(len(steps)))
    session = ", e.session_key" if with_session else ""
    names = [step.event_names() for step in steps]
    prefilter, prefilter_params = "", []
    if all(names):
        # a name test the index can serve; the full conditions run once per row below
        prefilter, prefilter_params = " AND e.name = ANY(%s)", [sorted({n for group in names for n in group})]
    # OFFSET 0 keeps the subquery whole, so each step's condition (property filters can be costly)
    # is evaluated once per row, not once in the filter and again for the flags
    matched = (
        f"SELECT * FROM (SELECT e.person_id, e.timestamp AS ts{session}, {flags} FROM tracking_event e"  # noqa: S608 - constant SQL, values as %s parameters
        f" WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s{prefilter}"
        f" AND {person_filter[0]} OFFSET 0) x WHERE {any_step}"
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
            f"SELECT *, CASE WHEN m{i} THEN max(s{i - 1}) OVER (PARTITION BY person_id ORDER BY ts"  # noqa: S608 - constant SQL, values as %s parameters
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
        f"WITH ev AS MATERIALIZED ({matched})"  # noqa: S608 - constant SQL, values as %s parameters
        f" SELECT person_id, max(CASE {cases} WHEN s0 IS NOT NULL THEN 1 ELSE 0 END) AS level,"
        f" min(s0) AS entered_at{first_session}"
        f" FROM ({chain}) f GROUP BY person_id HAVING min(s0) IS NOT NULL"
    )
    return sql, [*matched_params, *case_params, end]


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
        person_filter=person_filter_sql("e.person_id", project=project, traffic=query.traffic),
    )


def compute_sql(query: FunnelQuery, project: Project) -> tuple[str, list]:
    """Rows of (value, is_total, is_other, reached step 1…n, sample ids of those who stopped at 1…n-1)."""
    levels, params = entrants_sql(query, project)
    breakdown = query.breakdown
    counts = _counts_sql(len(query.steps))
    if breakdown is None:
        return f"WITH pl AS ({levels}) SELECT NULL::text, true, false, {counts} FROM pl", params  # noqa: S608 - constant SQL, values as %s parameters
    if breakdown.type == "segment":
        members, member_params = tagged_members_sql(breakdown.segments)
        sql = (
            f"WITH pl AS ({levels}), m AS ({members})"  # noqa: S608 - constant SQL, values as %s parameters
            f" SELECT NULL::text, true, false, {counts} FROM pl"
            f" UNION ALL SELECT m.segment_id::text, false, false, {counts}"
            " FROM pl JOIN (SELECT segment_id, person_id AS member_id FROM m) m ON m.member_id = pl.person_id"
            " GROUP BY m.segment_id"
        )
        return sql, [*params, *member_params]
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
