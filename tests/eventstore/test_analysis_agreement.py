"""Funnel levels and their counts agree between PostgreSQL and ClickHouse on random histories full of ties and repeats;
retention counted in NumPy agrees with its SQL twin."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import connection

from tracking.eventstore.clickhouse.analysis_funnels import counts_relation, levels_relation
from tracking.eventstore.clickhouse.writes import events_insert
from tracking.eventstore.postgres.analysis_funnels import counts_relation as funnel_counts_pg
from tracking.eventstore.postgres.analysis_funnels import levels_sql
from tracking.eventstore.postgres.analysis_retention import counts_relation as counts_relation_pg
from tracking.eventstore.postgres.analysis_retention import counts_sql as retention_counts_sql
from tracking.eventstore.rows import NewEvent
from tracking.models import Event, Person, PersonDay

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


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("grouped", [False, True])
def test_funnel_counts_are_the_same_on_both_backends(clickhouse, project, seed, grouped):
    _history(project, seed)
    ids = sorted(Person.objects.filter(project=project).values_list("pk", flat=True))
    # group 7: every other person; group 9: the first eight, so some persons are in both and some in
    # neither; group 11: a person who never entered (no row for that group)
    outsider = Person.objects.create(project=project, first_seen=BASE, last_seen=BASE).pk
    members = [(7, i) for i in ids[::2]] + [(9, i) for i in ids[:8]] + [(11, outsider)]
    groups = (
        "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS g(group_id, person_id)",
        [[g for g, _ in members], [i for _, i in members]],
    )
    steps = [{"name": "A"}, {"name": "B"}, {"name": "C"}]
    args = dict(
        project_id=project.pk, steps=steps, within=timedelta(minutes=40),
        start=BASE + timedelta(minutes=30), end=BASE + timedelta(minutes=120),
        groups=groups if grouped else None, samples=3,
    )  # fmt: skip
    postgres, clickhouse_rows = _rows(*funnel_counts_pg(**args)), _rows(*counts_relation(**args))
    levels = dict(
        (r[0], r[1])
        for r in _rows(*levels_sql(**{k: v for k, v in args.items() if k not in ("groups", "samples")}))
    )
    expected_groups = [7, 9, None] if grouped else [None]
    assert [r[0] for r in postgres] == [r[0] for r in clickhouse_rows] == expected_groups
    for pg_row, ch_row in zip(postgres, clickhouse_rows, strict=True):
        group = pg_row[0]
        entrants = [i for i in levels if group is None or (group, i) in members]
        # the counts: entrants reaching each step, worked out here from the levels
        expected = [sum(1 for i in entrants if levels[i] >= k) for k in (1, 2, 3)]
        assert list(pg_row[1:4]) == list(ch_row[1:4]) == expected
        assert expected[0] > 0
        # the samples: any `samples` ids of the entrants who stopped at step k, on each backend
        for k, (pg_ids, ch_ids) in enumerate(zip(pg_row[4:], ch_row[4:], strict=True), start=1):
            stopped = {i for i in entrants if levels[i] == k}
            assert len(pg_ids or []) == len(ch_ids or []) == min(3, len(stopped))
            assert set(pg_ids or []) <= stopped and set(ch_ids or []) <= stopped


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_retention_counted_in_numpy_from_the_rollup_equals_the_statement(project, seed):
    """PostgreSQL's rollup retention (counts_relation) and its SQL twin (counts_sql) give the same rows."""
    rng = random.Random(seed)
    members = []
    for _ in range(40):
        first = BASE + timedelta(hours=rng.randint(0, 24 * 20), microseconds=rng.randint(0, 10**6 - 1))
        person = Person.objects.create(project=project, first_seen=first, last_seen=first)
        members.append(person.pk)
        day = first.date()
        for _ in range(rng.randint(0, 12)):
            day += timedelta(days=rng.randint(0, 6))
            # a day's moments: its first and last event, at most a day apart; some before the first moment
            start = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(
                seconds=rng.randint(0, 86_399)
            )
            if rng.random() < 0.2:
                start = first - timedelta(seconds=rng.randint(0, 3600))
            last = min(
                start + timedelta(seconds=rng.randint(0, 86_399)),
                datetime.combine(day, datetime.max.time(), tzinfo=UTC),
            )
            PersonDay.objects.update_or_create(
                project=project, person_id=person.pk, day=start.date(),
                defaults=dict(events=2, first_at=start, last_at=max(last, start)),
            )  # fmt: skip
    cohort = (
        "SELECT p.id AS person_id, p.first_seen, date_trunc('week', p.first_seen)::date AS cohort"
        " FROM tracking_person p WHERE p.project_id = %s AND p.first_seen < %s",
        [project.pk, BASE + timedelta(days=15)],
    )
    groups = (
        "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS g(group_id, person_id)",
        [[5] * 15 + [8] * 10, members[:15] + members[20:30]],
    )
    args = dict(
        project_id=project.pk, cohort=cohort, groups=groups, step=None, period=timedelta(days=7), periods=4
    )
    numpy_rows = sorted(_rows(*counts_relation_pg(**args)))
    assert numpy_rows == sorted(_rows(*retention_counts_sql(**args)))
    assert any(r[2] >= 1 for r in numpy_rows) and {r[1] for r in numpy_rows} == {0, 5, 8}
