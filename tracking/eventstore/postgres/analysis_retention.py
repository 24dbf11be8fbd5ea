"""Retention returns on PostgreSQL: the periods in which each cohort member came back."""

from __future__ import annotations

from datetime import timedelta

from tracking.eventstore.postgres.analysis_steps import step_sql


def returns_sql(*, project_id: int, step: dict | None, period: timedelta, periods: int) -> tuple[str, list]:
    """`SELECT DISTINCT person_id, period` over the caller's CTE `cohort (person_id, first_seen, …)`.

    Each member's events in their own window, probed on event_project_person_ts
    (project_id, person_id, timestamp).
    """
    cond, cond_params = step_sql(step, "e")
    sql = f"""
            SELECT DISTINCT c.person_id, floor(extract(epoch FROM e.timestamp - c.first_seen) / %s)::int AS period
            FROM cohort c
            JOIN tracking_event e ON e.project_id = %s AND e.person_id = c.person_id
                AND e.timestamp >= c.first_seen AND e.timestamp < c.first_seen + %s
            WHERE {cond}
    """
    return sql, [int(period.total_seconds()), project_id, period * periods, *cond_params]
