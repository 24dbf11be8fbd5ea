"""Versions: every saved definition kept with who and when, read as a diff, restorable; and what a change would do."""

from __future__ import annotations

import pytest

from segments.models import Segment, SegmentVersion
from segments.services import segment_create, segment_upload
from tests.ingest.conftest import event
from tests.segments.test_views_builder import form_fields

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def plan_is(plan: str) -> dict:
    return {
        "match": "all",
        "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": plan}],
    }


@pytest.fixture
def people(send, on_commit):
    """Six people: user-1, -3, -5 on pro, the others on free."""
    batch = [
        event(
            "$identify", f"user-{i}", **{"$set": {"plan": "pro" if i % 2 else "free", "email": f"u{i}@x.io"}}
        )
        for i in range(6)
    ]
    with on_commit():
        assert send(batch).json()["accepted"] == len(batch)


@pytest.fixture
def pro(api, people, on_commit) -> Segment:
    with on_commit():
        response = api("post", "/segments/", {"name": "Pro", "definition": plan_is("pro")})
    return Segment.objects.get(pk=response.json()["id"])


def test_every_definition_change_is_a_version_with_its_author_and_a_diff_in_words(api, pro, alice, on_commit):
    with on_commit():
        assert api("patch", f"/segments/{pro.pk}/", {"definition": plan_is("team")}).status_code == 200
        assert api("patch", f"/segments/{pro.pk}/", {"name": "Team"}).status_code == 200  # no new version

    versions = api("get", f"/segments/{pro.pk}/versions/").json()
    assert [(v["number"], v["change"], v["current"]) for v in versions] == [
        (2, "edited", True),
        (1, "created", False),
    ]
    assert versions[0]["created_by"] == alice.email and versions[0]["previous"] == versions[1]["definition"]
    diff = {(line["op"], line["text"].strip()) for line in versions[0]["diff"]}
    assert ("removed", "plan is “pro”") in diff and ("added", "plan is “team”") in diff
    assert [line["op"] for line in versions[1]["diff"]].count("added") == len(versions[1]["diff"])


def test_a_version_is_restored_as_the_newest_one(api, pro, on_commit):
    with on_commit():
        api("patch", f"/segments/{pro.pk}/", {"definition": plan_is("free")})
    pro.refresh_from_db()
    assert pro.size == 3

    with on_commit():
        response = api("post", f"/segments/{pro.pk}/versions/1/restore/")
    assert response.status_code == 200, response.json()
    pro.refresh_from_db()
    assert pro.definition == SegmentVersion.objects.get(segment=pro, number=1).definition and pro.size == 3
    newest = api("get", f"/segments/{pro.pk}/versions/").json()[0]
    assert (newest["number"], newest["change"], newest["restored_from"], newest["current"]) == (
        3,
        "restored",
        1,
        True,
    )

    again = api("post", f"/segments/{pro.pk}/versions/3/restore/")
    assert again.status_code == 400 and "current definition already" in again.json()["version"][0]
    missing = api("post", f"/segments/{pro.pk}/versions/9/restore/")
    assert missing.status_code == 400 and "no version 9" in missing.json()["version"][0]


def test_a_change_is_previewed_as_who_would_enter_and_leave(api, pro):
    response = api("post", f"/segments/{pro.pk}/preview-change/", {"definition": plan_is("free")})
    assert response.status_code == 200
    body = response.json()
    assert (body["entering"], body["leaving"], body["staying"]) == (3, 3, 0)
    assert {p["name"] for p in body["sample_entering"]} == {"u0@x.io", "u2@x.io", "u4@x.io"}
    assert {p["name"] for p in body["sample_leaving"]} == {"u1@x.io", "u3@x.io", "u5@x.io"}

    same = api("post", f"/segments/{pro.pk}/preview-change/", {"definition": plan_is("pro")}).json()
    assert (same["entering"], same["leaving"], same["staying"]) == (0, 0, 3)
    bad = api(
        "post", f"/segments/{pro.pk}/preview-change/", {"definition": {"match": "all", "conditions": [{}]}}
    )
    assert bad.status_code == 400 and "definition.conditions[0].type" in bad.json()
    assert api("post", f"/segments/{pro.pk}/preview-change/", {}).status_code == 400


def test_a_static_segment_has_no_versions_to_restore_or_preview(api, project, people):
    static = segment_upload(project=project, name="Beta", identifiers=["user-1"]).segment
    assert api("get", f"/segments/{static.pk}/versions/").json() == []
    assert (
        api("post", f"/segments/{static.pk}/preview-change/", {"definition": plan_is("pro")}).status_code
        == 400
    )


def test_the_versions_page_shows_the_diff_and_restores(alice_client, project, pro, on_commit, api):
    with on_commit():
        api("patch", f"/segments/{pro.pk}/", {"definition": plan_is("team")})
    page = alice_client.get(f"/p/{project.pk}/segments/{pro.pk}/versions/").content.decode()
    assert (
        "Version 2" in page
        and "current" in page
        and 'class="diff-removed"' in page
        and "Restore this version" in page
    )
    with on_commit():
        response = alice_client.post(f"/p/{project.pk}/segments/{pro.pk}/versions/1/restore/")
    assert response.status_code == 302
    pro.refresh_from_db()
    assert pro.definition == plan_is("pro") | {"negate": False} and pro.versions.count() == 3
    detail = alice_client.get(f"/p/{project.pk}/segments/{pro.pk}/").content.decode()
    assert f"/p/{project.pk}/segments/{pro.pk}/versions/" in detail


def test_the_builder_says_who_would_enter_and_leave_before_saving(alice_client, project, pro):
    edit = f"/p/{project.pk}/segments/{pro.pk}/edit/"
    data = form_fields(alice_client.get(edit).content.decode())
    data.update({"n-r_0-value": "free"})
    assert data["segment"] == str(pro.pk)  # the edit form names the segment it edits
    body = alice_client.post(f"/p/{project.pk}/segments/preview/", data, **HTMX)
    text = body.content.decode()
    assert "If you save:" in text and "3 would enter, 3 would leave, 0 stay" in text, text[:2000]


def test_segments_made_with_a_model_start_with_a_version(project, people):
    from segments.lifecycle import custom_model_create

    model = custom_model_create(project=project, name="Tiers", groups=[("Pro", plan_is("pro"))])
    group = model.groups.get(is_model_remainder=False)
    assert list(group.versions.values_list("number", "change")) == [(1, "created")]
    assert segment_create(project=project, name="x", definition=plan_is("pro")).versions.count() == 1
