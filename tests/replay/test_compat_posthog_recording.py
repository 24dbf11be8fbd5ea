"""posthog-js recordings at `/s/` and its remote config at `/array/<token>/config`."""

from __future__ import annotations

import gzip
import json
import uuid

import orjson
import pytest

from replay.compat_posthog import chunk_seq, mask_inputs
from replay.models import Recording, RecordingChunk
from replay.selectors import chunk_json
from tests.replay import rrweb

pytestmark = pytest.mark.django_db


def uuid7(ms: int) -> str:
    value = (ms << 80) | (0x7 << 76) | (0x2 << 62) | 1234
    return str(uuid.UUID(int=value))


def compressed(value) -> str:
    """What posthog-js puts in a compressed field: gzip bytes as a latin-1 string."""
    return gzip.compress(json.dumps(value).encode()).decode("latin-1")


def snapshot(project, session_id, events, distinct_id="anon-1"):
    return {
        "event": "$snapshot",
        "properties": {
            "$snapshot_data": events, "$session_id": session_id, "$window_id": "w-1",
            "distinct_id": distinct_id, "token": project.public_key, "$snapshot_bytes": 100,
        },
    }  # fmt: skip


def post(client, body, query="?compression=gzip-js&ver=1.449.2"):
    return client.post(f"/s/{query}", data=gzip.compress(orjson.dumps(body)), content_type="text/plain")


def stored_events(recording) -> list[dict]:
    out = []
    for chunk in RecordingChunk.objects.filter(recording=recording).order_by("seq"):
        out.extend(orjson.loads(chunk_json(chunk)))
    return out


def test_snapshots_become_a_playable_recording_with_inputs_masked(client, recorded_project):
    start = rrweb.now_ms() - 10_000
    session = uuid7(start)
    field = rrweb.element("input", {"type": "text", "value": "secret@example.com"}, node_id=7)
    first = [rrweb.meta(start + 5), rrweb.full_snapshot(start + 6, field)]
    response = post(client, [snapshot(recorded_project, session, first)])
    assert response.status_code == 200 and response.json()["accepted"] == 1
    later = [rrweb.typed(start + 2000, "hunter2", node_id=7), rrweb.click(start + 2100)]
    assert post(client, [snapshot(recorded_project, session, later)]).status_code == 200
    recording = Recording.objects.get(project=recorded_project, session_key=session)
    assert list(
        RecordingChunk.objects.filter(recording=recording).order_by("seq").values_list("seq", flat=True)
    ) == [5, 2000]
    events = stored_events(recording)
    text = orjson.dumps(events).decode()
    assert "secret@example.com" not in text and "hunter2" not in text
    assert [e["data"].get("text") for e in events if e["data"].get("source") == 5] == ["*******"]


def test_a_retried_request_is_stored_once(client, recorded_project):
    start = rrweb.now_ms() - 5000
    body = [snapshot(recorded_project, uuid7(start), rrweb.page(start + 1))]
    # both are acknowledged once queued; the drain stores the chunk once
    assert post(client, body).json()["accepted"] == 1
    assert post(client, body).json()["accepted"] == 1
    assert RecordingChunk.objects.count() == 1


def test_posthog_js_compressed_events_are_expanded(client, recorded_project):
    start = rrweb.now_ms() - 5000
    full = rrweb.full_snapshot(start + 2, rrweb.element("h1", {}, [rrweb.text("Pricing")]))
    packed = {**full, "data": compressed(full["data"]), "cv": "2024-10"}
    change = rrweb.mutation(start + 50, adds=[rrweb.add(3, rrweb.element("p", {}, [rrweb.text("Added")]))])
    packed_change = {
        **change, "cv": "2024-10",
        "data": {**change["data"], **{k: compressed(change["data"][k]) for k in ("adds", "removes", "texts", "attributes")}},
    }  # fmt: skip
    body = [snapshot(recorded_project, uuid7(start), [rrweb.meta(start + 1), packed, packed_change])]
    assert post(client, body).status_code == 200
    events = stored_events(Recording.objects.get())
    assert events[1]["data"]["node"]["type"] == 0 and "cv" not in events[1]
    assert "Added" in orjson.dumps(events[2]).decode()


def test_a_compressed_field_that_is_not_gzip_is_400(client, recorded_project):
    start = rrweb.now_ms()
    bad = {**rrweb.full_snapshot(start), "data": "not gzip", "cv": "2024-10"}
    response = post(client, [snapshot(recorded_project, uuid7(start), [bad])])
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ([{"event": "$pageview", "properties": {}}], 400),
        ([], 400),
        ([{"event": "$snapshot", "properties": {"$snapshot_data": [], "$session_id": "s"}}], 400),
    ],
)
def test_malformed_snapshots_get_a_4xx(client, recorded_project, body, status):
    response = post(client, body, query=f"?token={recorded_project.public_key}")
    assert response.status_code == status


def test_recording_off_or_an_unknown_key_is_refused(client, project):
    start = rrweb.now_ms()
    body = [snapshot(project, uuid7(start), rrweb.page(start))]
    assert post(client, body).status_code == 403
    body[0]["properties"]["token"] = "pk_unknown"
    assert post(client, body).status_code == 401


def test_the_remote_config_turns_recording_on_with_masking(client, recorded_project, project):
    config = client.get(f"/array/{recorded_project.public_key}/config").json()
    assert config["sessionRecording"]["endpoint"] == "/s/"
    assert config["sessionRecording"]["masking"]["maskAllInputs"] is True
    assert "gzip-js" in config["supportedCompression"]
    script = client.get(f"/array/{recorded_project.public_key}/config.js")
    assert script.status_code == 200 and b"_POSTHOG_REMOTE_CONFIG" in script.content
    assert client.get("/array/pk_unknown/config").status_code == 404
    assert client.post(f"/array/{recorded_project.public_key}/config").status_code == 405


def test_the_remote_config_says_no_recording_when_the_project_does_not_record(client, project):
    assert client.get(f"/array/{project.public_key}/config").json()["sessionRecording"] is False


def test_seq_is_the_offset_from_a_uuid7_session_start():
    assert chunk_seq(uuid7(1_800_000_000_000), [{"timestamp": 1_800_000_004_000}]) == 4000
    assert chunk_seq("not-a-uuid7", [{"timestamp": 1_800_000_000_000}]) > 0


def test_password_values_are_masked_even_when_inputs_are_not():
    password = rrweb.element("input", {"type": "password", "value": "pw"}, node_id=9)
    plain = rrweb.element("input", {"type": "text", "value": "kept"}, node_id=10)
    events = mask_inputs(
        [
            rrweb.full_snapshot(1, password, plain),
            rrweb.typed(2, "pw2", node_id=9),
            rrweb.typed(3, "ok", node_id=10),
        ],
        all_inputs=False,
    )
    text = orjson.dumps(events).decode()
    assert '"pw"' not in text and "pw2" not in text and "kept" in text and '"ok"' in text
