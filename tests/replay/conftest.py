from __future__ import annotations

import gzip
import json

import orjson
import pytest

from tests.ingest.conftest import UA_CHROME


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Recording files of each test in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def recorded_project(project):
    project.recording_enabled = True
    project.recording_sample_rate = 1.0
    project.save()
    from tracking.ingest.http import forget_project_cache

    forget_project_cache()
    return project


@pytest.fixture
def send_chunk(client, recorded_project):
    """POST a recording chunk for the project; returns the response."""

    def post(
        events,
        *,
        seq=0,
        session_id="sess-1",
        distinct_id="anon-1",
        api_key=None,
        gzip_body=False,
        query="",
        extra=None,
        raw=None,
        headers=None,
    ):
        body = raw
        if body is None:
            payload = {
                "api_key": api_key or recorded_project.public_key,
                "session_id": session_id,
                "distinct_id": distinct_id,
                "seq": seq,
                "events": events,
                **(extra or {}),
            }
            try:
                body = orjson.dumps(payload)
            except TypeError:  # deeper than orjson goes
                body = json.dumps(payload).encode()
        if gzip_body:
            body = gzip.compress(body)
        return client.post(
            "/i/v1/recording" + query,
            data=body,
            content_type="text/plain",
            HTTP_USER_AGENT=UA_CHROME,
            **(headers or {}),
        )

    return post


@pytest.fixture
def record(send, recorded_project):
    """A recorded session: a page view through the batch endpoint, then its recording through the service.

    `record("s1", "anon-1", at=ms, events=[...], properties={...})` returns the Recording.
    """
    from datetime import UTC, datetime

    from replay.models import Recording
    from replay.services import recording_chunk_ingest
    from tests.ingest.conftest import event
    from tests.replay import rrweb

    def make(session_id, distinct_id="anon-1", *, at=None, events=None, properties=None, headers=None):
        t = at or rrweb.now_ms()
        stamp = datetime.fromtimestamp(t / 1000, UTC).isoformat()
        response = send(
            [event("$pageview", distinct_id, session_id=session_id, timestamp=stamp, **(properties or {}))],
            headers=headers,
        )
        assert response.status_code == 200 and response.json()["accepted"] == 1, response.content
        chunk = (
            events if events is not None else [*rrweb.page(t), rrweb.click(t + 1000), rrweb.typed(t + 2000)]
        )
        for seq, part in enumerate(chunk if chunk and isinstance(chunk[0], list) else [chunk]):
            recording_chunk_ingest(
                project=recorded_project,
                session_key=session_id,
                distinct_id=distinct_id,
                seq=seq,
                events=part,
            )
        return Recording.objects.get(project=recorded_project, session_key=session_id)

    return make
