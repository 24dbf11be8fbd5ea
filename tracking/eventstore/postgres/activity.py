"""Events around sessions, exposures and survey answers on PostgreSQL (`tracking_event`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import orjson
from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from tracking.eventstore.stored import EVENT_COLUMNS, StoredEvent
from tracking.matching.actions import action_where_sql
from tracking.models import Event


def session_events(
    project_id: int, *, session_key: str, names: Iterable[str], start: datetime, end: datetime, limit: int
) -> list[StoredEvent]:
    # relies on event_project_name_ts (project_id, name, timestamp): a few names, one time window
    rows = (
        Event.objects.filter(
            project_id=project_id,
            name__in=list(names),
            session_key=session_key,
            timestamp__gte=start,
            timestamp__lte=end,
        )
        .order_by("timestamp", "uuid")
        .values_list(*EVENT_COLUMNS)[:limit]
    )
    return [StoredEvent(*row) for row in rows]


def session_stream(project_id: int, session_key: str) -> list[StoredEvent]:
    columns = ", ".join(f"e.{c}" for c in EVENT_COLUMNS)
    with connection.cursor() as cursor:
        # relies on event_project_person_ts through the session's person, then filters by key
        cursor.execute(
            f"SELECT {columns} FROM tracking_event e JOIN tracking_session s"
            " ON s.project_id = e.project_id AND s.person_id = e.person_id"
            " WHERE s.project_id = %s AND s.session_key = %s AND e.session_key = s.session_key"
            " AND e.timestamp BETWEEN s.started_at AND s.ended_at ORDER BY e.timestamp, e.uuid",
            [project_id, session_key],
        )
        rows = cursor.fetchall()
    return [
        StoredEvent(*row[:-1], orjson.loads(row[-1]) if isinstance(row[-1], str) else row[-1]) for row in rows
    ]


def sessions_with_action(queryset: QuerySet, *, steps: list[dict], slack: timedelta) -> QuerySet:
    table = queryset.model._meta.db_table
    where, params = action_where_sql(steps, alias="e")
    # The action's condition is built from constants and %s parameters only
    # (tracking.matching.actions); with an event name in its steps the lookup walks
    # event_project_name_ts (project_id, name, timestamp) over the session's window.
    sql = (
        "EXISTS (SELECT 1 FROM tracking_event e"
        f" WHERE e.project_id = {table}.project_id"
        f" AND e.session_key = {table}.session_key"
        f" AND e.timestamp >= {table}.started_at - %s"
        f" AND e.timestamp <= {table}.ended_at + %s"
        f" AND {where})"
    )
    return queryset.filter(RawSQL(sql, [slack, slack, *params], output_field=BooleanField()))  # noqa: S611


def conversion_sql(
    project_id: int, *, person: str, at: str, within: timedelta, event_sql: tuple[str, list]
) -> tuple[str, list]:
    """One indexed EXISTS per exposure on event_project_person_ts."""
    condition, params = event_sql
    return (
        "EXISTS (SELECT 1 FROM tracking_event e"
        f" WHERE e.project_id = %s AND e.person_id = {person}"
        f" AND e.timestamp > {at} AND e.timestamp <= {at} + %s AND ({condition}))",
        [project_id, within, *params],
    )


def survey_responses_sql(project_id: int, *, survey_id: int, key: str) -> tuple[str, list]:
    # one index range on event_project_name_ts (project_id, name, timestamp); a response names
    # its survey by id ($survey_id, from the snippet) or by key ($survey, from a server)
    return (
        "SELECT e.person_id, e.timestamp, e.properties -> '$answers' AS answers FROM tracking_event e"
        " WHERE e.project_id = %s AND e.name = '$survey_response'"
        " AND (e.properties ->> '$survey_id' = %s OR e.properties ->> '$survey' = %s)"
        " AND jsonb_typeof(e.properties -> '$answers') = 'object'",
        [project_id, str(survey_id), key],
    )
