"""Small fixed worlds for analysis tests: real batches with explicit timestamps, frozen time.

Timestamps are in June 2026 (UTC, the project's zone); `NOW` is the end of
June, so every window in these worlds has closed unless a test moves time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from segments.models import Segment
from segments.services import segment_upload
from tests.ingest.conftest import event

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
UA_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
UA_SAFARI = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15"


def at(day: int, hour: int = 12, minute: int = 0, month: int = 6) -> str:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC).isoformat()


def june(day: int) -> str:
    return date(2026, 6, day).isoformat()


def page(distinct_id: str, path: str, when: str, *, session: str | None = None, **properties) -> dict:
    return event(
        "$pageview", distinct_id, session_id=session or f"s-{distinct_id}", timestamp=when,
        **{"$current_url": f"https://shop.test{path}", **properties},
    )  # fmt: skip


def act(name: str, distinct_id: str, when: str, *, session: str | None = None, **properties) -> dict:
    return event(name, distinct_id, session_id=session or f"s-{distinct_id}", timestamp=when, **properties)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def collect(send, frozen, project):
    """Send a batch (in chunks the ingestion accepts) and insist every event was accepted."""
    # time stands still, so every batch would fall into the same one-second rate window
    project.ingest_rate_limit = 0
    project.save(update_fields=["ingest_rate_limit"])

    def post(events: list[dict], **kwargs) -> None:
        for start in range(0, len(events), 400):
            chunk = events[start : start + 400]
            response = send(chunk, **kwargs)
            assert response.status_code == 200, response.content
            assert response.json()["accepted"] == len(chunk), response.json()

    return post


@pytest.fixture
def segment_of(project):
    """A static segment of the persons behind these distinct ids (current members, entered now)."""

    def make(name: str, distinct_ids: list[str]) -> Segment:
        result = segment_upload(project=project, name=name, identifiers=distinct_ids)
        assert not result.unmatched, result.unmatched
        return result.segment

    return make
