"""Funnel levels agree between PostgreSQL and ClickHouse on random histories full of ties and repeats."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import connection

from tracking.eventstore.clickhouse.analysis_funnels import levels_relation
from tracking.eventstore.clickhouse.writes import events_insert
from tracking.eventstore.postgres.analysis_funnels import levels_sql
from tracking.eventstore.rows import NewEvent
from tracking.models import Event, Person

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _history(project, seed: int) -> None:
    """The same events in both stores: 20 persons, minutes apart at most, so many share a timestamp."""
    rng = random.Random(seed)
    persons = [Person.objects.create(project=project, first_seen=BASE, last_seen=BASE) for _ in range(20)]
    rows = []
    for person in persons:
        for _ in range(rng.randint(1, 15)):
            name = rng.choice("ABCD")
            plan = rng.choice(["pro", "free"])
            rows.append(
                NewEvent(
                    project_id=project.pk, uuid=uuid.uuid4(), person_id=person.pk, distinct_id=str(person.pk),
                    session_key=f"s{person.pk}-{rng.randint(1, 2)}", name=name,
                    timestamp=BASE + timedelta(minutes=rng.randint(0, 180)), received_at=BASE, url="",
                    path="", el_text="", href="", elements_chain="", properties_json=orjson.dumps({"plan": plan}),
                )
            )  # fmt: skip
    Event.objects.bulk_create(
        Event(
            project_id=r.project_id, uuid=r.uuid, person_id=r.person_id, distinct_id=r.distinct_id,
            session_key=r.session_key, name=r.name, timestamp=r.timestamp, received_at=r.received_at,
            properties=orjson.loads(r.properties_json),
        )
        for r in rows
    )  # fmt: skip
    events_insert(project.pk, rows)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({sql}) x ORDER BY 1", params)
        return cursor.fetchall()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "steps",
    [
        [{"name": "A"}, {"name": "B"}, {"name": "C"}],
        [{"name": "A"}, {"name": "B"}, {"name": "A"}],
        [{"name": "A", "where": [{"property": "plan", "operator": "eq", "value": "pro"}]}, {"name": "A"}],
        [{"action_steps": [{"event": "B"}, {"event": "C"}]}, {"name": "D"}, {"name": "B"}],
    ],
)
def test_funnel_levels_are_the_same_on_both_backends(clickhouse, project, seed, steps):
    _history(project, seed)
    args = dict(
        project_id=project.pk, steps=steps, within=timedelta(minutes=40),
        start=BASE + timedelta(minutes=30), end=BASE + timedelta(minutes=120), with_session=True,
    )  # fmt: skip
    postgres, clickhouse_rows = _rows(*levels_sql(**args)), _rows(*levels_relation(**args))
    assert postgres and [r[:3] for r in postgres] == [r[:3] for r in clickhouse_rows]
    assert any(r[1] > 1 for r in postgres)
