"""Analysis steps as PostgreSQL conditions over `tracking_event` (see tracking.eventstore.analysis)."""

from __future__ import annotations

from tracking.matching.actions import action_where_sql
from tracking.properties import event_filter_sql


def step_sql(step: dict | None, alias: str = "e") -> tuple[str, list]:
    """A parameterised boolean over the events table `alias` (`true` for any event).

    With a name it is `alias.name = %s AND …`, which event_project_name_ts
    (project_id, name, timestamp) serves together with the caller's project
    and time range; an action's steps name their events the same way.
    """
    if step is None:
        return "true", []
    if "action_steps" in step:
        return action_where_sql(step["action_steps"], alias=alias)
    parts, params = [f"{alias}.name = %s"], [step["name"]]
    for flt in step.get("where") or ():
        sql, more = event_filter_sql(alias, flt["property"], flt["operator"], flt.get("value"))
        parts.append(sql)
        params += more
    return "(" + " AND ".join(parts) + ")", params


def step_names(step: dict | None) -> list[str] | None:
    """The event names a step can match, or None when it may match any name."""
    if step is None:
        return None
    if "action_steps" in step:
        names = [s.get("event") for s in step["action_steps"]]
        return names if names and all(names) else None
    return [step["name"]] if step.get("name") else None


def excluded_sql(column: str, excluded: tuple[str, list] | None) -> tuple[str, list]:
    """`column NOT IN (excluded persons)`, or `true` (tracking.traffic.filtering.person_filter_sql)."""
    if excluded is None:
        return "true", []
    return f"{column} NOT IN ({excluded[0]})", list(excluded[1])
