"""Analyses that read the daily rollup on PostgreSQL give what reading every event gives.

Churn, the frequency of any event, the active persons of a value metric and weekly
retention of any event read tracking_personday instead of tracking_event. Their
histories here cross a daylight saving change and midnight often, where a day of
the rollup is 23 or 25 hours long.
"""

from __future__ import annotations

import random
import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from tracking.eventstore.postgres.analysis_metrics import (
    churn_population_sql,
    frequency_population_sql,
    value_population_sql,
)
from tracking.eventstore.postgres.analysis_retention import events_returns_sql, returns_sql
from tracking.ingest.rollup import person_days_rebuild
from tracking.models import Event, Person

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
FIRST = datetime(2026, 10, 1, tzinfo=BERLIN)  # daylight saving time ends on 25 October
START = datetime(2026, 10, 12, tzinfo=BERLIN)
END = datetime(2026, 11, 9, tzinfo=BERLIN)
NOW = datetime(2026, 12, 20, tzinfo=UTC)


def _history(project, seed: int) -> None:
    rng = random.Random(seed)
    project.timezone = "Europe/Berlin"
    project.save()
    events = []
    for _ in range(25):
        first_seen = FIRST + timedelta(days=rng.uniform(0, 40), minutes=rng.randint(0, 1439))
        person = Person.objects.create(project=project, first_seen=first_seen, last_seen=first_seen)
        moment = first_seen
        for _ in range(rng.randint(1, 30)):
            # many events around midnight and a few weeks apart at most
            moment += rng.choice([timedelta(minutes=rng.randint(0, 90)), timedelta(hours=rng.randint(1, 30)),
                                  timedelta(days=rng.randint(1, 12), hours=rng.randint(-2, 2))])  # fmt: skip
            name = rng.choice(["$pageview", "$pageview", "purchase"])
            amount = rng.choice([rng.randint(1, 90), "12.5", None])
            events.append(
                Event(
                    project_id=project.pk, uuid=uuid.uuid4(), person_id=person.pk, distinct_id=str(person.pk),
                    session_key="s", name=name, timestamp=moment, received_at=moment,
                    properties={} if amount is None else {"amount": amount},
                )
            )  # fmt: skip
    Event.objects.bulk_create(events)
    person_days_rebuild(project.pk)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) x ORDER BY 1, 2", params)
        return cursor.fetchall()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_weekly_returns_from_the_rollup_are_those_of_the_events(project, seed):
    _history(project, seed)
    cohort = "WITH cohort AS (SELECT id AS person_id, first_seen FROM tracking_person WHERE project_id = %s) "
    week = timedelta(weeks=1)
    rollup, rollup_params = returns_sql(project_id=project.pk, step=None, period=week, periods=8)
    events, events_params = events_returns_sql(project_id=project.pk, step=None, period=week, periods=8)
    assert "tracking_personday" in rollup

    expected = _rows(cohort + events, [project.pk, *events_params])
    assert expected
    assert _rows(cohort + rollup, [project.pk, *rollup_params]) == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_churn_from_the_rollup_is_that_of_the_events(project, seed):
    _history(project, seed)
    quiet = timedelta(days=7)
    # every event read, as before the rollup
    expected = _rows(
        "SELECT l.person_id, (NOT EXISTS (SELECT 1 FROM tracking_event e WHERE e.project_id = %s"
        " AND e.person_id = l.person_id AND e.timestamp > l.last_at AND e.timestamp <= l.last_at + %s))::int,"
        " l.last_at + %s <= %s FROM (SELECT e.person_id, max(e.timestamp) AS last_at FROM tracking_event e"
        " WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s GROUP BY e.person_id) l",
        [project.pk, quiet, quiet, NOW, project.pk, START, END],
    )
    sql, params = churn_population_sql(project_id=project.pk, start=START, end=END, quiet=quiet, now=NOW)

    assert {y for _, y, _ in expected} == {0, 1}
    assert _rows(sql, params) == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_frequency_and_active_values_from_the_rollup_are_those_of_the_events(project, seed):
    _history(project, seed)
    frequency = _rows(
        "SELECT d.person_id, sum(d.matching)::numeric / count(*), true FROM (SELECT e.person_id,"
        " (e.timestamp AT TIME ZONE %s)::date AS day, count(*) AS matching FROM tracking_event e"
        " WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s GROUP BY 1, 2) d GROUP BY d.person_id",
        ["Europe/Berlin", project.pk, START, END],
    )
    values = _rows(
        "SELECT e.person_id, coalesce(sum(sl_numeric(e.properties -> 'amount')) FILTER (WHERE e.name = 'purchase'),"
        " 0), true FROM tracking_event e WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s"
        " GROUP BY e.person_id",
        [project.pk, START, END],
    )
    sql, params = frequency_population_sql(
        project_id=project.pk, step=None, start=START, end=END, zone="Europe/Berlin"
    )
    assert _rows(sql, params) == frequency
    sql, params = value_population_sql(
        project_id=project.pk, step={"name": "purchase"}, prop="amount", start=START, end=END,
        aggregate="sum", per="active",
    )  # fmt: skip
    assert any(y for _, y, _ in values)
    assert _rows(sql, params) == values
