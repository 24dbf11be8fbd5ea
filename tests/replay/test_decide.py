from __future__ import annotations

import orjson
import pytest

from replay.sampling import session_fraction, session_sampled
from tracking.ingest.http import forget_project_cache

pytestmark = pytest.mark.django_db


def _decide(client, project, **body):
    payload = {"api_key": project.public_key, "distinct_id": "anon-1", **body}
    response = client.post("/i/v1/decide", data=orjson.dumps(payload), content_type="text/plain")
    assert response.status_code == 200
    return response.json()["recording"]


def _set(project, **fields):
    for name, value in fields.items():
        setattr(project, name, value)
    project.save()
    forget_project_cache()


def test_a_recorded_project_tells_the_snippet_to_load_the_recorder(client, recorded_project):
    answer = _decide(client, recorded_project, session_id="s-1")
    assert answer == {
        "enabled": True,
        "script": "/static/recorder.js",
        "mask_all_inputs": True,
        "mask_all_text": False,
    }


def test_masking_follows_the_project(client, recorded_project):
    _set(recorded_project, recording_mask_inputs=False, recording_mask_all_text=True)
    answer = _decide(client, recorded_project, session_id="s-1")
    assert (answer["mask_all_inputs"], answer["mask_all_text"]) == (False, True)


def test_nothing_is_recorded_when_recording_is_off(client, project):
    assert _decide(client, project, session_id="s-1") == {"enabled": False}


def test_the_sample_is_decided_per_session_and_stays_decided(client, recorded_project):
    _set(recorded_project, recording_sample_rate=0.3)
    sessions = [f"session-{i}" for i in range(40)]
    answers = {s: _decide(client, recorded_project, session_id=s)["enabled"] for s in sessions}
    expected = {s: session_fraction(project_id=recorded_project.pk, session_id=s) < 0.3 for s in sessions}
    assert answers == expected
    assert 0 < sum(answers.values()) < len(sessions)
    again = {s: _decide(client, recorded_project, session_id=s)["enabled"] for s in sessions[:10]}
    assert again == {s: answers[s] for s in sessions[:10]}


def test_without_a_session_id_the_visitor_is_sampled(client, recorded_project):
    _set(recorded_project, recording_sample_rate=0.5)
    visitors = [f"anon-{i}" for i in range(20)]
    answers = [_decide(client, recorded_project, distinct_id=v)["enabled"] for v in visitors]
    assert answers == [session_fraction(project_id=recorded_project.pk, session_id=v) < 0.5 for v in visitors]


def test_do_not_track_turns_recording_off_when_the_project_respects_it(client, recorded_project):
    _set(recorded_project, respect_dnt=True)
    payload = {"api_key": recorded_project.public_key, "distinct_id": "a", "session_id": "s"}
    response = client.post(
        "/i/v1/decide", data=orjson.dumps(payload), content_type="text/plain", HTTP_SEC_GPC="1"
    )
    assert response.json()["recording"] == {"enabled": False}


def test_sampling_edges():
    assert session_sampled(project_id=1, session_id="x", rate=1.0)
    assert not session_sampled(project_id=1, session_id="x", rate=0.0)
    shares = [session_fraction(project_id=1, session_id=str(i)) for i in range(2000)]
    assert 0.45 < sum(s < 0.5 for s in shares) / len(shares) < 0.55
    # projects sample different sessions
    assert session_fraction(project_id=1, session_id="x") != session_fraction(project_id=2, session_id="x")
