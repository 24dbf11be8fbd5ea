"""`POST /i/v1/batch` over HTTP: every status code of the wire protocol."""

from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.test import override_settings

from tests.ingest.conftest import event
from tracking.models import Event, IngestRejection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ingest_lane")]


def test_a_good_batch_is_stored(send, project):
    response = send([event(), event("signed_up", plan="pro")])
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "rejected": []}
    assert sorted(Event.objects.filter(project=project).values_list("name", flat=True)) == [
        "$pageview",
        "signed_up",
    ]


def test_one_bad_event_never_sinks_the_rest_of_the_batch(send, project):
    good = event("kept")
    response = send(
        [{"event": 1}, good, {"event": "x"}, "not an object", event("also kept", properties_are_fine=True)]
    )
    body = response.json()
    assert response.status_code == 200
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == [0, 2, 3]
    assert "event must be a non-empty string" in body["rejected"][0]["error"]
    assert "distinct_id" in body["rejected"][1]["error"]
    assert set(Event.objects.values_list("name", flat=True)) == {"kept", "also kept"}
    dead = IngestRejection.objects.filter(project=project).order_by("index")
    assert [d.index for d in dead] == [0, 2, 3]
    assert '"event":1' in dead[0].payload


def test_a_retried_batch_adds_nothing(send, project):
    batch = [event(), event("clicked")]
    assert send(batch).json()["accepted"] == 2
    assert send(batch, gzip_body=True).json()["accepted"] == 2
    assert Event.objects.filter(project=project).count() == 2


def test_the_same_uuid_twice_in_one_batch_is_stored_once(send):
    e = event()
    assert send([e, dict(e)]).json()["accepted"] == 2
    assert Event.objects.count() == 1


def test_gzip_by_header_or_query_parameter(send, client, project):
    assert send([event()], gzip_body=True).status_code == 200
    body = gzip.compress(orjson.dumps({"api_key": project.public_key, "batch": [event()]}))
    response = client.post("/i/v1/batch?compression=gzip", data=body, content_type="text/plain")
    assert response.status_code == 200
    assert Event.objects.count() == 2


def test_text_plain_bodies_are_accepted_for_send_beacon(send):
    assert send([event()], content_type="text/plain").status_code == 200


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{nope", "invalid JSON"),
        (b"[1, 2]", "invalid batch"),
        (b"", "empty body"),
        (b'{"api_key": "PK", "batch": {"event": "x"}}', "invalid batch"),
        (b"\x1f\x8bnot really gzip", "invalid gzip body"),
    ],
)
def test_a_body_that_is_not_a_batch_is_400(send, project, raw, error):
    response = send(None, raw=raw.replace(b"PK", project.public_key.encode()))
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_an_unknown_key_is_401(send):
    response = send([event()], api_key="pk_doesnotexist")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid api_key"
    assert Event.objects.count() == 0


def test_a_personal_api_key_cannot_send(send, alice_api_key):
    assert send([event()], api_key=alice_api_key).status_code == 401


@override_settings(INGEST_MAX_BODY_BYTES=2000)
def test_a_body_over_the_limit_is_413(send):
    response = send([event(padding="x" * 3000)])
    assert response.status_code == 413


@override_settings(INGEST_MAX_DECOMPRESSED_BYTES=50_000)
def test_a_gzip_bomb_is_cut_off_with_413(client, project):
    bomb = gzip.compress(
        b'{"api_key": "' + project.public_key.encode() + b'", "batch": [' + b" " * 5_000_000 + b"]}"
    )
    assert len(bomb) < 10_000
    response = client.post(
        "/i/v1/batch", data=bomb, content_type="application/json", HTTP_CONTENT_ENCODING="gzip"
    )
    assert response.status_code == 413
    assert "decompressed" in response.json()["detail"]


def test_more_than_a_thousand_events_is_413(send):
    response = send([event() for _ in range(1001)])
    assert response.status_code == 413
    assert Event.objects.count() == 0


def test_the_rate_limit_answers_429_with_retry_after(send, project):
    project.ingest_rate_limit = 3
    project.save()
    from tracking.ingest.http import forget_project_cache

    forget_project_cache()
    codes = [send([event(), event()]).status_code for _ in range(4)]
    assert 429 in codes
    limited = send([event()])
    if limited.status_code == 429:
        assert limited["Retry-After"] == "1"


def test_cors_preflight_is_open_without_credentials(client):
    response = client.options(
        "/i/v1/batch", HTTP_ORIGIN="https://shop.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_responses_carry_cors_headers_and_need_no_csrf_token(send):
    response = send([event()], headers={"HTTP_ORIGIN": "https://shop.example"})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"


def test_get_is_405_not_500(client):
    assert client.get("/i/v1/batch").status_code == 405


def test_allowed_origins_are_enforced_when_set(send, project):
    project.allowed_origins = "https://www.acme.test"
    project.save()
    from tracking.ingest.http import forget_project_cache

    forget_project_cache()
    assert send([event()], headers={"HTTP_ORIGIN": "https://evil.test"}).status_code == 403
    assert send([event()], headers={"HTTP_ORIGIN": "https://www.acme.test"}).status_code == 200
    assert Event.objects.count() == 1


def test_do_not_track_is_respected_when_the_project_says_so(send, project):
    assert send([event()], headers={"HTTP_DNT": "1"}).status_code == 200
    assert Event.objects.count() == 1  # the project does not ask
    project.respect_dnt = True
    project.save()
    from tracking.ingest.http import forget_project_cache

    forget_project_cache()
    response = send([event()], headers={"HTTP_SEC_GPC": "1"})
    assert response.json()["dropped"] == 1
    assert Event.objects.count() == 1


def test_client_clock_skew_is_corrected_from_sent_at(send):
    now = datetime.now(UTC)
    # the client's clock is two hours behind
    client_now = now - timedelta(hours=2)
    send([event(timestamp=(client_now - timedelta(seconds=30)).isoformat())], sent_at=client_now.isoformat())
    stored = Event.objects.get().timestamp
    assert abs((stored - (now - timedelta(seconds=30))).total_seconds()) < 5


def test_timestamps_far_in_the_future_are_clamped(send):
    send([event(timestamp=(datetime.now(UTC) + timedelta(days=30)).isoformat())])
    stored = Event.objects.get()
    assert stored.timestamp <= datetime.now(UTC) + timedelta(seconds=1)
    assert stored.properties["$timestamp_clamped"] is True


@pytest.mark.parametrize(
    ("timestamp", "error"),
    [
        ("yesterday", "not ISO 8601"),
        (True, "ISO 8601"),
        ("1990-01-01T00:00:00Z", "two years"),
        (1e30, "out of range"),
    ],
)
def test_absurd_timestamps_are_rejected_alone(send, timestamp, error):
    body = send([event(timestamp=timestamp), event("fine")]).json()
    assert body["accepted"] == 1
    assert error in body["rejected"][0]["error"]


def test_epoch_millisecond_timestamps_are_understood(send):
    ms = int(datetime(2026, 11, 1, 12, 0, tzinfo=UTC).timestamp() * 1000)
    send([event(timestamp=ms)])
    assert Event.objects.get().timestamp == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_nul_characters_are_removed_not_fatal(send):
    response = send([event(note="a\x00b")])
    assert response.json()["accepted"] == 1
    assert Event.objects.get().properties["note"] == "ab"


def test_lone_surrogates_reject_only_their_event(client, project):
    good = orjson.dumps(event("fine"))
    bad = b'{"event": "x\\ud800", "distinct_id": "d", "uuid": "' + str(uuid.uuid4()).encode() + b'"}'
    body = b'{"api_key": "' + project.public_key.encode() + b'", "batch": [' + bad + b"," + good + b"]}"
    response = client.post("/i/v1/batch", data=body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    assert "Unicode" in response.json()["rejected"][0]["error"]
    assert Event.objects.get().name == "fine"


def test_properties_over_the_cap_are_rejected(send):
    body = send([event(blob="x" * 70_000), event("ok")]).json()
    assert body["accepted"] == 1 and "exceed" in body["rejected"][0]["error"]


def test_another_projects_key_writes_only_there(send, project, other_project):
    send([event()], api_key=other_project.public_key)
    assert Event.objects.filter(project=other_project).count() == 1
    assert Event.objects.filter(project=project).count() == 0


def test_absurdly_nested_properties_are_rejected_with_the_right_reason(send, project):
    nested: dict = {}
    level = nested
    for _ in range(400):
        level["a"] = {}
        level = level["a"]
    import json

    payload = {"api_key": project.public_key, "batch": [event(deep=nested), event("fine")]}
    body = send(None, raw=json.dumps(payload).encode()).json()
    assert body["accepted"] == 1
    assert "nested too deeply" in body["rejected"][0]["error"]
