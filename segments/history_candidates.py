"""Which persons' answers may move between consecutive day boundaries, found for every step at once.

segments.history evaluates only these persons again at each boundary.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection

if TYPE_CHECKING:
    from segments.history import Dependencies

CANDIDATES_SQL = """
WITH lag (shift) AS (SELECT days * interval '86400 seconds' FROM unnest(%(lags)s::int[]) days)
SELECT step, array_agg(DISTINCT person_id) FROM (
    SELECT d.person_id, generate_series(
        width_bucket(d.first_at + lag.shift - interval '1 microsecond', %(points)s::timestamptz[]),
        width_bucket(d.last_at + lag.shift, %(points)s::timestamptz[]))
    FROM tracking_personday d, lag
    WHERE d.project_id = %(project)s AND d.day BETWEEN %(day_from)s AND %(day_to)s
      AND d.last_at >= %(since)s AND d.first_at <= %(last)s
  UNION ALL
    SELECT p.id, generate_series(
        width_bucket(p.first_seen + lag.shift - interval '1 microsecond', %(points)s::timestamptz[]),
        width_bucket(p.first_seen + lag.shift, %(points)s::timestamptz[]))
    FROM tracking_person p, lag
    WHERE p.project_id = %(project)s AND p.first_seen >= %(since)s AND p.first_seen <= %(last)s
  UNION ALL
    SELECT s.person_id, generate_series(
        width_bucket(s.started_at + lag.shift - interval '1 microsecond', %(points)s::timestamptz[]),
        width_bucket(s.started_at + lag.shift, %(points)s::timestamptz[]))
    FROM tracking_session s, lag
    WHERE %(sessions)s AND s.project_id = %(project)s AND s.started_at >= %(since)s AND s.started_at <= %(last)s
  UNION ALL
    SELECT t.person_id, generate_series(
        width_bucket(t.at - interval '1 microsecond', %(points)s::timestamptz[]),
        width_bucket(t.at, %(points)s::timestamptz[]))
    FROM tracking_persontrait t
    WHERE %(person_traits)s AND t.project_id = %(project)s AND t.at >= %(first)s AND t.at <= %(last)s
  UNION ALL
    SELECT p.id, generate_series(
        width_bucket(t.at - interval '1 microsecond', %(points)s::timestamptz[]),
        width_bucket(t.at, %(points)s::timestamptz[]))
    FROM tracking_companytrait t JOIN tracking_person p ON p.company_id = t.company_id
    WHERE %(company_traits)s AND t.project_id = %(project)s AND t.at >= %(first)s AND t.at <= %(last)s
  UNION ALL
    SELECT m.person_id, generate_series(
        width_bucket(moved.at - interval '1 microsecond', %(points)s::timestamptz[]),
        width_bucket(moved.at, %(points)s::timestamptz[]))
    FROM segments_segmentmembership m, LATERAL (VALUES (m.entered_at), (m.exited_at)) moved (at)
    WHERE m.segment_id = ANY(%(static)s) AND moved.at >= %(first)s AND moved.at <= %(last)s
) found (person_id, step)
WHERE step BETWEEN 1 AND %(steps)s
GROUP BY step
"""


def candidates_by_step(project, deps: Dependencies, points: list[datetime]) -> list[set[int]]:
    """For each step k >= 1, the persons whose answer may differ between points[k-1] and points[k] (a superset).

    One query for every step at once. A row whose moments, shifted by a lag,
    cover [lo, hi] belongs to every step (points[k-1], points[k]] it touches,
    bounds included: width_bucket over the sorted points gives the first
    (`lo` - 1 µs) and the last (`hi`) of them. A day of the rollup covers
    [first_at, last_at]: it moves a step when one of its events is new there
    (lag 0) or leaves a window then (lag N), or when an active-days window takes
    its first event in or drops its last. A lag is whole days of 86,400 s, as
    the compiler's windows are. The rollup is read once over the project's rows
    (person_day_unique starts with project_id); sessions through
    session_project_started, trait writes through person_trait_at and
    company_trait_at (project_id, at).
    """
    steps: list[set[int]] = [set() for _ in points]
    if len(points) < 2:
        return steps
    tz = project.zone
    first, last = points[0], points[-1]
    since = first - timedelta(days=max(deps.lags))
    params = {
        "lags": sorted(deps.lags),
        "points": list(points),
        "project": project.pk,
        "day_from": since.astimezone(tz).date() - timedelta(days=1),
        "day_to": last.astimezone(tz).date() + timedelta(days=1),
        "since": since,
        "first": first,
        "last": last,
        "sessions": deps.sessions,
        "person_traits": deps.person_traits,
        "company_traits": deps.company_traits,
        "static": sorted(deps.static_segments),
        "steps": len(points) - 1,
    }
    with connection.cursor() as cursor:
        cursor.execute(CANDIDATES_SQL, params)
        for step, ids in cursor.fetchall():
            steps[step].update(ids)
    return steps
