"""The planted patterns, measured in SQL over a seeded project (shared by the tests and by benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection

from tracking.matching.actions import action_where_sql

PAY_CLICK = [{"event": "$autocapture", "selector": "#checkout-pay"}]


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class Rate:
    attempts: int
    failures: int

    @property
    def value(self) -> float:
        return self.failures / self.attempts if self.attempts else 0.0


def checkout_failure_rates(project_id: int, *, since: datetime) -> dict[tuple[str, bool], Rate]:
    """(browser, after `since`) -> checkout sessions with a pay click, and those without a purchase."""
    where, params = action_where_sql(PAY_CLICK, alias="e")
    rows = _rows(
        f"""
        SELECT s.browser, e.timestamp >= %s AS recent, count(DISTINCT s.id),
               count(DISTINCT s.id) FILTER (WHERE NOT EXISTS (
                   SELECT 1 FROM tracking_event p WHERE p.project_id = s.project_id
                   AND p.session_key = s.session_key AND p.name = 'purchase'))
        FROM tracking_event e
        JOIN tracking_session s ON s.project_id = e.project_id AND s.session_key = e.session_key
        WHERE e.project_id = %s AND {where}
        GROUP BY 1, 2
        """,
        [since, project_id, *params],
    )
    return {(browser, recent): Rate(attempts, failures) for browser, recent, attempts, failures in rows}


def combined(
    rates: dict[tuple[str, bool], Rate], *, browsers: set[str] | None = None, exclude: str = "", recent: bool
) -> Rate:
    chosen = [
        rate for (browser, is_recent), rate in rates.items()
        if is_recent == recent and browser != exclude and (browsers is None or browser in browsers)
    ]  # fmt: skip
    return Rate(sum(r.attempts for r in chosen), sum(r.failures for r in chosen))


def invites_per_person_by_size(project_id: int) -> dict[str, float]:
    """invited_teammate events per identified company member, by the company's size band."""
    rows = _rows(
        """
        SELECT c.properties ->> 'size_band', count(e.id)::float / count(DISTINCT p.id)
        FROM tracking_person p
        JOIN tracking_company c ON c.id = p.company_id
        LEFT JOIN tracking_event e ON e.project_id = p.project_id AND e.person_id = p.id AND e.name = 'invited_teammate'
        WHERE p.project_id = %s
        GROUP BY 1
        """,
        [project_id],
    )
    return dict(rows)


def seats_by_size(project_id: int) -> dict[str, float]:
    rows = _rows(
        "SELECT properties ->> 'size_band', avg((properties ->> 'seats')::int) FROM tracking_company"
        " WHERE project_id = %s GROUP BY 1",
        [project_id],
    )
    return {band: float(seats) for band, seats in rows}


def business_share_by_size(project_id: int, bands: dict[str, list[str]] | None = None) -> dict[str, float]:
    """The share of companies on Business, by size band (or by groups of bands)."""
    rows = _rows(
        "SELECT properties ->> 'size_band', count(*), count(*) FILTER (WHERE properties ->> 'plan' = 'business')"
        " FROM tracking_company WHERE project_id = %s GROUP BY 1",
        [project_id],
    )
    groups = bands or {band: [band] for band, _, _ in rows}
    counts = {band: (total, business) for band, total, business in rows}
    return {
        name: sum(counts.get(b, (0, 0))[1] for b in members)
        / max(1, sum(counts.get(b, (0, 0))[0] for b in members))
        for name, members in groups.items()
    }


def adoption_by_goal(project_id: int) -> dict[str, dict[str, float]]:
    """By the latest goal answer: timeline views and invitations per person."""
    rows = _rows(
        """
        WITH answers AS (
            SELECT DISTINCT ON (person_id) person_id, properties -> '$answers' ->> 'main_goal' AS goal
            FROM tracking_event WHERE project_id = %s AND name = '$survey_response' AND properties ->> '$survey' = 'goal'
            ORDER BY person_id, timestamp DESC
        )
        SELECT a.goal, count(*),
               avg((SELECT count(*) FROM tracking_event e WHERE e.project_id = %s AND e.person_id = a.person_id
                    AND e.name = '$pageview' AND e.path = '/demo/board/timeline/')),
               avg((SELECT count(*) FROM tracking_event e WHERE e.project_id = %s AND e.person_id = a.person_id
                    AND e.name = 'invited_teammate'))
        FROM answers a GROUP BY 1
        """,
        [project_id, project_id, project_id],
    )
    return {
        goal: {"people": n, "timeline": float(timeline), "invites": float(invites)}
        for goal, n, timeline, invites in rows
    }


def events_per_person_month(project_id: int, days: int) -> float:
    [(events, persons)] = _rows(
        "SELECT (SELECT count(*) FROM tracking_event WHERE project_id = %s),"
        " (SELECT count(*) FROM tracking_person WHERE project_id = %s)",
        [project_id, project_id],
    )
    return events / persons / (days / 30)


def recent_since(until: datetime, days: int) -> datetime:
    return until - timedelta(days=days)
