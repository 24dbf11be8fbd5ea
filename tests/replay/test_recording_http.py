from __future__ import annotations

import gzip
import os
from datetime import timedelta

import orjson
import pytest
from django.core.files.storage import default_storage
from django.db import connection

from replay.models import Recording, RecordingChunk
from tests.replay import rrweb
from tracking.models import Session

pytestmark = pytest.mark.django_db

CANARY = "canary-typed-4f1c"


def _stored_events(chunk: RecordingChunk) -> list[dict]:
    with default_storage.open(chunk.storage_path, "rb") as handle:
        return orjson.loads(gzip.decompress(handle.read()))


def _chunk(t: int, *more: dict) -> list[dict]:
    return [*rrweb.page(t), rrweb.typed(t + 100, CANARY), *more]


def test_a_chunk_is_stored_compressed_in_storage_and_indexed_in_the_database(
    send_chunk, recorded_project, media_root
):
    t = rrweb.now_ms()
    response = send_chunk(_chunk(t, rrweb.click(t + 200)), session_id="s-abc", distinct_id="anon-7")

    assert response.status_code == 200
    assert response.json() == {"stored": True}
    assert response["Access-Control-Allow-Origin"] == "*"
    recording = Recording.objects.get(project=recorded_project, session_key="s-abc")
    assert (recording.distinct_id, recording.chunk_count, recording.click_count) == ("anon-7", 1, 1)
    [chunk] = recording.chunks.all()
    assert chunk.storage_path.startswith(
        f"recordings/{recorded_project.pk}/{recording.created_at:%Y/%m}/s-abc/"
    )
    assert chunk.storage_path.endswith("/0.json.gz")
    assert (media_root / chunk.storage_path).is_file()
    assert recording.size_bytes == chunk.size_bytes == (media_root / chunk.storage_path).stat().st_size
    assert _stored_events(chunk)[2]["data"]["text"] == CANARY
    # the events live in the file only: no row of any replay table holds them
    with connection.cursor() as cursor:
        for table in ("replay_recording", "replay_recordingchunk"):
            cursor.execute(f"SELECT * FROM {table}")
            assert CANARY not in str(cursor.fetchall())


def test_gzip_bodies_are_accepted_flagged_or_sniffed(send_chunk):
    t = rrweb.now_ms()
    assert send_chunk(_chunk(t), seq=0, gzip_body=True, query="?compression=gzip").status_code == 200
    assert send_chunk(_chunk(t + 1000), seq=1, gzip_body=True).status_code == 200
    assert (
        send_chunk(
            _chunk(t + 2000), seq=2, gzip_body=True, headers={"HTTP_CONTENT_ENCODING": "gzip"}
        ).status_code
        == 200
    )
    assert Recording.objects.get().chunk_count == 3


def test_a_repeated_seq_is_stored_once(send_chunk, media_root):
    t = rrweb.now_ms()
    first = send_chunk(_chunk(t), seq=4)
    again = send_chunk(_chunk(t), seq=4)

    # Both are acknowledged (appended to the ingest queue); the drain stores the seq once.
    assert (first.json(), again.json()) == ({"stored": True}, {"stored": True})
    assert RecordingChunk.objects.count() == 1
    assert len(list((media_root / "recordings").rglob("*.json.gz"))) == 1


def test_figures_add_up_over_chunks_arriving_in_any_order(send_chunk):
    t = rrweb.now_ms() - rrweb.now_ms() % 1000
    send_chunk(
        [rrweb.navigated(t + 6000, "https://app.example/b"), rrweb.click(t + 6100), rrweb.click(t + 9000)],
        seq=1,
    )
    send_chunk([*rrweb.page(t, "https://app.example/a"), rrweb.click(t + 500)], seq=0)

    recording = Recording.objects.get()
    assert recording.chunk_count == 2
    assert recording.click_count == 3
    assert recording.page_count == 2
    assert recording.active_seconds == 3
    assert recording.first_url == "https://app.example/a"
    assert recording.duration_seconds == 9
    assert recording.ended_at - recording.started_at == timedelta(seconds=9)


def test_the_client_clock_is_corrected_from_sent_at(send_chunk):
    from django.utils import timezone

    slow = rrweb.now_ms() - 3_600_000  # the visitor's clock is an hour behind
    send_chunk(rrweb.page(slow), extra={"sent_at": slow + 10})
    recording = Recording.objects.get()
    assert abs(recording.started_at - timezone.now()) < timedelta(minutes=1)


def test_the_recording_joins_its_session_and_person_whenever_the_events_arrive(
    send, send_chunk, django_capture_on_commit_callbacks
):
    from tests.ingest.conftest import event

    send_chunk(rrweb.page(rrweb.now_ms()), session_id="s-early", distinct_id="anon-9")
    recording = Recording.objects.get(session_key="s-early")
    assert recording.session is None and recording.person is None

    with django_capture_on_commit_callbacks(execute=True):
        assert send([event("$pageview", "anon-9", session_id="s-early")]).status_code == 200
    recording.refresh_from_db()
    session = Session.objects.get(session_key="s-early")
    assert recording.session == session and recording.person_id == session.person_id
    assert session.has_recording

    # the other way round: events first, then the recording
    assert send([event("$pageview", "anon-10", session_id="s-late")]).status_code == 200
    send_chunk(rrweb.page(rrweb.now_ms()), session_id="s-late", distinct_id="anon-10")
    late = Session.objects.get(session_key="s-late")
    assert Recording.objects.get(session_key="s-late").session == late
    assert late.has_recording


def test_a_recording_survives_its_person_being_merged_into_an_identified_one(
    send, send_chunk, django_capture_on_commit_callbacks
):
    from tests.ingest.conftest import event

    send([event("$pageview", "anon-11", session_id="s-merge")])
    send_chunk(rrweb.page(rrweb.now_ms()), session_id="s-merge", distinct_id="anon-11")
    with django_capture_on_commit_callbacks(execute=True):
        send([event("$identify", "user-11", session_id="s-merge", **{"$anon_distinct_id": "anon-11"})])

    recording = Recording.objects.get(session_key="s-merge")
    assert recording.person is not None
    assert recording.person.distinct_ids.filter(distinct_id="user-11").exists()


def test_forged_active_content_is_stored_sanitised_and_flagged(send_chunk):
    t = rrweb.now_ms()
    forged = rrweb.full_snapshot(
        t + 1,
        rrweb.element("script", {}, [rrweb.text("window.top.__pwned = 1")]),
        rrweb.element("img", {"src": "x", "onerror": "window.top.__pwned = 2"}),
        rrweb.element("a", {"href": "javascript:window.top.__pwned = 3"}, [rrweb.text("link")]),
        rrweb.element("iframe", {"srcdoc": "<script>window.top.__pwned = 4</script>"}),
    )
    assert send_chunk([rrweb.meta(t), forged]).status_code == 200

    recording = Recording.objects.get()
    assert recording.sanitized
    stored = orjson.dumps(_stored_events(recording.chunks.get()))
    assert b"__pwned" not in stored
    assert b"onerror" not in stored and b"srcdoc" not in stored and b"javascript:" not in stored


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"session_id": ""}, 400, "invalid session_id"),
        ({"session_id": 12}, 400, "invalid session_id"),
        ({"session_id": "s" * 201}, 400, "invalid session_id"),
        ({"distinct_id": None}, 400, "invalid distinct_id"),
        ({"seq": -1}, 400, "invalid seq"),
        ({"seq": "1"}, 400, "invalid seq"),
        ({"seq": True}, 400, "invalid seq"),
        ({"seq": 2**31}, 400, "invalid seq"),
        ({"events": []}, 400, "invalid events"),
        ({"events": {"type": 2}}, 400, "invalid events"),
        ({"events": ["x"]}, 400, "invalid event"),
        ({"events": [{"type": "2", "timestamp": 1_780_000_000_000}]}, 400, "invalid event"),
        ({"events": [{"type": 2}]}, 400, "invalid event"),
        ({"events": [{"type": 2, "timestamp": 12}]}, 400, "invalid event"),
        ({"events": [{"type": 2, "timestamp": "now"}]}, 400, "invalid event"),
        ({"api_key": "pk_unknown"}, 401, "invalid api_key"),
        ({"api_key": None}, 401, "invalid api_key"),
    ],
)
def test_bad_chunks_are_refused_with_a_clear_4xx(client, recorded_project, change, status, error):
    payload = {"api_key": recorded_project.public_key, "session_id": "s", "distinct_id": "d", "seq": 0,
               "events": rrweb.page(rrweb.now_ms())} | change  # fmt: skip
    response = client.post("/i/v1/recording", data=orjson.dumps(payload), content_type="text/plain")
    assert response.status_code == status
    assert response.json()["error"] == error
    assert not Recording.objects.exists()


@pytest.mark.parametrize(
    ("raw", "status"),
    [(b"", 400), (b"not json", 400), (b"[1, 2]", 400), (b'"text"', 400), (b"\x1f\x8b broken gzip", 400)],
)
def test_bodies_that_are_not_a_chunk_are_refused(send_chunk, raw, status):
    response = send_chunk([], raw=raw)
    assert response.status_code == status
    assert response.json()["error"]


def test_only_post_is_answered(client):
    assert client.get("/i/v1/recording").status_code == 405
    preflight = client.options("/i/v1/recording")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"


def test_size_limits_match_the_batch_endpoint(send_chunk, settings):
    settings.INGEST_MAX_BODY_BYTES = 10_000
    settings.INGEST_MAX_DECOMPRESSED_BYTES = 50_000
    big = [rrweb.page(rrweb.now_ms())[0] | {"data": {"href": "https://x/" + "a" * 20_000}}]
    assert send_chunk(big).status_code == 413  # too large as sent
    bomb = orjson.dumps({"padding": "0" * 200_000})
    assert len(gzip.compress(bomb)) < 10_000
    assert send_chunk([], raw=gzip.compress(bomb), query="?compression=gzip").status_code == 413
    assert not Recording.objects.exists()


def test_more_than_the_event_limit_is_refused(send_chunk):
    t = rrweb.now_ms()
    response = send_chunk([rrweb.scroll(t + i) for i in range(20_001)], gzip_body=True)
    assert response.status_code == 413
    assert response.json()["error"] == "too many events"


def test_a_deeply_nested_page_is_stored(send_chunk):
    t = rrweb.now_ms()
    deep: dict = rrweb.text("bottom")
    for _ in range(300):  # deeper than orjson writes: the standard library takes over
        deep = rrweb.element("div", {}, [deep])
    snapshot = {"type": 2, "data": {"node": deep}, "timestamp": t + 1}
    assert send_chunk([rrweb.meta(t), snapshot]).status_code == 200
    assert Recording.objects.get().chunk_count == 1


def test_nesting_too_deep_to_store_is_refused_not_crashed_on(send_chunk, recorded_project):
    inner = '{"type":3,"textContent":"x","id":1}'
    for _ in range(5000):
        inner = '{"type":2,"tagName":"div","attributes":{},"id":2,"childNodes":[' + inner + "]}"
    raw = (
        f'{{"api_key":"{recorded_project.public_key}","session_id":"s","distinct_id":"d","seq":0,'
        f'"events":[{{"type":2,"timestamp":{rrweb.now_ms()},"data":{{"node":{inner}}}}}]}}'
    )
    response = send_chunk([], raw=raw.encode())
    assert response.status_code == 400
    assert not Recording.objects.exists()


def test_integers_beyond_64_bits_do_not_break_storage(client, recorded_project):
    t = rrweb.now_ms()
    body = (
        b'{"api_key": "'
        + recorded_project.public_key.encode()
        + b'", "session_id": "s", "distinct_id": "d", "seq": 1,'
        b' "events": [{"type": 4, "timestamp": '
        + str(t).encode()
        + b', "data": {"href": "https://a/", "n": 1'
        + b"0" * 40
        + b"}}]}"
    )
    response = client.post("/i/v1/recording", data=body, content_type="text/plain")
    assert response.status_code == 200
    assert Recording.objects.get().chunk_count == 1


def test_a_project_without_recording_refuses_chunks(send_chunk, recorded_project):
    recorded_project.recording_enabled = False
    recorded_project.save()
    from tracking.ingest.http import forget_project_cache

    forget_project_cache()
    response = send_chunk(rrweb.page(rrweb.now_ms()))
    assert response.status_code == 403
    assert response.json()["error"] == "recording disabled"


def test_sessions_outside_the_sample_are_refused(send_chunk, recorded_project):
    from replay.sampling import session_fraction
    from tracking.ingest.http import forget_project_cache

    recorded_project.recording_sample_rate = 0.5
    recorded_project.save()
    forget_project_cache()
    inside = next(
        f"s{i}"
        for i in range(100)
        if session_fraction(project_id=recorded_project.pk, session_id=f"s{i}") < 0.5
    )
    outside = next(
        f"s{i}"
        for i in range(100)
        if session_fraction(project_id=recorded_project.pk, session_id=f"s{i}") >= 0.5
    )

    assert send_chunk(rrweb.page(rrweb.now_ms()), session_id=inside).status_code == 200
    refused = send_chunk(rrweb.page(rrweb.now_ms()), session_id=outside)
    assert refused.status_code == 403
    assert refused.json()["error"] == "session not sampled"


def test_do_not_track_drops_the_chunk_when_the_project_respects_it(send_chunk, recorded_project):
    from tracking.ingest.http import forget_project_cache

    recorded_project.respect_dnt = True
    recorded_project.save()
    forget_project_cache()
    response = send_chunk(rrweb.page(rrweb.now_ms()), headers={"HTTP_DNT": "1"})
    assert response.status_code == 200
    assert response.json()["stored"] is False
    assert not Recording.objects.exists()


def test_a_full_recording_takes_no_more_chunks(send_chunk, monkeypatch):
    from replay import services
    from tracking.models import IngestRejection

    monkeypatch.setattr(services, "MAX_RECORDING_BYTES", 600)
    t = rrweb.now_ms()
    assert send_chunk(rrweb.page(t), seq=0).status_code == 200
    response = send_chunk([rrweb.typed(t + 1000, os.urandom(1000).hex())], seq=1)
    # Acknowledged once queued; the size limit needs the database, so the drain finds it.
    assert response.status_code == 200
    assert Recording.objects.get().chunk_count == 1
    dead = IngestRejection.objects.get()
    assert dead.endpoint == "recording" and "too large" in dead.reason


def test_a_storage_that_cannot_be_written_keeps_the_chunk_queued_until_it_can(send_chunk, settings, tmp_path):
    from tracking.ingest.drain import queue_drain_all
    from tracking.models import IngestQueueItem

    media = settings.MEDIA_ROOT
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocked
    response = send_chunk(rrweb.page(rrweb.now_ms()))
    assert response.status_code == 200
    assert not RecordingChunk.objects.exists()
    assert IngestQueueItem.objects.filter(kind="recording").count() == 1

    settings.MEDIA_ROOT = media
    queue_drain_all()
    assert RecordingChunk.objects.count() == 1
    assert not IngestQueueItem.objects.exists()
