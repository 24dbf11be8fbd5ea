"""The same demo world in each event store gives the same answers, exactly.

The demo's world (its size, seed and starters, ending at a fixed moment) is
seeded twice: once with events in PostgreSQL, once in ClickHouse. Person and
segment ids differ between the two projects, so results are compared by what
they mean: persons by their distinct ids, segments by name. Sampled person ids
(a funnel's "who dropped here" links) are a sample on both backends, so only
their number is compared.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings

from demo.world.seed import world_seed
from demo.world.starter import starters_create
from segments.compiler import compile_segment
from segments.models import Segment
from tests.demo_world.conftest import NOW, OPTIONS, at_now
from tracking.models import Organization, PersonDistinctId, Project

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Seeded:
    project: Project
    clickhouse: dict | None  # the CLICKHOUSE setting its events live under

    @contextmanager
    def active(self):
        with override_settings(CLICKHOUSE=self.clickhouse):
            yield


def _seed(name: str, clickhouse: dict | None) -> Seeded:
    organization = Organization.objects.create(name=f"Differential {name}")
    project = Project.objects.create(organization=organization, name=name)
    seeded = Seeded(project, clickhouse)
    # Without membership history: nothing here reads it, and rebuilding it for every starter
    # took most of this module's minute. tests/segments/test_history.py compares the backends'
    # histories.
    with seeded.active(), override_settings(SEGMENT_HISTORY_DAYS=0):
        world_seed(project=project, options=OPTIONS)
        with at_now():
            starters_create(project=project)
    return seeded


def _delete(seeded: Seeded) -> None:
    project = seeded.project
    with seeded.active(), connection.cursor() as cursor:
        for table in ("interventions_exposure", "segments_segmentmembership", "tracking_session",
                      "tracking_persondistinctid", "tracking_personday", "tracking_persontrait",
                      "tracking_companytrait"):  # fmt: skip
            cursor.execute(f"DELETE FROM {table} WHERE project_id = %s", [project.pk])
        cursor.execute("UPDATE tracking_person SET company_id = NULL WHERE project_id = %s", [project.pk])
        cursor.execute("DELETE FROM tracking_person WHERE project_id = %s", [project.pk])
        cursor.execute("DELETE FROM tracking_company WHERE project_id = %s", [project.pk])
        organization = project.organization
        project.delete()  # its events go with it, from whichever store holds them
        organization.delete()


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker, tmp_path_factory):
    from tests.conftest import _chdb_settings
    from tracking.eventstore.clickhouse import schema
    from tracking.eventstore.clickhouse.client import client

    clickhouse = _chdb_settings(tmp_path_factory)
    with django_db_blocker.unblock():
        with override_settings(CLICKHOUSE=clickhouse):
            schema.migrate(client())
            schema.truncate(client())
        on_postgres = _seed("On PostgreSQL", None)
        on_clickhouse = _seed("On ClickHouse", clickhouse)
        try:
            yield on_postgres, on_clickhouse
        finally:
            _delete(on_postgres)
            _delete(on_clickhouse)
            with override_settings(CLICKHOUSE=clickhouse):
                schema.truncate(client())


def _distinct_ids(project: Project) -> dict[int, str]:
    """person id -> the smallest of their distinct ids: the same person in both worlds."""
    mapping: dict[int, str] = {}
    for person_id, distinct_id in PersonDistinctId.objects.filter(project=project).values_list(
        "person_id", "distinct_id"
    ):
        if person_id not in mapping or distinct_id < mapping[person_id]:
            mapping[person_id] = distinct_id
    return mapping


def _members(seeded: Seeded) -> dict[str, set[str]]:
    people = _distinct_ids(seeded.project)
    result = {}
    with seeded.active():
        for segment in Segment.objects.filter(project=seeded.project, kind="dynamic").order_by("name"):
            query = compile_segment(segment, now=NOW)
            with connection.cursor() as cursor:
                cursor.execute(query.sql, query.params)
                result[segment.name] = {people[row[0]] for row in cursor.fetchall()}
    return result


def test_every_starter_segment_has_the_same_members(worlds):
    on_postgres, on_clickhouse = worlds
    expected, got = _members(on_postgres), _members(on_clickhouse)
    assert set(got) == set(expected) and len(expected) >= 10
    differing = {
        name: (len(expected[name]), len(got[name])) for name in expected if expected[name] != got[name]
    }
    assert not differing, f"members differ (postgres, clickhouse): {differing}"
    assert sum(len(m) for m in expected.values()) > 0


PRICING = {
    "name": "$pageview",
    "where": [{"property": "$current_url", "operator": "contains", "value": "/pricing"}],
}
METRICS = {
    "conversion": {"from": PRICING, "to": {"name": "purchase"}, "within": {"value": 3, "unit": "days"}},
    "activation": {"event": {"name": "created_task"}, "within_days": 7},
    "retention": {"period": "week", "n": 1},
    "churn": {"days": 7},
    "value": {"event": {"name": "purchase"}, "property": "amount", "aggregate": "avg", "per": "performer"},
    "frequency": {"event": {"name": "created_task"}},
}


def _tree(nodes) -> list:
    return [(node.display, node.count, _tree(node.children)) for node in nodes]


def _analyses(seeded: Seeded) -> dict:
    from analysis.compare import metric_compute
    from analysis.funnels import funnel_compute, funnel_params
    from analysis.metrics import validate_metric
    from analysis.params import DateRange
    from analysis.paths import paths_compute, paths_params
    from analysis.retention import retention_compute, retention_params
    from demo.site import ROOT

    project = seeded.project
    out: dict = {}
    with seeded.active(), at_now():
        steps = [PRICING, {"name": "signed_up"}, {"name": "created_task"}, {"name": "purchase"}]
        funnel = funnel_compute(
            project=project,
            query=funnel_params(
                {"steps": steps, "last_days": 30, "breakdown": {"type": "browser"}}, project=project
            ),
        )
        out["funnel"] = [(row.label, [s.count for s in row.steps]) for row in [funnel.overall, *funnel.rows]]
        segment_ids = list(
            Segment.objects.filter(project=project).order_by("name").values_list("pk", flat=True)[:8]
        )
        for name, breakdown in (
            (" overall", None),
            (" by segment", {"type": "segment", "segments": segment_ids}),
        ):
            funnel = funnel_compute(
                project=project,
                query=funnel_params(
                    {"steps": steps, "last_days": 30, **({"breakdown": breakdown} if breakdown else {})},
                    project=project,
                ),
            )
            out[f"funnel{name}"] = [
                (row.label, [(s.count, len(s.dropped_ids)) for s in row.steps])
                for row in [funnel.overall, *funnel.rows]
            ]
        for name, segments in (("", []), (" by segment", segment_ids)):
            retention = retention_compute(
                project=project,
                query=retention_params(
                    {"last_days": 42, "periods": 4, "segments": segments}, project=project
                ),
                now=NOW,
            )
            out[f"retention table{name}"] = [
                (r.cohort, r.group, r.size, [c.count for c in r.cells]) for r in retention.rows
            ]
        for direction in ("next", "previous"):
            query = paths_params(
                {
                    "last_days": 30,
                    "start": {"path": f"{ROOT}pricing/"},
                    "direction": direction,
                    "steps": "events",
                    "segments": segment_ids,
                },
                project=project,
            )
            groups = paths_compute(project=project, query=query).groups
            out[f"paths {direction}"] = _tree(groups[0].children)
            out[f"paths {direction} by segment"] = [
                (g.label, g.persons, _tree(g.children)) for g in groups[1:]
            ]
        days = DateRange(NOW.date() - timedelta(days=28), NOW.date() - timedelta(days=14))
        for kind, definition in METRICS.items():
            spec = validate_metric(kind=kind, definition=definition, project=project)
            result = metric_compute(project=project, spec=spec, date_range=days, now=NOW).overall
            out[kind] = (result.n, result.successes, result.value)
    return out


def test_funnels_retention_paths_and_metrics_give_the_same_results(worlds):
    on_postgres, on_clickhouse = worlds
    expected, got = _analyses(on_postgres), _analyses(on_clickhouse)
    assert expected["funnel"][0][1][0] > 0 and expected["paths next"]
    # segments with entrants and returning members, so the counts per group are put to the test
    assert any(row[1][0][0] for row in expected["funnel by segment"][1:])
    assert any(sum(row[3]) for row in expected["retention table by segment"] if row[1] != "Everyone")
    assert any(group[2] for group in expected["paths next by segment"])
    assert {k: v for k, v in got.items() if v != expected[k]} == {}, expected


_PERSON_KEYS = ("ids", "sample", "persons", "person_ids", "dropped_ids")


def _comparable(value, segments: dict[int, str]):
    """A result's JSON with segment ids as names and person samples as their sizes."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            # the parameters (this project's ids) and the clock, not results
            if key in ("query", "computed_at"):
                continue
            if key.endswith(_PERSON_KEYS) and isinstance(item, list):
                out[key] = len(item)
            elif key in ("segment", "segment_id") and isinstance(item, int):
                out[key] = segments.get(item, item)
            else:
                out[key] = _comparable(item, segments)
        return out
    if isinstance(value, list):
        return [_comparable(item, segments) for item in value]
    return value


def _dashboard(seeded: Seeded) -> dict:
    from analysis.kinds import analysis_run
    from analysis.models import SavedAnalysis

    project = seeded.project
    segments = dict(Segment.objects.filter(project=project).values_list("pk", "name"))
    cards = {}
    with seeded.active(), at_now():
        for saved in SavedAnalysis.objects.filter(project=project).order_by("name"):
            result = analysis_run(project=project, kind=saved.kind, params=saved.params)
            text = str(_comparable(result.to_json(), segments))
            for pk, name in segments.items():  # ids inside labels and parameters
                text = text.replace(f"'{pk}'", f"'{name}'")
            cards[saved.name] = text
    return cards


def test_every_dashboard_card_gives_the_same_result(worlds):
    on_postgres, on_clickhouse = worlds
    expected, got = _dashboard(on_postgres), _dashboard(on_clickhouse)
    assert len(expected) == 4 and set(got) == set(expected)
    differing = {name for name, card in got.items() if card != expected[name]}
    assert not differing, "\n\n".join(
        f"{name}\npostgres:   {expected[name]}\nclickhouse: {got[name]}" for name in differing
    )
