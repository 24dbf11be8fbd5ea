"""The per-name daily rollup (tracking.PersonEventDay) on PostgreSQL: kept exactly equal to the
events through ingestion, merges, erasure, retention and a time-zone change; and counting
conditions that read it answer as counting the events does, whatever the window."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate

from tests.ingest.conftest import event
from tracking.eventstore.postgres.segments import count_persons
from tracking.ingest.rollup import person_days_rebuild
from tracking.models import Event, PersonDistinctId, PersonEventDay
from tracking.services.retention import project_data_expire

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# The test's clock: the 40 days of history before it span Berlin's autumn DST change (2026-10-25),
# so windows and days around it have 23- and 25-hour days in them.
NOW = datetime(2026, 11, 10, 11, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=True):
        yield


def _from_events(project) -> set[tuple]:
    zone = zoneinfo.ZoneInfo(project.timezone)
    rows = (
        Event.objects.filter(project=project)
        .annotate(day=TruncDate("timestamp", tzinfo=zone))
        .values("person_id", "day", "name")
        .annotate(n=Count("*"))
    )
    return {(r["person_id"], r["day"], r["name"], r["n"]) for r in rows}


def _rollup(project) -> set[tuple]:
    return set(
        PersonEventDay.objects.filter(project=project).values_list("person_id", "day", "name", "events")
    )


def _local(days_ago: int, hour: int, minute: int = 0) -> datetime:
    """A moment `days_ago` local days before today, at hour:minute Berlin time."""
    today = NOW.astimezone(BERLIN).date()
    return datetime(
        *(today - timedelta(days=days_ago)).timetuple()[:3], hour, minute, tzinfo=BERLIN
    ).astimezone(UTC)


@pytest.fixture
def berlin(project):
    project.timezone = "Europe/Berlin"
    project.save()
    return project


def _history(send) -> None:
    """Three people over 40 local days: page views and clicks around midnight and twice at noon, a purchase."""
    batch = []
    for days_ago in range(0, 40, 3):
        for who, hour, minute in (
            ("ann", 23, 59),
            ("ann", 0, 1),
            ("bob", 12, 0),
            ("bob", 12, 30),
            ("cy", 0, 0),
        ):
            moment = _local(days_ago, hour, minute)
            if moment > NOW:
                continue
            batch.append(event("$pageview", who, timestamp=moment.isoformat()))
            if who != "cy":
                batch.append(event("$autocapture", who, timestamp=moment.isoformat()))
    batch.append(event("purchase", "bob", timestamp=_local(5, 10).isoformat(), amount=20))
    offsets = {
        moment.utcoffset() for moment in (_local(days_ago, 12).astimezone(BERLIN) for days_ago in (0, 39))
    }
    assert len(offsets) == 2  # summer and winter time both in the history
    for start in range(0, len(batch), 50):
        assert send(batch[start : start + 50]).status_code == 200


def test_ingestion_keeps_the_per_name_days_equal_to_the_events(send, berlin):
    _history(send)
    assert _rollup(berlin) == _from_events(berlin)
    assert any(row[2] == "purchase" for row in _rollup(berlin))


def test_a_merge_moves_the_days_and_sums_the_shared_ones(send, berlin):
    _history(send)
    send([event("$identify", "ann", **{"$anon_distinct_id": "bob"})])  # bob's history joins ann's
    assert PersonDistinctId.objects.get(distinct_id="bob").person_id == (
        PersonDistinctId.objects.get(distinct_id="ann").person_id
    )
    assert _rollup(berlin) == _from_events(berlin)


def test_erasure_drops_the_persons_days(send, berlin, alice_client):
    _history(send)
    person = PersonDistinctId.objects.get(distinct_id="cy").person_id
    response = alice_client.delete(f"/api/v1/projects/{berlin.pk}/persons/{person}/")
    assert response.status_code == 204
    assert not PersonEventDay.objects.filter(person_id=person).exists()
    assert _rollup(berlin) == _from_events(berlin)


def test_retention_drops_whole_days_and_recounts_the_day_it_cuts(send, berlin):
    _history(send)
    berlin.data_retention_days = 30
    berlin.save()
    cut = NOW - timedelta(days=30)
    # an event on each side of the cutoff, on the day it falls in
    send([event("$pageview", "dee", timestamp=(cut - timedelta(minutes=1)).isoformat())])
    send([event("$pageview", "dee", timestamp=(cut + timedelta(minutes=1)).isoformat())])
    assert project_data_expire(project=berlin) > 0
    assert _rollup(berlin) == _from_events(berlin)
    assert min(day for _, day, _, _ in _rollup(berlin)) == cut.astimezone(BERLIN).date()


def test_a_time_zone_change_rebuilds_the_days(send, berlin):
    _history(send)
    berlin.timezone = "America/Sao_Paulo"
    berlin.save()
    person_days_rebuild(berlin.pk)
    assert _rollup(berlin) == _from_events(berlin)


def _persons(fragment: tuple[str, list]) -> set[int]:
    sql, params = fragment
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


WINDOWS = [
    # (since, until): whole days, partial days at either end, a window inside one day, open ends
    (lambda: _local(30, 0), lambda: None),
    (lambda: NOW - timedelta(days=30), lambda: None),
    (lambda: NOW - timedelta(days=7), lambda: NOW - timedelta(days=1, hours=5)),
    (lambda: _local(12, 0), lambda: _local(3, 0)),
    (lambda: _local(12, 0, 1), lambda: _local(3, 0, 1)),
    (lambda: _local(9, 23, 58), lambda: _local(8, 0, 2)),
    (lambda: _local(6, 1), lambda: _local(6, 23)),
    (lambda: None, lambda: _local(20, 12)),
    (lambda: None, lambda: None),
]


@pytest.mark.parametrize("window", range(len(WINDOWS)))
@pytest.mark.parametrize(("operator", "value"), [("gte", 1), ("gte", 3), ("eq", 2), ("lt", 4)])
def test_counting_from_the_days_answers_as_counting_the_events(send, berlin, window, operator, value):
    _history(send)
    since, until = (bound() for bound in WINDOWS[window])
    common = {
        "since": since,
        "until": until,
        "operator": operator,
        "value": value,
        "person_ids": None,
        "action_steps": lambda pk: [],
    }
    for name in ("$pageview", "$autocapture", "purchase", "never_sent"):
        from_days = count_persons(berlin.pk, {"name": name}, **common, zone=BERLIN)
        from_events = count_persons(berlin.pk, {"name": name}, **common)
        assert "tracking_personeventday" not in from_events[0]
        assert _persons(from_days) == _persons(from_events), (name, since, until)


def test_a_window_with_a_whole_day_reads_the_rollup_and_one_without_does_not(berlin):
    common = {
        "operator": "gte",
        "value": 1,
        "person_ids": None,
        "action_steps": lambda pk: [],
        "zone": BERLIN,
    }
    sql, _ = count_persons(
        berlin.pk, {"name": "$pageview"}, since=NOW - timedelta(days=30), until=None, **common
    )
    assert "tracking_personeventday" in sql
    sql, _ = count_persons(
        berlin.pk, {"name": "$pageview"}, since=_local(6, 1), until=_local(6, 23), **common
    )
    assert "tracking_personeventday" not in sql
    # a property filter or a refresh of a few persons reads the events
    filtered = {"name": "$pageview", "where": [{"property": "$pathname", "operator": "eq", "value": "/"}]}
    sql, _ = count_persons(berlin.pk, filtered, since=NOW - timedelta(days=30), until=None, **common)
    assert "tracking_personeventday" not in sql
    refresh = {**common, "person_ids": [1, 2]}
    sql, _ = count_persons(
        berlin.pk, {"name": "$pageview"}, since=NOW - timedelta(days=30), until=None, **refresh
    )
    assert "tracking_personeventday" not in sql


def test_a_segment_counting_page_views_reads_the_rollup_and_matches_live_refresh(send, berlin):
    from segments.compiler import compile_definition
    from segments.definition import validate_definition

    _history(send)
    definition = validate_definition(
        {"match": "all", "conditions": [
            {"type": "behavior", "event": {"name": "$pageview"}, "count": {"operator": "gte", "value": 4},
             "window": {"last_days": 14}},
        ]},
        project_id=berlin.pk,
    )  # fmt: skip
    full = compile_definition(definition, project=berlin, now=NOW)
    assert "tracking_personeventday" in full.sql
    everyone = list(PersonDistinctId.objects.filter(project=berlin).values_list("person_id", flat=True))
    scoped = compile_definition(definition, project=berlin, now=NOW, person_ids=everyone)
    assert "tracking_personeventday" not in scoped.sql
    members = _persons((full.sql, full.params))
    assert members == _persons((scoped.sql, scoped.params))
    # every third day: ann twice around midnight, bob at noon, cy at midnight; 4 or 5 days of the last 14
    assert len(members) == 3


@pytest.mark.parametrize("window", range(len(WINDOWS)))
@pytest.mark.parametrize("measure", ["count", "active_days"])
def test_rank_scores_from_the_days_equal_the_scores_from_the_events(
    send, berlin, window, measure, monkeypatch
):
    from tracking.eventstore.postgres import segments as fragments

    _history(send)
    since, until = (bound() for bound in WINDOWS[window])
    common = {"measure": measure, "prop": None, "zone": berlin.timezone, "since": since, "until": until}
    common["action_steps"] = lambda pk: []

    def scores() -> tuple[dict, str]:
        sql, params = fragments.person_scores(berlin.pk, {"name": "$pageview"}, **common)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return dict(cursor.fetchall()), sql

    from_days, sql = scores()
    monkeypatch.setattr(fragments, "_whole_days", lambda *args: None)
    from_events, events_sql = scores()
    assert "tracking_personeventday" not in events_sql
    assert from_days == from_events, (since, until)
    # the windows inside a day or two (no whole day between their ends) read the events alone
    assert ("tracking_personeventday" in sql) == (window not in (5, 6))
    assert from_days  # every window holds someone's page views
