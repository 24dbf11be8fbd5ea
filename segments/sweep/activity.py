"""Conditions on sessions and days: device, place and session facts, active days, first and last seen."""

from __future__ import annotations

from datetime import date, timedelta

from segments.compiler.activity import as_session, session_where
from segments.sweep.base import Answer, SweepBase


class ActivityConditions(SweepBase):
    def _session_condition(self, node: dict) -> Answer:
        return self.c_session(as_session(node))

    c_device = _session_condition
    c_geo = _session_condition

    def c_session(self, node: dict) -> Answer:
        where, params = session_where(node["where"])
        since, until, reach = self._window(node.get("window"))
        since, until = self._bounded(since, until, reach)
        bounds, bounds_params = " AND s.started_at < %s", [until]
        if since is not None:
            bounds, bounds_params = f"{bounds} AND s.started_at >= %s", [*bounds_params, since]
        rows = (
            "SELECT s.person_id, s.started_at, s.started_at, NULL::numeric FROM tracking_session s"
            f" WHERE s.project_id = %s{where}{bounds}",
            [self.project.pk, *params, *bounds_params],
        )
        count = node["count"]
        return self._counted(rows, reach=reach, operator=count["operator"], value=count["value"])

    def _days(self, where: str = "", params: list | None = None, *, reach: int | None) -> tuple[str, list]:
        """Rows of the daily rollup: a day counts from its first event until `reach` days after its last."""
        bound, bound_params = "", []
        if reach is not None:
            bound, bound_params = " AND d.last_at >= %s", [self.first - timedelta(days=reach)]
        return (
            "SELECT d.person_id, d.first_at, d.last_at, NULL::numeric FROM tracking_personday d"
            f" WHERE d.project_id = %s AND d.first_at <= %s{bound}{where}",
            [self.project.pk, self.last, *bound_params, *(params or [])],
        )

    def c_active_days(self, node: dict) -> Answer:
        window, count = node["window"], node["count"]
        if "last_days" in window:
            reach = int(window["last_days"])
            rows = self._days(reach=reach)
        else:
            reach = None
            rows = self._days(
                " AND d.day >= %s AND d.day <= %s",
                [date.fromisoformat(window["from"]), date.fromisoformat(window["to"])],
                reach=None,
            )
        return self._counted(rows, reach=reach, operator=count["operator"], value=count["value"])

    def c_first_seen(self, node: dict) -> Answer:
        days = int(node["value"])
        within = node["operator"] == "within_last_days"
        if node["type"] == "last_seen":  # seen in [T - days, T]: a day of the rollup in that window
            seen = Answer(self._runs(self._days(reach=days), reach=days))
            return seen if within else self._not(seen)
        rows = (
            "SELECT p.id, p.first_seen, p.first_seen, NULL::numeric FROM tracking_person p"
            " WHERE p.project_id = %s AND p.first_seen <= %s",
            [self.project.pk, self.last],
        )
        if within:  # first seen at or after T - days
            return Answer(self._runs(rows, reach=days))
        return Answer(self._runs(rows, reach=None, delay=days))  # first seen before T - days

    c_last_seen = c_first_seen
