"""A segment's scheduled export in the browser: from the segment page to a file and batches at a receiver."""

from __future__ import annotations

import gzip

import pytest
from django_q.conf import Conf
from playwright.sync_api import expect

from interventions.models import SegmentSync
from interventions.webhooks import verify
from tests.e2e.helpers import sign_in
from tests.interventions.syncs_helpers import Receiver, enter, people, static_segment

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def test_a_sync_made_from_the_segment_page_writes_a_file_and_pushes_batches(
    context, page, site, alice, project, receiver, settings, tmp_path, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", True)  # the first run happens inside the request, as a worker would
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}  # fmt: skip
    segment = static_segment(project, "Trial at risk")
    enter(segment, people(project, 3))
    sign_in(context, alice, site)

    page.goto(f"/p/{project.pk}/segments/{segment.pk}/")
    page.get_by_role("link", name="Scheduled export").click()
    expect(page.get_by_role("heading", name="No syncs yet")).to_be_visible()
    page.get_by_role("link", name="Create the first sync").click()
    page.get_by_label("Push entries and exits to").fill(receiver.url)
    page.get_by_label("Changes per batch").fill("2")
    page.get_by_role("button", name="Create sync").click()

    expect(page.get_by_role("heading", name="Sync of Trial at risk")).to_be_visible()
    sync = SegmentSync.objects.get(project=project)
    expect(page.locator("#sync-secret-value")).to_have_text(sync.secret)
    files = page.locator("section.card", has=page.get_by_role("heading", name="Files"))
    expect(files.get_by_role("link")).to_have_count(1)
    batches = page.locator("section.card", has=page.get_by_role("heading", name="Latest batches"))
    expect(batches.locator("tbody tr")).to_have_count(2)
    assert [b["batch"]["count"] for b in receiver.bodies] == [2, 1]
    assert all(verify(sync.secret, h["Sightline-Signature"], body) for h, body in receiver.received)

    with page.expect_download() as download:
        files.get_by_role("link").click()
    lines = gzip.decompress(open(download.value.path(), "rb").read()).decode().splitlines()
    assert lines[0] == "person_id,distinct_ids,email,entered_at" and len(lines) == 4

    page.reload()
    expect(page.locator("#sync-secret-value")).to_have_count(0)  # shown once
