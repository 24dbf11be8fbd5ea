"""Synthetic recordings of seeded sessions, stored through replay's own chunk service."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import orjson
import pytest

from demo import site as demo_site
from demo.world.recordings import LAYOUT, recordings_seed
from demo.world.seed import WorldOptions, world_seed
from replay.blobs import blob_read
from replay.models import Recording
from tests.factories import ProjectFactory
from tracking.models import Session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_site.public_key.cache_clear()
    yield
    demo_site.public_key.cache_clear()


@pytest.fixture
def seeded_project():
    project = ProjectFactory(recording_enabled=True, recording_sample_rate=1.0)
    world_seed(
        project=project,
        options=WorldOptions(persons=200, days=20, seed=4, until=datetime(2026, 11, 29, tzinfo=UTC)),
    )
    return project


def _events(recording: Recording) -> list[dict]:
    return [
        event
        for chunk in recording.chunks.order_by("seq")
        for event in orjson.loads(gzip.decompress(blob_read(chunk.storage_path)))
    ]


def _walk(node: dict):
    yield node
    for child in node.get("childNodes", []):
        yield from _walk(child)


def test_it_records_recent_sessions_linked_to_their_session_and_person(seeded_project):
    stored = recordings_seed(project=seeded_project, sessions=6)

    recordings = list(Recording.objects.filter(project=seeded_project))
    assert stored == len(recordings) == 6
    for recording in recordings:
        session = Session.objects.get(project=seeded_project, session_key=recording.session_key)
        assert session.has_recording
        assert recording.person_id == session.person_id
        assert recording.page_count >= 2
        assert recording.click_count > 0
        assert recording.first_url == session.entry_url


def test_recordings_are_real_demo_pages_without_scripts_or_private_content(seeded_project):
    recordings_seed(project=seeded_project, sessions=6)

    for recording in Recording.objects.filter(project=seeded_project):
        events = _events(recording)
        snapshots = [event for event in events if event["type"] == 2]
        assert snapshots
        assert [e["timestamp"] for e in events] == sorted(e["timestamp"] for e in events)
        for snapshot in snapshots:
            nodes = list(_walk(snapshot["data"]["node"]))
            tags = {node.get("tagName") for node in nodes}
            texts = " ".join(node.get("textContent", "") for node in nodes)
            assert "script" not in tags
            assert not any(code in texts for code in demo_site.RECOVERY_CODES)
            assert any("_cssText" in node.get("attributes", {}) for node in nodes)
        inputs = [e["data"]["text"] for e in events if e["type"] == 3 and e["data"]["source"] == 5]
        assert all(set(text) == {"*"} for text in inputs)


def test_clicks_land_on_the_clicked_elements_node(seeded_project):
    recordings_seed(project=seeded_project, sessions=6)

    clicks = 0
    for recording in Recording.objects.filter(project=seeded_project):
        nodes: dict[int, dict] = {}
        for event in _events(recording):
            if event["type"] == 2:
                nodes = {node["id"]: node for node in _walk(event["data"]["node"])}
            elif event["type"] == 3 and event["data"]["source"] == 2 and event["data"]["type"] == 2:
                clicks += 1
                assert nodes[event["data"]["id"]].get("tagName") not in (None, "body")
    assert clicks > 0


def test_every_demo_element_has_a_measured_position():
    listed = {(page.key, name) for page in demo_site.PAGES for name in page.elements}

    assert listed <= {(page, name) for page, names in LAYOUT.items() for name in names}
