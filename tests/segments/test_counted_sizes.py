"""Segment sizes on the pages leave bots and internal users out; membership keeps them."""

from __future__ import annotations

import pytest

from segments.lifecycle import custom_model_create
from segments.models import Segment, SegmentMembership
from segments.selectors import excluded_member_counts
from segments.services import persona_save, segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


@pytest.fixture
def pro(project, send, on_commit) -> Segment:
    """Four pro members: two people, a crawler and a teammate (internal by e-mail domain)."""
    people = [("ann", "ann@customer.io"), ("bo", "bo@customer.io"), ("me", "me@sightline.test")]
    batch = [
        event("$identify", d, session_id=f"s-{d}", **{"$set": {"plan": "pro", "email": e}}) for d, e in people
    ]
    assert send(batch).json()["accepted"] == 3
    crawler = [event("$identify", "crawler", session_id="s-crawler", **{"$set": {"plan": "pro"}})]
    assert send(crawler, headers={"HTTP_USER_AGENT": "Python-urllib/3.11"}).json()["accepted"] == 1
    project.internal_users = {"email_domains": ["sightline.test"]}
    project.save()
    with on_commit():
        segment = segment_create(project=project, name="Pro", definition=PRO)
    segment.refresh_from_db()
    return segment


def test_membership_keeps_bots_and_internal_users_but_counts_leave_them_out(project, pro):
    assert SegmentMembership.objects.filter(segment=pro, exited_at__isnull=True).count() == 4
    assert excluded_member_counts(project=project, segments=[pro]) == {pro.pk: 2}


def test_the_list_and_the_segment_page_show_the_counted_size(alice_client, project, pro):
    listing = alice_client.get(f"/p/{project.pk}/segments/").content.decode()
    assert "+2 bots / internal" in listing
    page = alice_client.get(f"/p/{project.pk}/segments/{pro.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert '<div class="stat">2</div><div class="stat-label">members · 100% of 2 people' in body
    assert "2 bots and internal users among the members, not counted" in body


def test_model_groups_and_personas_show_the_counted_size_too(alice_client, project, pro, on_commit):
    with on_commit():
        model = custom_model_create(
            project=project, name="Plans", groups=[("Pro", PRO)], remainder_name="Rest"
        )
    persona = persona_save(project=project, name="Pro buyer", summary="Pays for more", segment=pro)
    detail = alice_client.get(f"/p/{project.pk}/segments/models/{model.pk}/")
    assert detail.status_code == 200
    assert '<td class="num">2</td>' in detail.content.decode()  # the Pro group: 4 members, 2 counted
    for url in (f"/p/{project.pk}/segments/personas/", f"/p/{project.pk}/segments/personas/{persona.pk}/"):
        page = alice_client.get(url)
        assert page.status_code == 200
        assert '<div class="stat">2</div>' in page.content.decode()
