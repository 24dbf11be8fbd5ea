from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.db import connection

from demo.world.seed import WorldOptions, world_batches, world_seed
from demo.world.starter import starters_create
from tests.demo_world.conftest import UNTIL, at_now
from tests.factories import ProjectFactory


def _digest(options: WorldOptions) -> tuple[dict[str, int], str]:
    """Counts and a digest of every generated row (database ids are not generated, so not included)."""
    digest = hashlib.sha256()
    counts = {"companies": 0, "persons": 0, "sessions": 0, "events": 0}
    for batch, _ in world_batches(options, batch_events=3000):
        for company in batch.companies:
            digest.update(
                repr((company.key, sorted(company.properties.items()), company.created_at)).encode()
            )
        for person in batch.persons:
            digest.update(
                repr(
                    (person.index, sorted(person.properties.items()), person.first_seen, person.distinct_ids)
                ).encode()
            )
        for session in batch.sessions:
            digest.update(repr(session).encode())
        for event in batch.events:
            digest.update(repr(event).encode())
        counts["companies"] += len(batch.companies)
        counts["persons"] += len(batch.persons)
        counts["sessions"] += len(batch.sessions)
        counts["events"] += len(batch.events)
    return counts, digest.hexdigest()


SMALL = WorldOptions(persons=300, days=30, seed=5, until=UNTIL)


def test_the_same_seed_and_end_generate_the_same_world():
    assert _digest(SMALL) == _digest(WorldOptions(persons=300, days=30, seed=5, until=UNTIL))


def test_another_seed_or_end_generates_another_world():
    _, digest = _digest(SMALL)

    assert _digest(WorldOptions(persons=300, days=30, seed=6, until=UNTIL))[1] != digest
    assert _digest(WorldOptions(persons=300, days=30, seed=5, until=UNTIL + timedelta(days=1)))[1] != digest


def test_batching_does_not_change_the_world():
    whole = [e for batch, _ in world_batches(SMALL, batch_events=10**9) for e in batch.events]
    pieces = [e for batch, _ in world_batches(SMALL, batch_events=500) for e in batch.events]

    assert whole == pieces


def test_the_world_has_exactly_the_persons_asked_for():
    counts, _ = _digest(SMALL)

    assert counts["persons"] == 300


def _stored(project_id: int) -> tuple[list[int], str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM tracking_event WHERE project_id = %s),"
            " (SELECT count(*) FROM tracking_session WHERE project_id = %s),"
            " (SELECT count(*) FROM tracking_person WHERE project_id = %s),"
            " (SELECT count(*) FROM tracking_persondistinctid WHERE project_id = %s),"
            " (SELECT count(*) FROM tracking_company WHERE project_id = %s)",
            [project_id] * 5,
        )
        counts = list(cursor.fetchone())
        # a sample: the 500 first events by uuid, everything but database ids
        cursor.execute(
            "SELECT md5(string_agg(concat_ws('|', uuid, distinct_id, session_key, name, timestamp, received_at, url,"
            " path, el_text, href, elements_chain, properties::text), ',' ORDER BY uuid))"
            " FROM (SELECT * FROM tracking_event WHERE project_id = %s ORDER BY uuid LIMIT 500) e",
            [project_id],
        )
        events = cursor.fetchone()[0]
        cursor.execute(
            "SELECT md5(string_agg(concat_ws('|', p.properties::text, p.first_seen, p.last_seen, p.is_identified,"
            " c.key, (SELECT string_agg(distinct_id, ',' ORDER BY distinct_id) FROM tracking_persondistinctid d"
            "  WHERE d.person_id = p.id)), ',' ORDER BY p.first_seen, p.properties::text))"
            " FROM tracking_person p LEFT JOIN tracking_company c ON c.id = p.company_id WHERE p.project_id = %s",
            [project_id],
        )
        persons = cursor.fetchone()[0]
    return counts, events, persons


def _exposures(project_id: int) -> list[tuple]:
    """Every exposure by person (their user id), intervention (by name or key) and history; ids left out."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT min(d.distinct_id) FROM tracking_persondistinctid d WHERE d.person_id = x.person_id),
                   x.kind, coalesce(n.name, s.key, f.key), x.variant, x.held_out, x.first_at, x.times_shown,
                   x.clicked_at, x.dismissed_at, x.answered_at
            FROM interventions_exposure x
            LEFT JOIN interventions_nudge n ON x.kind = 'nudge' AND n.id = x.object_id
            LEFT JOIN interventions_survey s ON x.kind = 'survey' AND s.id = x.object_id
            LEFT JOIN interventions_featureflag f ON x.kind = 'flag' AND f.id = x.object_id
            WHERE x.project_id = %s ORDER BY 1, 2, 3
            """,
            [project_id],
        )
        return cursor.fetchall()


@pytest.mark.django_db
def test_seeding_twice_with_the_same_options_stores_the_same_rows_and_exposures():
    first, second = ProjectFactory(), ProjectFactory()

    world_seed(project=first, options=SMALL)
    world_seed(project=second, options=SMALL)
    assert _stored(first.pk) == _stored(second.pk)
    assert _stored(first.pk)[0][0] > 5000

    with at_now():  # the segments do not matter here: exposures come from the events alone
        starters_create(project=first, compute=False)
        starters_create(project=second, compute=False)
    exposures = _exposures(first.pk)
    assert exposures == _exposures(second.pk)
    assert {kind for _, kind, *_ in exposures} == {"nudge", "survey", "flag"}
