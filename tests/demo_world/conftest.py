"""One seeded world shared by this package's tests: generated once, committed, removed after them.

Seeding takes seconds, so the tests that only read it share one project
instead of each seeding its own inside a rolled-back transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.db import connection

from tracking.demo_world.seed import SeedReport, WorldOptions, world_seed
from tracking.models import Organization, Project

UNTIL = datetime(2026, 11, 29, tzinfo=UTC)
OPTIONS = WorldOptions(persons=1200, days=45, seed=11, until=UNTIL)


@dataclass(frozen=True)
class SeededWorld:
    project: Project
    options: WorldOptions
    report: SeedReport


# Package scope: the committed rows are gone before any other package's tests run,
# so tests elsewhere that count rows never see them.
@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker) -> SeededWorld:
    with django_db_blocker.unblock():
        organization = Organization.objects.create(name="Demo world tests")
        project = Project.objects.create(organization=organization, name="Tasklane world")
        try:
            report = world_seed(project=project, options=OPTIONS, background=False)
            yield SeededWorld(project=project, options=OPTIONS, report=report)
        finally:
            _delete(project)
            organization.delete()


def _delete(project: Project) -> None:
    """The bulk rows first, by project (much faster than the ORM's cascade collecting them)."""
    with connection.cursor() as cursor:
        for table in ("tracking_event", "tracking_session", "tracking_persondistinctid"):
            cursor.execute(f"DELETE FROM {table} WHERE project_id = %s", [project.pk])  # noqa: S608 - constant names
        cursor.execute("UPDATE tracking_person SET company_id = NULL WHERE project_id = %s", [project.pk])
        cursor.execute("DELETE FROM tracking_person WHERE project_id = %s", [project.pk])
        cursor.execute("DELETE FROM tracking_company WHERE project_id = %s", [project.pk])
    project.delete()
