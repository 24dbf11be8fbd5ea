"""Conditions on sessions and days: device, place and session facts, active days, first/last seen,
and the lifecycle verbs (first time, stopped, restarted)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from segments.compiler.base import Clause, CompilerBase, Members, _earlier, window_bounds
from segments.definition import SESSION_NUMBERS
from tracking.eventstore import segments as event_store
from tracking.properties import column_filter_sql, compare_sql

_SESSION_NUMBER_SQL = {
    "duration_seconds": "extract(epoch from s.ended_at - s.started_at)",
    "pageview_count": "s.pageview_count",
}


def session_where(filters: list[dict]) -> tuple[str, list]:
    """` AND …` for each filter on a session `s` (its numbers compared as numbers, its texts as texts)."""
    parts, params = [], []
    for f in filters:
        if f["property"] in SESSION_NUMBERS:
            parts.append(f"{_SESSION_NUMBER_SQL[f['property']]} {compare_sql(f['operator'])} %s")
            params.append(Decimal(str(f["value"])))
        else:
            sql, p = column_filter_sql(f"s.{f['property']}", f["operator"], f["value"])
            parts.append(f"({sql})")
            params.extend(p)
    return "".join(f" AND {part}" for part in parts), params


def as_session(node: dict) -> dict:
    """A device or geo condition as the session condition it is: had a session (started in the window)
    whose fact passes the filter."""
    where = [{"property": node["property"], "operator": node["operator"], "value": node["value"]}]
    return {"where": where, "count": {"operator": "gte", "value": 1}, "window": node.get("window")}


class ActivityConditions(CompilerBase):
    def _session_condition(self, node: dict) -> Members:
        return self.c_session(as_session(node))

    c_device = _session_condition
    c_geo = _session_condition

    def c_session(self, node: dict) -> Members:
        """The number of the person's sessions started in the window that pass every filter.

        As of a moment: sessions started at or before it, with their final facts
        (duration, page count, exit path as stored now). Relies on
        session_project_started (project_id, started_at), session_project_source
        (project_id, utm_source, started_at) for a filter on the source, or
        session_project_person on an incremental refresh.
        """
        where, params = session_where(node["where"])
        w_sql, w_params = self.window_sql(node.get("window"), "s.started_at")
        r_sql, r_params = self.restrict("s.person_id")
        sessions = f"FROM tracking_session s WHERE s.project_id = %s{where}{w_sql}{r_sql}"
        sessions_params = [self.ctx.project_id, *params, *w_params, *r_params]
        count = node["count"]
        if (count["operator"], count["value"]) in (("gte", 1), ("gt", 0)):  # any session: no grouping
            return Members(f"SELECT s.person_id {sessions}", sessions_params, distinct=False)
        return self.counted(
            lambda op: (
                f"SELECT s.person_id {sessions} GROUP BY s.person_id HAVING count(*) {compare_sql(op)} %s",
                [*sessions_params, count["value"]],
            ),
            count["operator"],
            count["value"],
        )

    def c_active_days(self, node: dict) -> Members:
        # Reads the daily rollup (tracking.PersonDay, person_day_unique), one row per
        # person-day in the project's time zone. A "last N days" window starts mid-day:
        # a day counts when its last event is inside it; date windows are whole days.
        # As of a moment: a day counts when it had an event in the window by then (its
        # first event at or before the moment, its last inside the window).
        window = node["window"]
        if "last_days" in window:
            start, _ = window_bounds(window, now=self.ctx.now, tz=self.ctx.tz)
            days_sql, days_params = "d.last_at >= %s", [start]
        else:
            days_sql = "d.day >= %s AND d.day <= %s"
            days_params = [date.fromisoformat(window["from"]), date.fromisoformat(window["to"])]
        if self.ctx.as_of:
            days_sql, days_params = f"{days_sql} AND d.first_at <= %s", [*days_params, self.ctx.now]
        r_sql, r_params = self.restrict("d.person_id")
        count = node["count"]
        return self.counted(
            lambda op: (
                f"SELECT d.person_id FROM tracking_personday d WHERE d.project_id = %s AND {days_sql}{r_sql}"
                f" GROUP BY d.person_id HAVING count(*) {compare_sql(op)} %s",
                [self.ctx.project_id, *days_params, *r_params, count["value"]],
            ),
            count["operator"],
            count["value"],
        )

    def c_first_seen(self, node: dict) -> Clause:
        column = "p.first_seen" if node["type"] == "first_seen" else "p.last_seen"
        cutoff = self.ctx.now - timedelta(days=node["value"])
        within = node["operator"] == "within_last_days"
        if self.ctx.as_of and node["type"] == "last_seen":
            # Seen in [cutoff, now]: a day of the rollup with its first event by then and its
            # last at or after the cutoff (a window of at least a day cannot fall in one day's gap).
            r_sql, r_params = self.restrict("d.person_id")
            found = Members(
                "SELECT d.person_id FROM tracking_personday d WHERE d.project_id = %s"
                f" AND d.last_at >= %s AND d.first_at <= %s{r_sql}",
                [self.ctx.project_id, cutoff, self.ctx.now, *r_params],
                distinct=False,
            )
            return found if within else found.negated()
        return f"{column} {'>=' if within else '<'} %s", [cutoff]

    c_last_seen = c_first_seen

    # -- lifecycle verbs: "did E" over consecutive periods ending now ------------------------
    def did(self, event: dict, since: datetime | None, until: datetime | None) -> Members:
        """The persons with an event matching `event` in [since, until), capped at the moment."""
        sql, params = event_store.count_persons(
            self.ctx.project_id,
            event,
            since=since,
            until=_earlier(until, self.ctx.until),
            operator="gte",
            value=1,
            person_ids=self.ctx.person_ids,
            action_steps=self.action_steps,
        )
        return Members(sql, params)

    def c_first_time(self, node: dict) -> list[Members]:
        # did E in the last d days, and never before them
        start = self.ctx.now - timedelta(days=node["within_last_days"])
        return [self.did(node["event"], start, None), self.did(node["event"], None, start).negated()]

    def c_stopped(self, node: dict) -> list[Members]:
        # did E in the d days before the last d, and not in the last d
        mid = self.ctx.now - timedelta(days=node["days"])
        start = mid - timedelta(days=node["days"])
        return [self.did(node["event"], start, mid), self.did(node["event"], mid, None).negated()]

    def c_restarted(self, node: dict) -> list[Members]:
        # did E in the last d days, not in the d days before, and at some time before that
        mid = self.ctx.now - timedelta(days=node["days"])
        start = mid - timedelta(days=node["days"])
        return [
            self.did(node["event"], mid, None),
            self.did(node["event"], start, mid).negated(),
            self.did(node["event"], None, start),
        ]
