"""The project full of objects that the isolation sweep and the fuzzers point their URLs at."""

from __future__ import annotations

import contextlib

import pytest

from tests.hardening.servers import MigratedPostgres
from tests.hardening.world import build_world
from tests.segments.conftest import on_commit  # noqa: F401 - a fixture `world` needs


@pytest.fixture
def media_root(settings, tmp_path) -> None:
    """Recording chunks written while a test runs go to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(project, alice, send, on_commit, media_root) -> dict:  # noqa: F811 - the fixture imported above
    return build_world(project=project, owner=alice, send=send, on_commit=on_commit)


@pytest.fixture(scope="session")
def migrated_postgres(tmp_path_factory):
    """A PostgreSQL of the fault tests' own (never the test database), migrated once per session."""
    server = MigratedPostgres.create(tmp_path_factory.mktemp("fault-postgres") / "pg")
    yield server
    with contextlib.suppress(Exception):  # a fault test may have left it stopped
        server.pg.stop()
