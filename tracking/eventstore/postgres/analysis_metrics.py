"""Metric populations on PostgreSQL: `SELECT person_id, y, mature` per metric kind (analysis.metrics)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tracking.eventstore.postgres.analysis_steps import step_sql


def window_population_sql(
    *,
    project_id: int,
    step: dict | None,
    start: datetime,
    end: datetime,
    window_start: timedelta,
    window_end: timedelta,
    inclusive_end: bool,
    now: datetime,
) -> tuple[str, list]:
    pid = project_id
    upper = "<=" if inclusive_end else "<"
    cohort = "FROM tracking_person p WHERE p.project_id = %s AND p.first_seen >= %s AND p.first_seen < %s"
    if step is None:
        # any event: one probe per person on event_project_person_ts
        return (
            "SELECT p.id AS person_id, EXISTS (SELECT 1 FROM tracking_event e WHERE e.project_id = %s"
            f" AND e.person_id = p.id AND e.timestamp >= p.first_seen + %s AND e.timestamp {upper} p.first_seen + %s"
            f")::int AS y, p.first_seen + %s <= %s AS mature {cohort}",
            [pid, window_start, window_end, window_end, now, pid, start, end],
        )
    cond, cond_params = step_sql(step, "e")
    # a named event: its rows in the span any cohort member's window can cover (event_project_name_ts),
    # each matched against its own person's window (a hash of the persons), and the persons who have
    # one marked on the cohort. Grouping the cohort's rows with their events instead (a left join
    # and bool_or per person) cost 40% more at 10M events: a hash aggregate of every cohort member.
    return (
        "SELECT p.id AS person_id, (w.person_id IS NOT NULL)::int AS y, p.first_seen + %s <= %s AS mature"
        " FROM tracking_person p LEFT JOIN (SELECT DISTINCT e.person_id FROM tracking_event e"
        " JOIN tracking_person q ON q.id = e.person_id"
        f" WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp <= %s AND {cond}"
        f" AND e.timestamp >= q.first_seen + %s AND e.timestamp {upper} q.first_seen + %s) w ON w.person_id = p.id"
        " WHERE p.project_id = %s AND p.first_seen >= %s AND p.first_seen < %s",
        [window_end, now, pid, start + window_start, end + window_end, *cond_params, window_start, window_end,
         pid, start, end],
    )  # fmt: skip


def churn_population_sql(
    *, project_id: int, start: datetime, end: datetime, quiet: timedelta, now: datetime
) -> tuple[str, list]:
    """Read from the daily rollup (tracking_personday), not the events, in one pass.

    The range is whole days in the project's time zone, the rollup's days, so a
    day is in it exactly when its first event is. A person's last event of the
    range is their greatest `last_at` there; the next event after it is the
    first event of their first day after the range, so "an event within
    `quiet`" reads only days that start before the range's end plus `quiet`.
    """
    return (
        "SELECT l.person_id, (l.next_at IS NULL OR l.next_at > l.last_at + %s)::int AS y,"
        " l.last_at + %s <= %s AS mature"
        " FROM (SELECT d.person_id, max(d.last_at) FILTER (WHERE d.first_at < %s) AS last_at,"
        " min(d.first_at) FILTER (WHERE d.first_at >= %s) AS next_at FROM tracking_personday d"
        " WHERE d.project_id = %s AND d.first_at >= %s AND d.first_at < %s GROUP BY d.person_id) l"
        " WHERE l.last_at IS NOT NULL",
        [quiet, quiet, now, end, end, project_id, start, end + quiet],
    )


def value_population_sql(
    *, project_id: int, step: dict | None, prop: str, start: datetime, end: datetime, aggregate: str, per: str
) -> tuple[str, list]:
    pid = project_id
    cond, cond_params = step_sql(step, "e")
    if per == "active" and step is None:
        return (
            "SELECT e.person_id, coalesce(sum(sl_numeric(e.properties -> %s)), 0) AS y, true AS mature"
            " FROM tracking_event e WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s"
            " GROUP BY e.person_id",
            [prop, pid, start, end],
        )
    if per == "active":
        # the active persons from the daily rollup (the range is whole days of the project's time
        # zone, the rollup's days: a day is in it exactly when its first event is), the values
        # from the step's own events only (event_project_name_ts when the step names its event)
        return (
            "SELECT a.person_id, coalesce(v.y, 0) AS y, true AS mature"
            " FROM (SELECT DISTINCT d.person_id FROM tracking_personday d"
            " WHERE d.project_id = %s AND d.first_at >= %s AND d.first_at < %s) a"
            " LEFT JOIN (SELECT e.person_id, sum(sl_numeric(e.properties -> %s)) AS y FROM tracking_event e"
            f" WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s AND {cond} GROUP BY e.person_id) v"
            " ON v.person_id = a.person_id",
            [pid, start, end, prop, pid, start, end, *cond_params],
        )
    function = "sum" if aggregate == "sum" else "avg"
    # only the event's rows: event_project_name_ts when the event has a name; OFFSET 0 keeps
    # the value read once a row (flattened, each aggregate would extract it again)
    return (
        f"SELECT person_id, {function}(x) AS y, true AS mature FROM (SELECT e.person_id,"
        " sl_numeric(e.properties -> %s) AS x FROM tracking_event e WHERE e.project_id = %s"
        f" AND e.timestamp >= %s AND e.timestamp < %s AND {cond} OFFSET 0) v"
        " GROUP BY person_id HAVING count(x) > 0",
        [prop, pid, start, end, *cond_params],
    )


def frequency_population_sql(
    *, project_id: int, step: dict | None, start: datetime, end: datetime, zone: str
) -> tuple[str, list]:
    if step is None:
        # every event matches: the daily rollup (tracking_personday) holds each person's events
        # per day in the project's time zone (`zone`), and the range is whole such days, so a
        # day is in it exactly when its first event is
        return (
            "SELECT d.person_id, sum(d.events)::numeric / count(*) AS y, true AS mature"
            " FROM tracking_personday d WHERE d.project_id = %s AND d.first_at >= %s AND d.first_at < %s"
            " GROUP BY d.person_id",
            [project_id, start, end],
        )
    cond, cond_params = step_sql(step, "e")
    # per person and local day first (a hash aggregate), then per person: cheaper than count(DISTINCT day)
    return (
        "SELECT d.person_id, sum(d.matching)::numeric / count(*) AS y, true AS mature FROM ("
        f"SELECT e.person_id, (e.timestamp AT TIME ZONE %s)::date AS day, count(*) FILTER (WHERE {cond}) AS matching"
        " FROM tracking_event e WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s GROUP BY 1, 2"
        ") d GROUP BY d.person_id",
        [zone, *cond_params, project_id, start, end],
    )
