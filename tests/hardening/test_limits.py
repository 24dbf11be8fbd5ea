"""Size limits at their exact edges, and a gzip bomb answered with bounded memory."""

from __future__ import annotations

import gzip
import io
import tracemalloc

import orjson
import pytest
from django.test import override_settings

from tests.ingest.conftest import event
from tracking.models import Event

pytestmark = pytest.mark.django_db

LIMIT = 20_000


def _body_of_exactly(size: int, project) -> bytes:
    body = orjson.dumps({"api_key": project.public_key, "batch": [event()]})
    assert len(body) < size
    return body[:-1] + b" " * (size - len(body)) + b"}"  # JSON allows the padding


# `{"api_key", "batch"}` is also posthog-python's shape at /batch/.
BATCH_PATHS = ("/i/v1/batch", "/batch/")
# Every kind of ingestion body reader: Sightline's, PostHog's (capture, recordings), Segment's.
BOMB_PATHS = ("/i/v1/batch", "/e/?compression=gzip-js", "/s/?compression=gzip-js", "/v1/batch", "/flags/?v=2")


@pytest.mark.parametrize("path", BATCH_PATHS)
@override_settings(INGEST_MAX_BODY_BYTES=LIMIT)
def test_a_body_exactly_at_the_limit_is_accepted_and_one_byte_more_is_413(client, project, path):
    at_limit = _body_of_exactly(LIMIT, project)
    assert len(at_limit) == LIMIT
    assert client.post(path, data=at_limit, content_type="application/json").status_code == 200
    over = _body_of_exactly(LIMIT + 1, project)
    response = client.post(path, data=over, content_type="application/json")
    assert response.status_code == 413
    assert Event.objects.count() == 1


@pytest.mark.parametrize("path", BATCH_PATHS)
@override_settings(INGEST_MAX_DECOMPRESSED_BYTES=LIMIT)
def test_the_decompressed_limit_is_exact_too(client, project, path):
    for size, status in ((LIMIT, 200), (LIMIT + 1, 413)):
        response = client.post(
            path, data=gzip.compress(_body_of_exactly(size, project)), content_type="text/plain",
            HTTP_CONTENT_ENCODING="gzip",
        )  # fmt: skip
        assert response.status_code == status, size


@pytest.mark.parametrize("path", BOMB_PATHS)
def test_a_gzip_bomb_is_refused_with_bounded_memory(client, project, path):
    # 256 MB of spaces compress to about 250 kB: the server must stop expanding it early.
    raw = b'{"api_key": "' + project.public_key.encode() + b'", "batch": ['
    buffer = io.BytesIO()
    compressor = gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=6)
    compressor.write(raw)
    chunk = b" " * (1 << 20)
    for _ in range(256):
        compressor.write(chunk)
    compressor.close()
    bomb = buffer.getvalue()
    assert len(bomb) < 400_000
    tracemalloc.start()
    try:
        response = client.post(path, data=bomb, content_type="text/plain", HTTP_CONTENT_ENCODING="gzip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    # the request body itself (~1 MB) plus at most the decompressed limit (5 MB) and some slack
    assert peak < 25 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
