"""The overview's and the action pages' counts on PostgreSQL (`tracking_event`)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, Count, F, Func, Max, Q, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from psycopg.errors import QueryCanceled

from tracking import elements as chain
from tracking.eventstore.stored import EVENT_COLUMNS, StoredEvent
from tracking.eventstore.summary import ActivitySummary, ClickedTarget, MatchSummary
from tracking.matching.actions import action_where_sql
from tracking.models import Event


def activity_summary(
    project_id: int, *, since: datetime, zone: ZoneInfo, excluded: tuple[str, list] | None, top: int
) -> ActivitySummary:
    counted = Q()
    if excluded is not None:
        counted = ~Q(person_id__in=RawSQL(excluded[0], excluded[1]))  # noqa: S611 - constant SQL, values as parameters
    # The time range is all the BRIN index on timestamp needs to skip old blocks.
    recent = Event.objects.filter(counted, project_id=project_id, timestamp__gte=since)
    summary = ActivitySummary()
    summary.per_day = {
        row["day"]: (row["events"], row["persons"])
        for row in recent.annotate(day=TruncDate("timestamp", tzinfo=zone))
        .values("day")
        .annotate(events=Count("*"), persons=Count("person_id", distinct=True))
        .order_by()
    }
    totals = recent.aggregate(events=Count("*"), persons=Count("person_id", distinct=True))
    summary.events, summary.persons = totals["events"], totals["persons"]

    # event_project_name_ts serves both top lists: one name over a time range.
    summary.pages = list(
        recent.filter(name="$pageview")
        .values("path")
        .annotate(count=Count("*"))
        .order_by("-count", "path")
        .values_list("path", "count")[:top]
    )
    target = Func(
        F("elements_chain"), Value(chain.RS), Value(2), function="split_part", output_field=TextField()
    )
    clicks = list(
        recent.filter(name="$autocapture")
        .annotate(target=target)
        .values("target")
        .annotate(count=Count("*"), example=Max("id"), text=Max("el_text"))
        .order_by("-count", "target")[:top]
    )
    # the examples' uuids: a primary-key probe each
    uuids = dict(
        Event.objects.filter(project_id=project_id, id__in=[c["example"] for c in clicks]).values_list(
            "id", "uuid"
        )
    )
    summary.clicks = [
        ClickedTarget(
            target=c["target"], count=c["count"], text=c["text"] or "", example=uuids.get(c["example"])
        )
        for c in clicks
    ]
    return summary


def match_counts(
    project_id: int, steps_list: list[list[dict]], since: datetime, until: datetime
) -> list[tuple[int, int]]:
    """(events, persons) per list of steps: one pass over the window, each matching event
    tagged with the actions it matches, once."""
    tags: list[str] = []
    params: list = []
    where: list[str] = []
    where_params: list = []
    for i, steps in enumerate(steps_list):
        condition, condition_params = action_where_sql(steps, alias="e")
        tags.append(f"CASE WHEN {condition} THEN {i} END")
        params += condition_params
        where.append(condition)
        where_params += condition_params
    # relies on event_project_name_ts for steps with an event name, else the BRIN on timestamp
    sql = (
        "SELECT t.i, count(*), count(DISTINCT t.person_id) FROM ("
        f"SELECT e.person_id, unnest(ARRAY[{', '.join(tags)}]) AS i FROM tracking_event e"
        f" WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s AND ({' OR '.join(where)})"
        ") t WHERE t.i IS NOT NULL GROUP BY t.i"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, project_id, since, until, *where_params])
        rows = {i: (n, persons) for i, n, persons in cursor.fetchall()}
    return [rows.get(i, (0, 0)) for i in range(len(steps_list))]


def match_summary(
    project_id: int, steps: list[dict], since: datetime, until: datetime, *, limit: int, timeout_ms: int
) -> MatchSummary | None:
    """One statement: the matching rows are collected once, then aggregated three ways.
    None when it ran past `timeout_ms`."""
    condition, params = action_where_sql(steps, alias="e")
    sql = f"""
        WITH m AS MATERIALIZED (
            SELECT e.person_id, e.path, split_part(e.elements_chain, %s, 2) AS target, e.el_text
            FROM tracking_event e
            WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s AND {condition}
        )
        SELECT 'total', NULL, NULL, count(*), count(DISTINCT person_id) FROM m
        UNION ALL
        (SELECT 'element', target, el_text, count(*), NULL FROM m WHERE target <> ''
         GROUP BY target, el_text ORDER BY 4 DESC, 2, 3 LIMIT %s)
        UNION ALL
        (SELECT 'page', path, NULL, count(*), NULL FROM m GROUP BY path ORDER BY 4 DESC, 2 LIMIT %s)
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
            cursor.execute(sql, [chain.RS, project_id, since, until, *params, limit, limit])
            rows = cursor.fetchall()
    except DatabaseError as error:
        if not isinstance(error.__cause__, QueryCanceled):
            raise
        return None
    events = persons = 0
    elements, pages = [], []
    for kind, value, text, count, distinct in rows:
        if kind == "total":
            events, persons = count, distinct
        elif kind == "element":
            elements.append((value, text or "", count))
        else:
            pages.append((value or "", count))
    return MatchSummary(events=events, persons=persons, elements=elements, pages=pages)


def matched_events(project_id: int, steps: list[dict], *, offset: int, limit: int) -> list[StoredEvent]:
    """Matching events, newest first. With an event name in every step this walks
    `event_project_name_ts` backwards."""
    sql, params = action_where_sql(steps, alias="tracking_event")
    queryset = (
        Event.objects.filter(project_id=project_id)
        .filter(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611 - constants; values are params
        .order_by("-timestamp", "-uuid")
        .values_list(*EVENT_COLUMNS)
    )
    return [StoredEvent(*row) for row in queryset[offset : offset + limit]]


def matched_count(project_id: int, steps: list[dict]) -> int:
    sql, params = action_where_sql(steps, alias="tracking_event")
    return (
        Event.objects.filter(project_id=project_id)
        .filter(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611 - constants; values are params
        .count()
    )
