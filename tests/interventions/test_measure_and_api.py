from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from scipy import stats as scipy_stats

from interventions import services
from interventions.lift import ProportionComparison
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db


def test_the_z_test_matches_scipy():
    c = ProportionComparison(n_a=400, x_a=120, n_b=380, x_b=80)
    pooled = (120 + 80) / 780
    se = (pooled * (1 - pooled) * (1 / 400 + 1 / 380)) ** 0.5
    z = (120 / 400 - 80 / 380) / se
    assert c.p_value == pytest.approx(2 * scipy_stats.norm.sf(abs(z)), rel=1e-9)
    assert c.lift == pytest.approx((0.3 - 80 / 380) / (80 / 380))
    low, high = c.interval()
    assert low < c.difference < high


def test_small_groups_are_tested_exactly_and_called_inconclusive_only_when_no_test_can_tell():
    small = ProportionComparison(n_a=10, x_a=5, n_b=12, x_b=2)
    assert small.enough_data and small.p_value == pytest.approx(0.171827, abs=1e-6)  # Fisher's exact test
    assert small.verdict() == "No significant difference between exposed and holdout yet (p = 0.172)."
    assert "Not enough data" in ProportionComparison(n_a=2, x_a=1, n_b=2, x_b=0).verdict()
    assert "Not enough data" in ProportionComparison(n_a=50, x_a=0, n_b=40, x_b=0).verdict()


def test_exposed_versus_holdout_on_a_goal(events_backend, project, send, on_commit):
    nudge = services.nudge_save(project=project, data={"name": "Upgrade", "title": "Upgrade", "status": "live",
                                                       "goal": {"event": {"name": "upgraded"}, "within_days": 7}})  # fmt: skip
    t0 = datetime.now(UTC) - timedelta(days=3)
    batch = []
    # 40 exposed: 20 upgrade within the week; 40 held out: 8 upgrade; 2 upgrade too late (ignored)
    for i in range(40):
        batch.append(event("$nudge_shown", f"e{i}", timestamp=t0.isoformat(), **{"$nudge_id": nudge.pk}))
        if i < 20:
            batch.append(event("upgraded", f"e{i}", timestamp=(t0 + timedelta(days=1)).isoformat()))
        batch.append(event("$nudge_held_out", f"h{i}", timestamp=t0.isoformat(), **{"$nudge_id": nudge.pk}))
        if i < 8:
            batch.append(event("upgraded", f"h{i}", timestamp=(t0 + timedelta(days=2)).isoformat()))
    batch.append(event("upgraded", "h39", timestamp=(t0 - timedelta(days=1)).isoformat()))  # before exposure
    with on_commit():
        send(batch)
    from interventions.measure import measure

    result = measure(project=project, kind="nudge", obj=nudge).as_dict()
    groups = {g["label"]: (g["persons"], g["converted"]) for g in result["groups"]}
    assert groups == {"exposed": (40, 20), "holdout": (40, 8)}
    assert result["lift"] == pytest.approx((0.5 - 0.2) / 0.2)
    assert result["p_value"] < 0.01 and "converts more" in result["verdict"]
    assert result["timeline"][0]["exposed"]["persons"] == 40


@pytest.fixture
def api(client, alice_api_key, project):
    def call(method, path, body=None, key=None):
        return getattr(client, method)(
            f"/api/v1/projects/{project.pk}{path}", data=body, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key or alice_api_key}",
        )  # fmt: skip

    return call


def test_crud_and_validation_errors_name_the_field(api):
    created = api(
        "post", "/flags/", {"key": "new-nav", "enabled": True, "rules": [{"segment": None, "rollout": 50}]}
    )
    assert created.status_code == 201 and created.json()["key"] == "new-nav"
    bad = api("post", "/flags/", {"key": "Bad Key"})
    assert bad.status_code == 400 and "key" in bad.json()
    bad = api("post", "/flags/", {"key": "x", "rules": [{"segment": None, "rollout": 150}]})
    assert "rules[0].rollout" in bad.json()
    bad = api(
        "post",
        "/surveys/",
        {
            "name": "s",
            "key": "s",
            "questions": [{"key": "q", "type": "single", "prompt": "?", "choices": ["a"]}],
        },
    )
    assert "questions[0].choices" in bad.json()
    bad = api("post", "/nudges/", {"name": "n", "title": "t", "kind": "tooltip"})
    assert "anchor_selector" in bad.json()
    bad = api("post", "/nudges/", {"name": "n", "title": "t", "cta_url": "javascript:alert(1)"})
    assert "cta_url" in bad.json()
    bad = api("post", "/nudges/", {"name": "n", "title": "t", "goal": {"event": {"name": ""}}})
    assert "goal.event.name" in bad.json()
    flag_id = created.json()["id"]
    assert api("patch", f"/flags/{flag_id}/", {"enabled": False}).json()["enabled"] is False
    assert api("get", f"/flags/{flag_id}/results/").status_code == 200
    assert api("delete", f"/flags/{flag_id}/").status_code == 204


def test_server_side_flag_evaluation(api, send):
    api("post", "/flags/", {"key": "everyone", "enabled": True, "rules": [{"segment": None, "rollout": 100}]})
    send([event(distinct_id="backend-user")])
    response = api("post", "/flags/evaluate", {"distinct_ids": ["backend-user", "unknown"]})
    assert response.status_code == 200
    assert response.json() == {"backend-user": {"everyone": True}, "unknown": {"everyone": True}}
    assert api("post", "/flags/evaluate", {"distinct_ids": []}).status_code == 400


def test_another_projects_member_gets_404(api, bob_api_key):
    flag_id = api("post", "/flags/", {"key": "mine"}).json()["id"]
    for method, path in [("get", "/flags/"), ("post", "/flags/"), ("get", f"/flags/{flag_id}/"), ("patch", f"/flags/{flag_id}/"),
                         ("delete", f"/flags/{flag_id}/"), ("get", f"/flags/{flag_id}/results/"), ("post", "/flags/evaluate"),
                         ("get", "/nudges/"), ("get", "/surveys/"), ("get", "/webhooks/"), ("get", "/alerts/")]:  # fmt: skip
        assert api(method, path, {"key": "x"}, key=bob_api_key).status_code == 404, (method, path)


def test_lift_within_a_segment_counts_people_who_left_it_after_exposure(project, send, on_commit):
    from interventions.measure import measure
    from segments.services import segment_create

    stuck = {
        "match": "all",
        "conditions": [
            {"type": "behavior", "event": {"name": "upgraded"}, "count": {"operator": "eq", "value": 0}}
        ],
    }
    # seen days before, so their membership history reaches back past the exposures
    seen = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    batch = [event("$pageview", f"p{i}", timestamp=seen) for i in range(40)]
    with on_commit():
        send(batch)
        segment = segment_create(project=project, name="Not upgraded", definition=stuck)
    nudge = services.nudge_save(project=project, data={"name": "Upgrade", "title": "Upgrade", "status": "live", "segments": [segment.pk],
                                                       "goal": {"event": {"name": "upgraded"}, "within_days": 7}})  # fmt: skip
    shown = datetime.now(UTC) - timedelta(hours=2)
    batch = [
        event("$nudge_shown", f"p{i}", timestamp=shown.isoformat(), **{"$nudge_id": nudge.pk})
        for i in range(40)
    ]
    batch += [event("upgraded", f"p{i}") for i in range(10)]  # these ten leave the segment
    with on_commit():
        send(batch)
    result = measure(project=project, kind="nudge", obj=nudge, segment_ids=[segment.pk]).as_dict()
    [within] = result["by_segment"]
    assert within["groups"] == [{"label": "exposed", "persons": 40, "converted": 10, "rate": 0.25}]


def test_boolean_flag_responses_are_stored_as_json_text(project, send, on_commit):
    from interventions.models import Exposure

    flag = services.flag_save(
        project=project, data={"key": "beta", "enabled": True, "rules": [{"segment": None, "rollout": 100}]}
    )
    with on_commit():
        send([event("$flag_called", "u", **{"$flag": "beta", "$flag_response": True})])
    assert Exposure.objects.get(kind="flag", object_id=flag.pk).variant == "true"


def test_only_owners_and_admins_read_or_rotate_a_webhook_secret_through_the_api(api, amos, project):
    """As in the web app: a member who creates a webhook sees its secret once; after that, owners and admins."""
    from segments.services import segment_create
    from tracking.services.accounts import api_key_create

    segment = segment_create(
        project=project,
        name="Pro",
        definition={
            "match": "all",
            "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
        },
    )
    member = api_key_create(user=amos, label="member").secret
    body = {"name": "CRM", "url": "https://crm.example.com/h", "segments": [segment.pk]}
    created = api("post", "/webhooks/", body, key=member)
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    hook_id, secret = created.json()["id"], created.json()["secret"]
    assert api("get", f"/webhooks/{hook_id}/", key=member).json()["secret"] is None
    assert [w["secret"] for w in api("get", "/webhooks/", key=member).json()] == [None]
    assert api("patch", f"/webhooks/{hook_id}/", {"name": "CRM 2"}, key=member).json()["secret"] is None
    rotate = api("post", f"/webhooks/{hook_id}/rotate-secret/", key=member)
    assert rotate.status_code == 403 and "owners and admins" in rotate.json()["detail"]

    assert api("get", f"/webhooks/{hook_id}/").json()["secret"] == secret  # alice owns the organization
    rotated = api("post", f"/webhooks/{hook_id}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.json()["id"] == hook_id
    assert rotated.json()["secret"] not in (secret, None)
    assert api("get", f"/webhooks/{hook_id}/").json()["secret"] == rotated.json()["secret"]
    assert api("post", "/webhooks/999999999/rotate-secret/").status_code == 404
