"""PostHog's `/flags/` and `/decide/` answered by Sightline's flags, in each shape the SDKs read."""

from __future__ import annotations

import base64
import gzip
from urllib.parse import quote

import orjson
import pytest
from django.utils import timezone

from interventions import targeting
from interventions.models import FeatureFlag
from segments.models import Segment, SegmentMembership
from tests.ingest.conftest import event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ingest_lane")]


@pytest.fixture
def flags(project, send):
    """`beta` on for the members of one segment; `layout` a variant for everyone; `off` killed."""
    send([event(distinct_id="member"), event(distinct_id="stranger")])
    segment = Segment.objects.create(
        project=project, name="Members", definition={"match": "all", "conditions": []}
    )
    from tracking.models import PersonDistinctId

    person = PersonDistinctId.objects.get(project=project, distinct_id="member").person
    SegmentMembership.objects.create(
        project=project, segment=segment, person=person, entered_at=timezone.now()
    )
    FeatureFlag.objects.create(
        project=project, key="beta", enabled=True, rules=[{"segment": segment.pk, "rollout": 100}]
    )
    FeatureFlag.objects.create(
        project=project, key="layout", enabled=True, rules=[{"segment": None, "rollout": 100}],
        variants=[{"key": "a", "weight": 50}, {"key": "b", "weight": 50}],
    )  # fmt: skip
    FeatureFlag.objects.create(
        project=project, key="off", enabled=False, rules=[{"segment": None, "rollout": 100}]
    )
    targeting.forget(project.pk)
    return segment


def ask(client, path, body, **extra):
    return client.post(path, data=orjson.dumps(body), content_type="application/json", **extra)


def expected(project, distinct_id):
    from interventions.services import flags_evaluate

    return flags_evaluate(project=project, distinct_ids=[distinct_id])[distinct_id]


@pytest.mark.parametrize("path", ["/flags/?v=2", "/flags/?v=4", "/flags"])
def test_flags_answers_records_with_enabled_variant_and_metadata(client, project, flags, path):
    response = ask(client, path, {"token": project.public_key, "distinct_id": "member"})
    assert response.status_code == 200
    body = response.json()
    values = expected(project, "member")
    assert values["beta"] is True and values["off"] is False
    assert body["featureFlags"] == values
    assert body["flags"]["beta"]["enabled"] is True and body["flags"]["beta"]["variant"] is None
    assert (
        body["flags"]["layout"]["enabled"] is True and body["flags"]["layout"]["variant"] == values["layout"]
    )
    assert body["flags"]["off"]["enabled"] is False
    assert body["flags"]["beta"]["metadata"]["payload"] is None
    assert body["errorsWhileComputingFlags"] is False


def test_someone_outside_the_segment_gets_the_flag_off(client, project, flags):
    body = ask(client, "/flags/?v=2", {"api_key": project.public_key, "distinct_id": "stranger"}).json()
    assert body["flags"]["beta"]["enabled"] is False
    assert body["featureFlags"] == expected(project, "stranger")


def test_decide_v3_answers_values_and_v4_adds_records(client, project, flags):
    v3 = ask(client, "/decide/?v=3", {"api_key": project.public_key, "distinct_id": "member"}).json()
    assert v3["featureFlags"] == expected(project, "member") and v3["featureFlagPayloads"] == {}
    assert "flags" not in v3
    v4 = ask(client, "/decide/?v=4", {"api_key": project.public_key, "distinct_id": "member"}).json()
    assert v4["flags"]["beta"]["enabled"] is True
    v1 = ask(client, "/decide/?v=1", {"api_key": project.public_key, "distinct_id": "member"}).json()
    assert sorted(v1["featureFlags"]) == ["beta", "layout"]


def test_posthog_js_compressed_and_form_bodies_are_read(client, project, flags):
    body = orjson.dumps({"token": project.public_key, "distinct_id": "member"})
    gz = client.post("/flags/?v=2&compression=gzip-js", data=gzip.compress(body), content_type="text/plain")
    assert gz.json()["flags"]["beta"]["enabled"] is True
    form = f"data={quote(base64.b64encode(body).decode())}"
    b64 = client.post(
        "/decide/?v=3&compression=base64", data=form, content_type="application/x-www-form-urlencoded"
    )
    assert b64.json()["featureFlags"]["beta"] is True


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"nope", 400),
        (b"[]", 400),
        (b'{"token": "pk_unknown", "distinct_id": "x"}', 401),
        (b'{"distinct_id": "x"}', 401),
    ],
)
def test_bad_requests_get_a_clear_4xx(client, body, status):
    response = client.post("/flags/?v=2", data=body, content_type="application/json")
    assert response.status_code == status
    assert response.json()["error"]


def test_a_missing_distinct_id_is_400(client, project):
    for distinct_id in (None, "", "x" * 201, ["a"]):
        response = ask(client, "/decide/?v=3", {"token": project.public_key, "distinct_id": distinct_id})
        assert response.status_code == 400


def test_only_post_is_accepted(client):
    assert client.get("/flags/?v=2").status_code == 405
    assert client.options("/decide/").status_code == 204


def test_a_body_over_64_kb_is_413(client, project):
    body = orjson.dumps({"token": project.public_key, "distinct_id": "x", "pad": "x" * 70_000})
    assert client.post("/flags/?v=2", data=body, content_type="application/json").status_code == 413
