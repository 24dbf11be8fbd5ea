from __future__ import annotations

import gzip
import uuid
from datetime import UTC, datetime

import orjson
import pytest

UA_CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"


def event(name: str = "$pageview", distinct_id: str = "anon-1", *, session_id: str = "s1", timestamp=None, **properties):
    return {
        "uuid": str(uuid.uuid4()),
        "event": name,
        "distinct_id": distinct_id,
        "timestamp": timestamp or datetime.now(UTC).isoformat(),
        "session_id": session_id,
        "properties": properties,
    }


@pytest.fixture
def send(client, project):
    """POST a batch for the project; returns the response."""

    def post(events, *, api_key=None, gzip_body=False, sent_at=None, headers=None, raw=None, content_type="application/json"):
        body = raw
        if body is None:
            payload = {"api_key": api_key or project.public_key, "batch": events}
            if sent_at is not None:
                payload["sent_at"] = sent_at
            body = orjson.dumps(payload)
        extra = {"HTTP_USER_AGENT": UA_CHROME, **(headers or {})}
        if gzip_body:
            body = gzip.compress(body)
            extra["HTTP_CONTENT_ENCODING"] = "gzip"
        return client.post("/i/v1/batch", data=body, content_type=content_type, **extra)

    return post
