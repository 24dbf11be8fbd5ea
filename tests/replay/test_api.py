from __future__ import annotations

import gzip

import orjson
import pytest

from segments.models import Segment, SegmentMembership
from tests.replay import rrweb

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(record):
    t = rrweb.now_ms()
    first = record(
        "s-1",
        "anon-1",
        at=t - 60_000,
        events=[[*rrweb.page(t - 60_000), rrweb.click(t - 59_000)], [rrweb.click(t - 50_000)]],
    )
    second = record("s-2", "anon-2", at=t)
    return first, second


def test_the_list_is_paginated_and_filtered(alice_client, recorded_project, two):
    first, second = two
    base = f"/api/v1/projects/{recorded_project.pk}/recordings/"
    page = alice_client.get(base + "?limit=1").json()
    assert page["count"] == 2 and [r["id"] for r in page["results"]] == [second.pk]
    assert page["next"]
    by_session = alice_client.get(base + "?session_id=s-1").json()["results"]
    assert [r["session_id"] for r in by_session] == ["s-1"]
    assert [r["id"] for r in alice_client.get(base + f"?person={second.person_id}").json()["results"]] == [
        second.pk
    ]
    segment = Segment.objects.create(project=recorded_project, name="S", kind="static")
    SegmentMembership.objects.create(
        project=recorded_project, segment=segment, person=first.person, entered_at=first.started_at
    )
    assert [r["id"] for r in alice_client.get(base + f"?segment={segment.pk}").json()["results"]] == [
        first.pk
    ]
    today = second.started_at.date().isoformat()
    assert alice_client.get(base + f"?date_from={today}&date_to={today}").json()["count"] == 2
    bad = alice_client.get(base + "?date_from=yesterday")
    assert bad.status_code == 400 and "date_from" in bad.json()


def test_a_recording_has_its_figures_chunks_markers_and_viewer_url(
    events_backend, alice_client, recorded_project, two
):
    first, _ = two
    body = alice_client.get(f"/api/v1/projects/{recorded_project.pk}/recordings/{first.pk}/").json()
    assert body["session_id"] == "s-1" and body["person"] == first.person_id
    assert (body["chunk_count"], body["click_count"], body["page_count"]) == (2, 2, 1)
    assert body["viewer_url"] == f"http://testserver/p/{recorded_project.pk}/replay/{first.pk}/"
    assert [c["seq"] for c in body["chunks"]] == [0, 1]
    assert (
        body["chunks"][1]["url"] == f"/api/v1/projects/{recorded_project.pk}/recordings/{first.pk}/chunks/1/"
    )
    assert [m["kind"] for m in body["markers"]] == ["pageview"]


def test_a_chunk_is_served_as_json_compressed_or_not(alice_client, recorded_project, two):
    first, _ = two
    url = f"/api/v1/projects/{recorded_project.pk}/recordings/{first.pk}/chunks/0/"
    plain = alice_client.get(url)
    assert plain.status_code == 200 and plain["Content-Type"] == "application/json"
    events = orjson.loads(plain.content)
    assert [e["type"] for e in events] == [4, 2, 3]
    packed = alice_client.get(url, HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed["Content-Encoding"] == "gzip"
    assert orjson.loads(gzip.decompress(packed.content)) == events
    assert "Accept-Encoding" in packed["Vary"]
    assert alice_client.get(url.replace("/chunks/0/", "/chunks/9/")).status_code == 404


def test_personal_api_keys_read_recordings(client, alice_api_key, recorded_project, two):
    response = client.get(
        f"/api/v1/projects/{recorded_project.pk}/recordings/", HTTP_AUTHORIZATION=f"Bearer {alice_api_key}"
    )
    assert response.status_code == 200 and response.json()["count"] == 2


def test_a_chunk_whose_file_is_missing_is_404_not_500(alice_client, recorded_project, two, media_root):
    first, _ = two
    chunk = first.chunks.get(seq=0)
    (media_root / chunk.storage_path).unlink()
    assert (
        alice_client.get(
            f"/api/v1/projects/{recorded_project.pk}/recordings/{first.pk}/chunks/0/"
        ).status_code
        == 404
    )


def test_a_chunk_that_cannot_be_read_is_503_not_500(alice_client, recorded_project, two, media_root):
    first, _ = two
    path = media_root / first.chunks.get(seq=0).storage_path
    path.unlink()
    path.mkdir()  # unreadable as a file, yet there
    response = alice_client.get(f"/api/v1/projects/{recorded_project.pk}/recordings/{first.pk}/chunks/0/")
    assert response.status_code == 503
