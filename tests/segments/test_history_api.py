"""The membership-history API: members as of a moment, a person's segments then, the daily history
and its rebuild, a preview as of a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from segments.models import Segment, SegmentMembership, SegmentSizeSnapshot
from segments.selectors.history import members_then
from tests.ingest.conftest import event
from tests.segments.test_segments_api import PRO

pytestmark = pytest.mark.django_db


def days_ago(days: int, hour: int = 12) -> datetime:
    today = timezone.now().astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days)


@pytest.fixture
def api(client, alice_api_key, project):
    def call(method: str, path: str, body=None, key=None):
        return getattr(client, method)(
            f"/api/v1/projects/{project.pk}{path}",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key or alice_api_key}",
        )

    return call


@pytest.fixture
def upgraders(send):
    """Four people who signed up on the free plan ten days ago; two went pro five days ago."""
    send(
        [
            event("$identify", f"user-{i}", timestamp=days_ago(10).isoformat(),
                  **{"$set": {"plan": "free", "email": f"u{i}@x.io"}})
            for i in range(4)
        ]
        + [event("$identify", f"user-{i}", timestamp=days_ago(5).isoformat(), **{"$set": {"plan": "pro"}})
           for i in (1, 3)]
    )  # fmt: skip


@pytest.fixture
def pro(api, upgraders, on_commit) -> Segment:
    with on_commit():
        segment_id = api("post", "/segments/", {"name": "Pro", "definition": PRO}).json()["id"]
    segment = Segment.objects.get(pk=segment_id)
    assert segment.history_built_at is not None  # rebuilt after the first computation
    return segment


def test_members_as_of_a_day_boundary_read_the_stored_history(api, pro):
    before = days_ago(7).date().isoformat()  # a bare date is its midnight in the project's zone
    response = api("get", f"/segments/{pro.pk}/members/?as_of={before}")
    assert response.status_code == 200
    assert response.json()["source"] == "history"
    assert response.json()["count"] == 0

    after = days_ago(2).date().isoformat()
    body = api("get", f"/segments/{pro.pk}/members/?as_of={after}").json()
    assert body["source"] == "history" and body["count"] == 2
    assert sorted(m["distinct_ids"][0] for m in body["results"]) == ["user-1", "user-3"]
    assert all(m["entered_at"] for m in body["results"])  # the period that covers the moment
    at = datetime.fromisoformat(body["as_of"])
    assert [m["id"] for m in body["results"]] == [
        m.person_id for m in members_then(segment=pro, at=at).periods
    ]


def test_members_as_of_are_paginated_like_the_members_list(api, pro):
    after = days_ago(2).date().isoformat()
    for moment in (after, days_ago(2, hour=15).isoformat()):  # from the history, then evaluated
        first = api("get", f"/segments/{pro.pk}/members/", {"as_of": moment, "limit": 1}).json()
        assert first["count"] == 2 and len(first["results"]) == 1 and first["next"]
        second = api("get", f"/segments/{pro.pk}/members/", {"as_of": moment, "limit": 1, "offset": 1}).json()
        assert second["results"][0]["id"] > first["results"][0]["id"]


def test_members_between_boundaries_are_evaluated(api, pro):
    moment = days_ago(3, hour=14).isoformat()
    body = api("get", f"/segments/{pro.pk}/members/", {"as_of": moment}).json()
    assert body["source"] == "evaluated" and body["count"] == 2
    assert all(m["entered_at"] is None for m in body["results"])
    before = api("get", f"/segments/{pro.pk}/members/", {"as_of": days_ago(6, hour=14).isoformat()}).json()
    assert before["source"] == "evaluated" and before["count"] == 0


def test_members_without_as_of_keep_their_shape(api, pro):
    body = api("get", f"/segments/{pro.pk}/members/").json()
    assert body["count"] == 2 and "source" not in body
    assert set(body["results"][0]) == {"id", "distinct_ids", "entered_at", "properties"}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("yesterday", "ISO 8601"),
        ("2026-02-30", "ISO 8601"),
        ("2999-01-01T00:00:00Z", "future"),
        ("", "ISO 8601"),
    ],
)
def test_a_bad_as_of_is_a_400_naming_it(api, pro, value, says):
    person_id = SegmentMembership.objects.filter(segment=pro).first().person_id
    for path in (f"/segments/{pro.pk}/members/", f"/persons/{person_id}/segments/"):
        response = api("get", path, {"as_of": value})
        assert response.status_code == 400, (path, response.content)
        assert says in response.json()["as_of"][0]
    response = api("post", "/segments/preview/", {"definition": PRO, "as_of": value})
    assert response.status_code == 400 and says in response.json()["as_of"][0]


def test_a_naive_as_of_is_read_in_the_projects_time_zone(api, pro, project):
    project.timezone = "Asia/Tokyo"
    project.save()
    moment = days_ago(3, hour=14).replace(tzinfo=None).isoformat()
    body = api("get", f"/segments/{pro.pk}/members/", {"as_of": moment}).json()
    assert body["as_of"].endswith("+09:00")


def test_a_person_lists_each_segment_with_its_periods(api, pro, send, on_commit):
    person_id = SegmentMembership.objects.filter(segment=pro).order_by("person_id").first().person_id
    body = api("get", f"/persons/{person_id}/segments/").json()
    assert [s["name"] for s in body] == ["Pro"]
    assert body[0]["current"] is True
    [period] = body[0]["periods"]
    assert period["reconstructed"] is True and period["exited_at"] is None


def test_a_person_lists_the_segments_they_were_in_then(api, pro):
    person_id = SegmentMembership.objects.filter(segment=pro).first().person_id
    then = api("get", f"/persons/{person_id}/segments/", {"as_of": days_ago(2).date().isoformat()}).json()
    assert [(s["name"], s["source"]) for s in then] == [("Pro", "history")]
    assert then[0]["entered_at"]
    earlier = api("get", f"/persons/{person_id}/segments/", {"as_of": days_ago(6, hour=9).isoformat()}).json()
    assert earlier == []


def test_the_history_holds_the_reconstructed_days(api, pro):
    response = api("get", f"/segments/{pro.pk}/history/")
    assert response.status_code == 200
    body = response.json()
    assert body["history_from"] == pro.history_from.isoformat()
    assert body["history_built_at"]
    assert body["job"]["status"] == "done" and body["job"]["progress"] == 1.0
    points = body["points"]
    assert points[0]["date"] == pro.history_from.isoformat() and points[0]["reconstructed"] is True
    assert [p["date"] for p in points] == sorted(p["date"] for p in points)
    assert points[0]["size"] == 0 and points[-1]["size"] == 2
    assert sum(p["entered"] for p in points) == 2


def test_a_post_rebuilds_the_history(api, pro):
    SegmentSizeSnapshot.objects.filter(segment=pro).delete()
    Segment.objects.filter(pk=pro.pk).update(history_built_at=None)
    response = api("post", f"/segments/{pro.pk}/history/")
    assert response.status_code == 202
    assert response.json()["history_built_at"] is not None
    assert response.json()["job"]["status"] == "done"
    assert SegmentSizeSnapshot.objects.filter(segment=pro, reconstructed=True).exists()


def test_a_static_segment_has_no_history_to_rebuild(api, pro):
    frozen = api("post", f"/segments/{pro.pk}/freeze/", {"name": "Pro then"}).json()
    response = api("post", f"/segments/{frozen['id']}/history/")
    assert response.status_code == 400


def test_a_preview_counts_and_samples_as_of_a_moment(api, upgraders):
    response = api("post", "/segments/preview/", {"definition": PRO, "as_of": days_ago(3).isoformat()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    assert sorted(p["name"] for p in body["sample"]) == ["u1@x.io", "u3@x.io"]
    earlier = api("post", "/segments/preview/", {"definition": PRO, "as_of": days_ago(7).isoformat()}).json()
    assert earlier["count"] == 0 and earlier["sample"] == []
    now = api("post", "/segments/preview/", {"definition": PRO}).json()
    assert now["count"] == 2


def test_a_preview_names_the_bad_part_of_the_definition(api, upgraders):
    response = api("post", "/segments/preview/", {"definition": {"match": "some", "conditions": []}})
    assert response.status_code == 400 and "definition.match" in response.json()
    assert api("post", "/segments/preview/", {"as_of": "2026-01-01"}).status_code == 400
    assert api("post", "/segments/preview/", ["not", "an", "object"]).status_code == 400


def test_another_projects_member_gets_404_on_every_history_url(api, pro, bob_api_key):
    person_id = SegmentMembership.objects.filter(segment=pro).first().person_id
    moment = days_ago(2).date().isoformat()
    for method, path in [
        ("get", f"/segments/{pro.pk}/members/?as_of={moment}"),
        ("get", f"/segments/{pro.pk}/history/"),
        ("post", f"/segments/{pro.pk}/history/"),
        ("get", f"/persons/{person_id}/segments/?as_of={moment}"),
        ("post", "/segments/preview/"),
    ]:
        response = api(method, path, {"definition": PRO}, key=bob_api_key)
        assert response.status_code == 404, (method, path)
