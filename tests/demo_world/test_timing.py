from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.factories import ProjectFactory
from tracking.demo_world.seed import WorldOptions, world_seed


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
