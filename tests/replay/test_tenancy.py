"""Project A's recordings are invisible to Bob (project B): every page and API answers 404."""

from __future__ import annotations

import pytest

from replay.models import RecordingRetentionRule
from segments.models import Segment
from tests.replay import rrweb

pytestmark = pytest.mark.django_db


@pytest.fixture
def recording_a(record):
    t = rrweb.now_ms()
    return record("s-a", "anon-a", at=t)


def _urls(project_id: int, recording_id: int) -> list[str]:
    return [
        f"/p/{project_id}/replay/",
        f"/p/{project_id}/replay/{recording_id}/",
        f"/p/{project_id}/replay/retention/",
        f"/api/v1/projects/{project_id}/recordings/",
        f"/api/v1/projects/{project_id}/recordings/{recording_id}/",
        f"/api/v1/projects/{project_id}/recordings/{recording_id}/chunks/0/",
    ]


def test_bob_gets_404_for_every_replay_page_and_api_of_project_a(bob_client, recorded_project, recording_a):
    for url in _urls(recorded_project.pk, recording_a.pk):
        assert bob_client.get(url).status_code == 404, url


def test_bob_cannot_reach_project_a_recordings_through_his_own_project(
    bob_client, other_project, recording_a
):
    for url in _urls(other_project.pk, recording_a.pk)[1:2] + _urls(other_project.pk, recording_a.pk)[4:]:
        assert bob_client.get(url).status_code == 404, url
    listed = bob_client.get(f"/api/v1/projects/{other_project.pk}/recordings/").json()
    assert listed["count"] == 0
    assert bob_client.get(f"/p/{other_project.pk}/replay/?session=s-a").status_code == 200
    assert (
        f"/replay/{recording_a.pk}/"
        not in bob_client.get(f"/p/{other_project.pk}/replay/?session=s-a").content.decode()
    )


def test_bobs_api_key_gets_404_too(client, bob_api_key, recorded_project, recording_a):
    for url in _urls(recorded_project.pk, recording_a.pk)[3:]:
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {bob_api_key}").status_code == 404, url


def test_bob_cannot_change_project_a_retention(bob_client, recorded_project):
    segment = Segment.objects.create(project=recorded_project, name="A's", kind="static")
    rule = RecordingRetentionRule.objects.create(project=recorded_project, segment=segment, days=90)
    assert (
        bob_client.post(
            f"/p/{recorded_project.pk}/replay/retention/", {"segment": segment.pk, "days": 200}
        ).status_code
        == 404
    )
    assert bob_client.post(f"/p/{recorded_project.pk}/replay/retention/{rule.pk}/delete/").status_code == 404
    rule.refresh_from_db()
    assert rule.days == 90


def test_alice_and_amos_see_the_recording(alice_client, amos_client, recorded_project, recording_a):
    for client in (alice_client, amos_client):
        for url in _urls(recorded_project.pk, recording_a.pk):
            assert client.get(url).status_code == 200, url


def test_a_key_of_project_b_cannot_write_into_project_a_recording(
    client, other_project, recorded_project, recording_a
):
    import orjson

    other_project.recording_enabled = True
    other_project.save()
    body = {
        "api_key": other_project.public_key,
        "session_id": "s-a",
        "distinct_id": "x",
        "seq": 5,
        "events": rrweb.page(rrweb.now_ms()),
    }
    assert (
        client.post("/i/v1/recording", data=orjson.dumps(body), content_type="text/plain").status_code == 200
    )
    recording_a.refresh_from_db()
    assert recording_a.chunk_count == 1  # B's chunk went to B's own recording of that session id
    assert other_project.recordings.get().session_key == "s-a"
