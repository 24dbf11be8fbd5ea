"""Operating the ClickHouse event store: configuration, schema, copying a project's events over."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from config.clickhouse import parse_clickhouse_url
from tracking.eventstore.clickhouse.client import Params
from tracking.eventstore.copy import events_copy_to_clickhouse
from tracking.models import Event

ROOT = Path(__file__).resolve().parents[2]


def test_urls_name_their_backend():
    data = Path("/srv/sightline")
    assert parse_clickhouse_url("chdb:///var/lib/events", data) == {
        "kind": "chdb", "path": "/var/lib/events", "database": "sightline",
    }  # fmt: skip
    assert parse_clickhouse_url("chdb://events", data)["path"] == "/srv/sightline/events"
    http = parse_clickhouse_url("https://app:s%40cret@ch.internal/analytics?cluster=main", data)
    assert http == {
        "kind": "http", "host": "ch.internal", "port": 8443, "secure": True, "username": "app",
        "password": "s@cret", "database": "analytics", "cluster": "main",
    }  # fmt: skip
    assert parse_clickhouse_url("http://ch:8123", data)["database"] == "default"


@pytest.mark.parametrize(
    "url",
    [
        "clickhouse://ch:9000/db",
        "ch:8123",
        "http:///db",
        "http://ch:port/db",
        "http://ch/bad-name",
        "chdb://",
    ],
)
def test_a_malformed_url_names_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="CLICKHOUSE_URL"):
        parse_clickhouse_url(url, Path("/srv"))


def test_a_malformed_url_stops_start_up():
    env = {**os.environ, "CLICKHOUSE_URL": "tcp://clickhouse:9000"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "CLICKHOUSE_URL must be an http://, https:// or chdb:// URL" in result.stderr


@pytest.mark.django_db
def test_migrate_is_idempotent(clickhouse):
    out = StringIO()
    call_command("clickhouse_migrate", stdout=out)
    call_command("clickhouse_migrate", stdout=out)
    assert out.getvalue().count("ClickHouse schema is up to date.") == 2
    tables = {row[0] for row in clickhouse.query(f"SHOW TABLES FROM {clickhouse.database}")}
    assert {"events", "person_overrides", "copy_progress"} <= tables


@pytest.mark.django_db
def test_migrate_without_clickhouse_says_so():
    out = StringIO()
    call_command("clickhouse_migrate", stdout=out)
    assert "PostgreSQL" in out.getvalue()


def _event(distinct_id: str, n: int) -> dict:
    return {
        "event": f"e{n}",
        "distinct_id": distinct_id,
        "uuid": str(uuid.uuid4()),
        "properties": {"price": 1.50},
    }


def _clickhouse_count(ch, project_id: int) -> int:
    p = Params()
    return ch.query(
        f"SELECT count() FROM {ch.table('events')} WHERE project_id = {p.add(project_id, 'UInt64')}", p
    )[0][0]


@pytest.mark.django_db
def test_copying_a_project_resumes_and_never_doubles(send, project, request):
    for n in range(7):
        send([_event(f"visitor-{n % 3}", n)])
    assert Event.objects.filter(project=project).count() == 7
    ch = request.getfixturevalue("clickhouse")  # from here on the store is ClickHouse

    class Interrupted(Exception):
        pass

    def stop_after_three(progress) -> None:
        if progress.copied >= 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        events_copy_to_clickhouse(project.pk, block=1, report=stop_after_three)
    assert _clickhouse_count(ch, project.pk) == 3
    done = events_copy_to_clickhouse(project.pk, block=2)
    assert (done.copied, done.total) == (7, 7)
    assert _clickhouse_count(ch, project.pk) == 7
    events_copy_to_clickhouse(project.pk, restart=True)
    assert _clickhouse_count(ch, project.pk) == 7
    p = Params()
    props = ch.query(
        f"SELECT any(properties) FROM {ch.table('events')} WHERE project_id = {p.add(project.pk, 'UInt64')}",
        p,
    )
    assert '"price"' in props[0][0]


@pytest.mark.django_db
def test_copy_command_reports_progress(send, project, request):
    send([_event("v", 1), _event("v", 2)])
    request.getfixturevalue("clickhouse")
    out = StringIO()
    call_command("events_copy_to_clickhouse", project=project.pk, stdout=out)
    assert "2 of 2 events (100%)" in out.getvalue()
    with pytest.raises(CommandError, match="no project"):
        call_command("events_copy_to_clickhouse", project=999_999)
