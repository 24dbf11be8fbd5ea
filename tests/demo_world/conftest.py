"""One seeded world shared by this package's tests: the demo's own, generated once, committed, removed after them.

Seeding takes seconds, so the tests that only read it share one project
instead of each seeding its own inside a rolled-back transaction. It is the
world `make run` opens onto (the demo's size and seed, with its starters),
ending at a fixed moment so that every run sees the same rows; whatever reads
the clock (segments, rolling date ranges) runs at `NOW`, an hour after the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from demo.world.seed import SeedReport, WorldOptions, world_seed
from demo.world.starter import DEMO_DAYS, DEMO_PERSONS, DEMO_SEED, starters_create
from tracking.models import Organization, Project

UNTIL = datetime(2026, 11, 29, tzinfo=UTC)
NOW = UNTIL + timedelta(hours=1)
OPTIONS = WorldOptions(persons=DEMO_PERSONS, days=DEMO_DAYS, seed=DEMO_SEED, until=UNTIL)


@dataclass(frozen=True)
class SeededWorld:
    project: Project
    options: WorldOptions
    report: SeedReport
    starters_seconds: float


def at_now():
    """The clock at the world's "now" (flowing from there), for whatever computes relative to today."""
    return time_machine.travel(NOW, tick=True)


# Package scope: the committed rows are gone before any other package's tests run,
# so tests elsewhere that count rows never see them.
@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker) -> SeededWorld:
    import time

    with django_db_blocker.unblock():
        organization = Organization.objects.create(name="Demo world tests")
        project = Project.objects.create(organization=organization, name="Tasklane world")
        try:
            report = world_seed(project=project, options=OPTIONS)
            started = time.monotonic()
            with at_now():
                starters_create(project=project)
            yield SeededWorld(
                project=project, options=OPTIONS, report=report, starters_seconds=time.monotonic() - started
            )
        finally:
            _delete(project)
            organization.delete()


def _delete(project: Project) -> None:
    """The bulk rows first, by project (much faster than the ORM's cascade collecting them)."""
    with connection.cursor() as cursor:
        for table in (
            "interventions_exposure",
            "segments_segmentmembership",
            "tracking_event",
            "tracking_session",
            "tracking_persondistinctid",
            "tracking_persontrait",
            "tracking_companytrait",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE project_id = %s", [project.pk])
        cursor.execute("UPDATE tracking_person SET company_id = NULL WHERE project_id = %s", [project.pk])
        cursor.execute("DELETE FROM tracking_person WHERE project_id = %s", [project.pk])
        cursor.execute("DELETE FROM tracking_company WHERE project_id = %s", [project.pk])
    project.delete()
