"""The REST API: metrics and saved analyses CRUD, the four analyses, 400s naming the field, 404s across projects."""

from __future__ import annotations

import pytest
from django.db import connection

from analysis import reads
from analysis.models import Metric, SavedAnalysis
from tests.analysis.conftest import act, at, page
from tracking.eventstore.columns import read_columns

pytestmark = pytest.mark.django_db


def api(project, path: str) -> str:
    return f"/api/v1/projects/{project.pk}/{path}"


@pytest.fixture
def shop(collect, segment_of):
    events = []
    for i in range(8):
        events += [page(f"s{i}", "/pricing", at(4, 9)), page(f"s{i}", "/cart", at(4, 9, 2))]
        if i < 5:
            events.append(act("purchase", f"s{i}", at(4, 9, 5), amount=10 * (i + 1)))
    collect(events)
    return {
        "buyers": segment_of("Early", [f"s{i}" for i in range(4)]),
        "late": segment_of("Late", [f"s{i}" for i in range(4, 8)]),
    }


METRIC = {"name": "Bought", "kind": "conversion",
          "definition": {"from": {"name": "$pageview"}, "to": {"name": "purchase"}, "within": {"value": 1, "unit": "days"}}}  # fmt: skip
RANGE = {"date_from": "2026-06-01", "date_to": "2026-06-14"}


def test_metrics_crud(project, alice, alice_client):
    created = alice_client.post(api(project, "metrics/"), METRIC, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["definition"]["to"] == {"name": "purchase", "where": []}
    assert body["created_by"] == alice.email
    metric_id = body["id"]
    listed = alice_client.get(api(project, "metrics/")).json()
    assert [m["id"] for m in listed["results"]] == [metric_id]
    changed = alice_client.patch(
        api(project, f"metrics/{metric_id}/"),
        {"kind": "churn", "definition": {"days": 10}},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["definition"] == {"days": 10}
    assert alice_client.delete(api(project, f"metrics/{metric_id}/")).status_code == 204
    assert not Metric.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**METRIC, "definition": {**METRIC["definition"], "to": {"name": ""}}}, "definition.to.name"),
        (
            {**METRIC, "definition": {**METRIC["definition"], "within": {"value": 3, "unit": "weeks"}}},
            "definition.within.unit",
        ),
        ({**METRIC, "kind": "median"}, "kind"),
        ({**METRIC, "name": ""}, "name"),
    ],
)
def test_a_bad_metric_is_answered_400_naming_the_field(project, alice_client, body, field):
    response = alice_client.post(api(project, "metrics/"), body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Metric.objects.exists()


def test_metric_names_are_unique_per_project(project, alice_client):
    assert (
        alice_client.post(api(project, "metrics/"), METRIC, content_type="application/json").status_code
        == 201
    )
    again = alice_client.post(api(project, "metrics/"), METRIC, content_type="application/json")
    assert again.status_code == 400 and "name" in again.json()


def test_compare_answers_groups_with_intervals_and_tests(shop, project, alice_client):
    metric = alice_client.post(api(project, "metrics/"), METRIC, content_type="application/json").json()
    response = alice_client.post(
        api(project, "analysis/compare/"),
        {"metric": metric["id"], "segments": [shop["buyers"].pk, shop["late"].pk], **RANGE},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["membership"] == "current members of each segment"
    assert (body["overall"]["n"], body["overall"]["successes"]) == (8, 5)
    early, late = body["groups"]
    assert (early["label"], early["n"], early["successes"]) == ("Early", 4, 4)
    assert (late["label"], late["n"], late["successes"]) == ("Late", 4, 1)
    assert late["difference"] == pytest.approx(0.25 - 1.0)
    # 4 of 4 against 1 of 4: even the most lopsided split of five successes could not be significant
    assert late["conclusion"] == "too small to conclude" and late["significant"] is None
    assert late["too_small"] == "even the most lopsided split of 8 persons could not be significant"
    assert early["too_small"] is None
    assert len(late["interval"]) == 2


def test_funnel_retention_and_paths_answer_json(shop, project, alice_client):
    funnel = alice_client.post(
        api(project, "analysis/funnel/"),
        {"steps": [{"name": "$pageview"}, {"name": "purchase"}], "breakdown": {"type": "browser"}, **RANGE},
        content_type="application/json",
    )
    assert funnel.status_code == 200, funnel.content
    assert [s["count"] for s in funnel.json()["overall"]["steps"]] == [8, 5]
    assert [(r["label"], r["entered"]) for r in funnel.json()["breakdown"]] == [("Chrome", 8)]
    retention = alice_client.post(
        api(project, "analysis/retention/"),
        {"segments": [shop["late"].pk], **RANGE},
        content_type="application/json",
    )
    assert retention.status_code == 200, retention.content
    assert {row["group"] for row in retention.json()["rows"]} == {"Everyone", "Late"}
    paths = alice_client.post(
        api(project, "analysis/paths/"),
        {"start": {"path": "/pricing"}, **RANGE},
        content_type="application/json",
    )
    assert paths.status_code == 200, paths.content
    assert paths.json()["groups"][0]["steps"][0]["step"] == "/cart"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("analysis/funnel/", {"steps": [{"name": "a"}]}, "steps"),
        ("analysis/funnel/", {"steps": [{"name": "a"}, {"action": "x"}]}, "steps[1].action"),
        ("analysis/compare/", {"metric": 424242, "segments": []}, "metric"),
        ("analysis/retention/", {"periods": 99}, "periods"),
        ("analysis/paths/", {"start": {"path": "/x"}, "direction": "up"}, "direction"),
        ("analysis/paths/", ["not", "an", "object"], "non_field_errors"),
    ],
)
def test_bad_analysis_parameters_are_400_naming_the_field(project, alice_client, path, body, field):
    response = alice_client.post(api(project, path), body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_saved_analyses_crud_and_result(shop, project, alice_client):
    params = {"steps": [{"name": "$pageview"}, {"name": "purchase"}], **RANGE}
    created = alice_client.post(
        api(project, "saved-analyses/"),
        {"name": "Buy funnel", "kind": "funnel", "params": params},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    saved = created.json()
    assert saved["params"]["within"] == {"value": 14, "unit": "days"}
    assert saved["url"].startswith(f"/p/{project.pk}/analysis/funnels/?step=e%3A%24pageview")
    result = alice_client.get(api(project, f"saved-analyses/{saved['id']}/result/"))
    assert result.status_code == 200 and result.json()["overall"]["completed"] == 5
    renamed = alice_client.patch(
        api(project, f"saved-analyses/{saved['id']}/"), {"name": "Buyers"}, content_type="application/json"
    )
    assert renamed.json()["name"] == "Buyers"
    bad = alice_client.patch(
        api(project, f"saved-analyses/{saved['id']}/"),
        {"params": {"steps": []}},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "params.steps" in bad.json()
    assert alice_client.delete(api(project, f"saved-analyses/{saved['id']}/")).status_code == 204
    assert not SavedAnalysis.objects.exists()


def test_a_saved_analysis_with_bad_params_is_refused(project, alice_client):
    response = alice_client.post(
        api(project, "saved-analyses/"),
        {"name": "x", "kind": "paths", "params": {"start": {"path": "nope"}}},
        content_type="application/json",
    )
    assert response.status_code == 400 and "params.start.path" in response.json()


def test_a_rolling_range_is_kept_when_saved(project, alice_client):
    response = alice_client.post(
        api(project, "saved-analyses/"),
        {"name": "Last month", "kind": "paths", "params": {"start": {"path": "/pricing"}, "last_days": 30}},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["params"]["last_days"] == 30
    assert "date_from" not in response.json()["params"]


ENDPOINTS = [
    ("get", "metrics/"), ("post", "metrics/"), ("post", "analysis/compare/"), ("post", "analysis/funnel/"),
    ("post", "analysis/retention/"), ("post", "analysis/paths/"), ("get", "saved-analyses/"), ("post", "saved-analyses/"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_another_projects_member_gets_404_everywhere(project, bob_client, method, path):
    response = getattr(bob_client, method)(api(project, path), {}, content_type="application/json")
    assert response.status_code == 404


def test_another_projects_objects_are_404_by_id(shop, project, alice_client, bob_client, bob_api_key):
    metric = alice_client.post(api(project, "metrics/"), METRIC, content_type="application/json").json()
    saved = alice_client.post(
        api(project, "saved-analyses/"),
        {"name": "P", "kind": "paths", "params": {"start": {"path": "/pricing"}}},
        content_type="application/json",
    ).json()
    for path in (
        f"metrics/{metric['id']}/",
        f"saved-analyses/{saved['id']}/",
        f"saved-analyses/{saved['id']}/result/",
    ):
        assert bob_client.get(api(project, path)).status_code == 404
        assert (
            bob_client.get(api(project, path), HTTP_AUTHORIZATION=f"Bearer {bob_api_key}").status_code == 404
        )
        assert alice_client.get(api(project, path)).status_code == 200
    assert bob_client.delete(api(project, f"metrics/{metric['id']}/")).status_code == 404
    assert Metric.objects.filter(pk=metric["id"]).exists()


def test_a_personal_api_key_reads_its_own_project(shop, project, alice_api_key, client):
    response = client.post(
        api(project, "analysis/paths/"), {"start": {"path": "/pricing"}, **RANGE},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {alice_api_key}",
    )  # fmt: skip
    assert response.status_code == 200


def test_a_slow_statement_is_cancelled_and_reported_not_left_running(project, monkeypatch):
    monkeypatch.setattr(reads, "TIMEOUT_MS", 50)
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        before = cursor.fetchone()[0]
    with pytest.raises(reads.AnalysisTimeout):
        reads.fetch_all("SELECT pg_sleep(0.5)", [])
    assert reads.fetch_all("SELECT 1", []) == [(1,)]
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == before


def test_event_reads_made_while_a_statement_is_built_are_limited_too(project, monkeypatch):
    """A PostgreSQL funnel reads its events' columns on the raw connection (tracking.eventstore.columns)."""
    monkeypatch.setattr(reads, "TIMEOUT_MS", 50)
    with pytest.raises(reads.AnalysisTimeout), reads.limited():
        read_columns("SELECT 1::bigint AS x FROM pg_sleep(0.5)", [], [("x", "bigint")])
    with reads.limited():
        assert [list(c) for c in read_columns("SELECT 7::bigint AS x", [], [("x", "bigint")])] == [[7]]
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "50ms"
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] != "50ms"
