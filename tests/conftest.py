"""Personas and fixtures shared by every test.

- `alice` owns organization A and its `project`.
- `amos` is a plain member of organization A.
- `bob` owns organization B and its `other_project`; he must never see A's data.
- `admin` is Django staff with no membership anywhere.
"""

from __future__ import annotations

import gzip
import os

import orjson
import pytest
from django.test import Client
from hypothesis import settings as hypothesis_settings

from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, ProjectFactory, UserFactory
from tests.ingest.conftest import UA_CHROME
from tracking.models import Role

# Property tests and fuzzers run the same examples on every run ("ci"), so a test
# run's outcome depends on the code alone. SIGHTLINE_HYPOTHESIS=explore draws
# fresh examples each time, to go looking for new failures.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("SIGHTLINE_HYPOTHESIS", "ci"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "vacuum_after(*tables): the test writes rows in bulk into these tables; they are vacuumed once it has"
        " rolled back",
    )


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """A test's writes roll back, but their pages stay in the tables until a vacuum: a million rolled-back
    persons are 1M dead tuples that every later scan of tracking_person reads, and planned for, since
    ANALYZE's row count is not rolled back. After the test has rolled back, VACUUM clears them."""
    result = yield
    marker = item.get_closest_marker("vacuum_after")
    if marker is not None:
        from django.db import connection
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock(), connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) " + ", ".join(marker.args))
    return result


@pytest.fixture(autouse=True)
def ingest_drains_inline(settings):
    """Ingestion still appends every request to the durable queue first; tests then see it
    stored as the request returns, because the request drains its project's queue right
    after the append. The worker's own path is tested in tests/ingest/test_queue*.py."""
    from tracking.ingest.queue import pressure_forget

    settings.INGEST_DRAIN_INLINE = True
    pressure_forget()


@pytest.fixture(autouse=True)
def jobs_run_inline(settings):
    """Background queries run inside the request that asks for them, so a page or an API call
    has its result as it returns. The workers' own path is tested in tests/jobs/."""
    settings.ANALYSIS_JOBS = "inline"


_CHDB_DIR: str | None = None


def _chdb_settings(tmp_path_factory) -> dict:
    # one chDB directory per test process (an xdist worker is a process), kept for its life
    global _CHDB_DIR
    if _CHDB_DIR is None:
        _CHDB_DIR = str(tmp_path_factory.mktemp("chdb"))
    return {"kind": "chdb", "path": _CHDB_DIR, "database": "sightline"}


@pytest.fixture
def clickhouse(settings, tmp_path_factory):
    """Events in ClickHouse (chDB in this process) for one test; its tables are emptied after.

    PostgreSQL rolls a test's writes back; ClickHouse has no transactions, so
    the tables are truncated instead.
    """
    from tracking.eventstore.clickhouse import client as ch_client
    from tracking.eventstore.clickhouse import schema

    settings.CLICKHOUSE = _chdb_settings(tmp_path_factory)
    schema.migrate(ch_client.client())
    yield ch_client.client()
    schema.truncate(ch_client.client())


@pytest.fixture(params=["postgres", "clickhouse"])
def events_backend(request) -> str:
    """Run the test once with events in PostgreSQL and once in ClickHouse."""
    if request.param == "clickhouse":
        request.getfixturevalue("clickhouse")
    return request.param


@pytest.fixture(params=["product", "ingest lane"])
def ingest_lane(request, settings) -> str:
    """The public endpoints as the product serves them, and as the ingestion lane does (config.settings_ingest:
    its own URLs and middleware, what deploy/Procfile's `ingest` group runs)."""
    if request.param == "ingest lane":
        from config import settings_ingest

        settings.ROOT_URLCONF = settings_ingest.ROOT_URLCONF
        settings.MIDDLEWARE = settings_ingest.MIDDLEWARE
    return request.param


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def organization(db):
    return OrganizationFactory(name="Acme")


@pytest.fixture
def project(organization):
    return ProjectFactory(organization=organization, name="Acme web")


@pytest.fixture
def alice(organization):
    return MembershipFactory(
        organization=organization, user=UserFactory(email="alice@acme.test"), role=Role.OWNER
    ).user


@pytest.fixture
def amos(organization):
    return MembershipFactory(
        organization=organization, user=UserFactory(email="amos@acme.test"), role=Role.MEMBER
    ).user


@pytest.fixture
def other_organization(db):
    return OrganizationFactory(name="Bobco")


@pytest.fixture
def other_project(other_organization):
    return ProjectFactory(organization=other_organization, name="Bobco app")


@pytest.fixture
def bob(other_organization, other_project):
    return MembershipFactory(
        organization=other_organization, user=UserFactory(email="bob@bobco.test"), role=Role.OWNER
    ).user


@pytest.fixture
def admin(db):
    return UserFactory(email="admin@sightline.test", is_staff=True, is_superuser=True)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice, project) -> Client:
    return _client_for(alice)


@pytest.fixture
def amos_client(amos, project) -> Client:
    return _client_for(amos)


@pytest.fixture
def bob_client(bob) -> Client:
    return _client_for(bob)


@pytest.fixture
def staff_client(admin) -> Client:
    return _client_for(admin)


@pytest.fixture
def alice_api_key(alice) -> str:
    from tracking.services.accounts import api_key_create

    return api_key_create(user=alice, label="tests").secret


@pytest.fixture
def bob_api_key(bob) -> str:
    from tracking.services.accounts import api_key_create

    return api_key_create(user=bob, label="tests").secret


@pytest.fixture
def send(client, project):
    """POST a batch for the project; returns the response."""

    def post(
        events,
        *,
        api_key=None,
        gzip_body=False,
        sent_at=None,
        headers=None,
        raw=None,
        content_type="application/json",
    ):
        body = raw
        if body is None:
            payload = {"api_key": api_key or project.public_key, "batch": events}
            if sent_at is not None:
                payload["sent_at"] = sent_at
            body = orjson.dumps(payload)
        extra = {"HTTP_USER_AGENT": UA_CHROME, **(headers or {})}
        if gzip_body:
            body = gzip.compress(body)
            extra["HTTP_CONTENT_ENCODING"] = "gzip"
        return client.post("/i/v1/batch", data=body, content_type=content_type, **extra)

    return post
