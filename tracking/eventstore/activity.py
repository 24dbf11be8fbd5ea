"""Events read for other apps' questions: a recording's session, an intervention's exposures,
a survey's answers.

Recordings, exposures and surveys stay in PostgreSQL on both backends. With
ClickHouse the event part runs there, over the candidate rows PostgreSQL hands
in, and comes back as ids (or rows) that the caller's PostgreSQL statement
finishes with — so the statements that shape a page's numbers are the same on
both backends and give the same results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import QuerySet

from tracking.eventstore import using_clickhouse
from tracking.eventstore.segments import ids_fragment
from tracking.eventstore.stored import StoredEvent


def session_events(
    project_id: int, *, session_key: str, names: Iterable[str], start: datetime, end: datetime, limit: int
) -> list[StoredEvent]:
    """The session's events with these names in [start, end], oldest first (ties by uuid)."""
    if not using_clickhouse():
        from tracking.eventstore.postgres.activity import session_events as found
    else:
        from tracking.eventstore.clickhouse.activity import session_events as found
    return found(project_id, session_key=session_key, names=names, start=start, end=end, limit=limit)


def session_stream(project_id: int, session_key: str) -> list[StoredEvent]:
    """Everything the session's person did in the session, oldest first (ties by uuid): the demo's recordings."""
    if not using_clickhouse():
        from tracking.eventstore.postgres.activity import session_stream as found
    else:
        from tracking.eventstore.clickhouse.activity import session_stream as found
    return found(project_id, session_key)


def sessions_with_action(
    queryset: QuerySet, *, project_id: int, steps: list[dict], slack: timedelta
) -> QuerySet:
    """`queryset` (rows with project_id, session_key, started_at, ended_at: recordings) narrowed
    to those whose session has an event matching `steps` within [started_at - slack, ended_at + slack].

    PostgreSQL: an EXISTS per row, evaluated as the list is read. ClickHouse: the
    candidates' windows go to ClickHouse once and the matching ids come back
    (`pk IN …`); the queryset's other filters have narrowed the candidates already.
    """
    if not using_clickhouse():
        from tracking.eventstore.postgres.activity import sessions_with_action as narrowed

        return narrowed(queryset, steps=steps, slack=slack)
    from tracking.eventstore.clickhouse.activity import sessions_with_action as matching

    candidates = list(queryset.order_by().values_list("pk", "session_key", "started_at", "ended_at"))
    return queryset.filter(pk__in=matching(project_id, candidates, steps=steps, slack=slack))


def conversion_sql(
    project_id: int,
    *,
    exposures_sql: tuple[str, list],
    within: timedelta,
    spec: dict,
    action_steps: Callable[[int], list],
) -> tuple[str, list]:
    """A PostgreSQL predicate over `x.person_id` and `x.first_at` (an exposure): the person did the
    goal event within `within` after `first_at`.

    `spec` is the goal event (`{"name", "where"}` or `{"action": id}`, its steps
    given by `action_steps`). `exposures_sql` selects
    the (person_id, first_at) of every exposure the predicate will test.
    PostgreSQL: one indexed EXISTS per exposure. ClickHouse: the exposures are
    read once, the converted persons found there and tested by id (an exposure
    is unique per person and object).
    """
    if not using_clickhouse():
        from tracking.eventstore.postgres.activity import conversion_sql as exists
        from tracking.eventstore.postgres.segments import event_sql

        return exists(
            project_id,
            person="x.person_id",
            at="x.first_at",
            within=within,
            event_sql=event_sql(spec, action_steps),
        )
    from tracking.eventstore.clickhouse.activity import converted_persons

    with connection.cursor() as cursor:
        cursor.execute(*exposures_sql)
        exposures = [(person, at) for person, at in cursor.fetchall()]
    converted = converted_persons(project_id, exposures, within=within, spec=spec, action_steps=action_steps)
    ids_sql, ids_params = ids_fragment(converted)
    return f"x.person_id IN ({ids_sql})", ids_params


def survey_responses_sql(project_id: int, *, survey_id: int, key: str) -> tuple[str, list]:
    """A PostgreSQL relation `(person_id, timestamp, answers jsonb)`: the survey's responses whose
    `$answers` is an object. ClickHouse: the responses are read there and handed in as arrays."""
    if not using_clickhouse():
        from tracking.eventstore.postgres.activity import survey_responses_sql as responses

        return responses(project_id, survey_id=survey_id, key=key)
    from tracking.eventstore.clickhouse.activity import survey_responses

    rows = survey_responses(project_id, survey_id=survey_id, key=key)
    persons, moments, answers = (list(column) for column in zip(*rows, strict=True)) if rows else ([], [], [])
    return (
        "SELECT r.person_id, r.timestamp, r.answers"
        " FROM unnest(%s::bigint[], %s::timestamptz[], %s::jsonb[]) AS r(person_id, timestamp, answers)",
        [persons, moments, answers],
    )
