from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from demo.world.seed import WorldOptions, world_seed
from tests.factories import ProjectFactory


@pytest.mark.django_db
def test_a_small_world_seeds_quickly(capsys):
    project = ProjectFactory()
    options = WorldOptions(persons=500, days=30, seed=2, until=datetime(2026, 11, 29, tzinfo=UTC))

    started = time.monotonic()
    report = world_seed(project=project, options=options)
    elapsed = time.monotonic() - started

    with capsys.disabled():
        print(
            f"\n  demo world: {report.events:,} events, {report.sessions:,} sessions, {report.persons:,} persons"
            f" in {elapsed:.2f} s ({report.events / elapsed:,.0f} events/s, written in the test's transaction)"
        )
    assert report.persons == 500


def test_the_demo_world_and_its_starters_seed_quickly(world, capsys):
    """The package's world is the demo's own (2,000 people, 60 days): what `make run` does first."""
    with capsys.disabled():
        print(
            f"\n  demo world: {world.report.events:,} events in {world.report.seconds:.2f} s,"
            f" starters (segments, metrics, analyses, interventions, exposures) in {world.starters_seconds:.2f} s"
        )
    assert world.report.persons == 2000
