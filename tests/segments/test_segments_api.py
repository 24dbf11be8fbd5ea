from __future__ import annotations

import pytest

from segments.models import Segment, SegmentMembership
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


@pytest.fixture
def pro_users(send):
    send(
        [
            event(
                "$identify",
                f"user-{i}",
                **{"$set": {"plan": "pro" if i % 2 else "free", "email": f"u{i}@x.io"}},
            )
            for i in range(6)
        ]
    )


def test_a_segment_is_computed_over_history_when_saved(api, pro_users, on_commit):
    with on_commit():
        response = api("post", "/segments/", {"name": "Pro", "kind": "dynamic", "definition": PRO})
    assert response.status_code == 201
    segment = Segment.objects.get(name="Pro")
    assert segment.status == "ready"
    assert segment.size == 3
    members = api("get", f"/segments/{segment.pk}/members/").json()
    assert members["count"] == 3
    assert sorted(m["distinct_ids"][0] for m in members["results"]) == ["user-1", "user-3", "user-5"]
    assert all(m["entered_at"] for m in members["results"])


def test_members_export_as_csv(api, pro_users, on_commit):
    with on_commit():
        segment_id = api("post", "/segments/", {"name": "Pro", "definition": PRO}).json()["id"]
    response = api("get", f"/segments/{segment_id}/members/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    lines = b"".join(response.streaming_content).decode().strip().splitlines()
    assert lines[0] == "person_id,distinct_ids,email,entered_at"
    assert len(lines) == 4 and "u1@x.io" in "".join(lines)


@pytest.mark.parametrize(
    ("definition", "path"),
    [
        ({"match": "all", "conditions": [{"type": "nope"}]}, "definition.conditions[0].type"),
        ({"match": "some", "conditions": []}, "definition.match"),
        ({"match": "all", "conditions": [{"type": "behavior", "event": {"name": "x"}, "count": {"operator": "gte", "value": -1}}]},
         "definition.conditions[0].count.value"),
        ({"match": "all", "conditions": [{"match": "any", "conditions": [{"type": "person", "property": "p", "operator": "regex", "value": "("}]}]},
         "definition.conditions[0].conditions[0].value"),
        ({"match": "all", "conditions": [{"type": "segment", "segment": 999999}]}, "definition.conditions[0].segment"),
        ({"match": "all", "conditions": [{"type": "active_days", "count": {"operator": "gte", "value": 2}}]}, "definition.conditions[0].window"),
        ({"match": "all", "conditions": [{"type": "session", "where": [{"property": "duration_seconds", "operator": "contains", "value": "3"}]}]},
         "definition.conditions[0].where[0].operator"),
        ({"match": "all", "conditions": [{"type": "session", "where": [{"property": "pageview_count", "operator": "gt", "value": "3"}]}]},
         "definition.conditions[0].where[0].value"),
        ({"match": "all", "conditions": [{"type": "session", "where": [{"property": "utm_source", "operator": "gt", "value": "a"}]}]},
         "definition.conditions[0].where[0].operator"),
        ({"match": "all", "conditions": [{"type": "session", "where": [{"property": "utm_source", "operator": "in", "value": []}]}]},
         "definition.conditions[0].where[0].value"),
        ({"match": "all", "conditions": [{"type": "session", "where": [{}, {"property": "landing_page", "operator": "eq", "value": "/"}]}]},
         "definition.conditions[0].where[0].property"),
        ({"match": "all", "conditions": [{"type": "session", "where": {"property": "os"}}]}, "definition.conditions[0].where"),
        ({"match": "all", "conditions": [{"type": "session", "count": {"operator": "most", "value": 1}}]},
         "definition.conditions[0].count.operator"),
        ("not an object", "definition"),
    ],
)  # fmt: skip
def test_an_invalid_definition_is_400_with_the_json_path(api, definition, path):
    response = api("post", "/segments/", {"name": "bad", "definition": definition})
    assert response.status_code == 400
    assert path in response.json(), response.json()
    assert not Segment.objects.exists()


def test_patching_the_definition_recomputes(api, pro_users, on_commit):
    with on_commit():
        segment_id = api("post", "/segments/", {"name": "Pro", "definition": PRO}).json()["id"]
    free = {
        "match": "all",
        "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "free"}],
    }
    with on_commit():
        response = api("patch", f"/segments/{segment_id}/", {"definition": free})
    assert response.status_code == 200
    segment = Segment.objects.get(pk=segment_id)
    assert segment.size == 3
    # the membership history is rebuilt for the new definition: nobody was ever "free and in"
    # before, so the pro members' old periods are gone and the free members' are open
    assert segment.history_built_at is not None
    periods = SegmentMembership.objects.filter(segment=segment)
    assert periods.count() == 3 and not periods.filter(exited_at__isnull=False).exists()


def test_refresh_recomputes_now(api, pro_users, on_commit, send):
    with on_commit():
        segment_id = api("post", "/segments/", {"name": "Pro", "definition": PRO}).json()["id"]
    send([event("$identify", "user-0", **{"$set": {"plan": "pro"}})])
    response = api("post", f"/segments/{segment_id}/refresh/")
    assert response.status_code == 200
    assert response.json()["size"] == 4 and response.json()["entered"] == 1


def test_freeze_and_upload_make_static_segments(api, pro_users, on_commit):
    with on_commit():
        segment_id = api("post", "/segments/", {"name": "Pro", "definition": PRO}).json()["id"]
    frozen = api("post", f"/segments/{segment_id}/freeze/", {"name": "Pro in November"}).json()
    assert frozen["kind"] == "static" and frozen["size"] == 3
    uploaded = api(
        "post", "/segments/upload/", {"name": "Beta list", "distinct_ids": ["user-0", "u5@x.io", "nobody"]}
    )
    assert uploaded.status_code == 201
    assert uploaded.json()["matched"] == 2 and uploaded.json()["unmatched"] == ["nobody"]
    refreshed = api("post", f"/segments/{frozen['id']}/refresh/")
    assert refreshed.status_code == 400


def test_a_person_lists_their_segments(api, pro_users, on_commit, project):
    with on_commit():
        api("post", "/segments/", {"name": "Pro", "definition": PRO})
    person_id = SegmentMembership.objects.first().person_id
    response = api("get", f"/persons/{person_id}/segments/")
    assert response.status_code == 200 and [s["name"] for s in response.json()] == ["Pro"]


def test_another_projects_member_gets_404_everywhere(api, pro_users, on_commit, bob_api_key):
    with on_commit():
        segment_id = api("post", "/segments/", {"name": "Pro", "definition": PRO}).json()["id"]
    person_id = SegmentMembership.objects.first().person_id
    for method, path in [
        ("get", "/segments/"), ("post", "/segments/"), ("get", f"/segments/{segment_id}/"), ("patch", f"/segments/{segment_id}/"),
        ("delete", f"/segments/{segment_id}/"), ("get", f"/segments/{segment_id}/members/"),
        ("post", f"/segments/{segment_id}/refresh/"), ("post", f"/segments/{segment_id}/freeze/"),
        ("get", f"/segments/{segment_id}/history/"), ("get", f"/persons/{person_id}/segments/"), ("post", "/segments/upload/"),
    ]:  # fmt: skip
        assert api(method, path, {"name": "x", "definition": PRO}, key=bob_api_key).status_code == 404, (
            method,
            path,
        )
    assert Segment.objects.count() == 1


def test_a_segment_used_by_another_cannot_be_deleted(api, pro_users, on_commit):
    with on_commit():
        base = api("post", "/segments/", {"name": "Pro", "definition": PRO}).json()["id"]
        api(
            "post",
            "/segments/",
            {
                "name": "Not pro",
                "definition": {
                    "match": "all",
                    "conditions": [{"type": "segment", "segment": base, "negate": True}],
                },
            },
        )
    response = api("delete", f"/segments/{base}/")
    assert response.status_code == 400
    assert "Not pro" in str(response.json())


def test_a_segment_cannot_include_itself(api, on_commit):
    with on_commit():
        first = api("post", "/segments/", {"name": "A", "definition": PRO}).json()["id"]
        second = api(
            "post",
            "/segments/",
            {
                "name": "B",
                "definition": {"match": "all", "conditions": [{"type": "segment", "segment": first}]},
            },
        ).json()["id"]
    response = api(
        "patch",
        f"/segments/{first}/",
        {"definition": {"match": "all", "conditions": [{"type": "segment", "segment": second}]}},
    )
    assert response.status_code == 400
    assert "itself" in str(response.json())


def test_the_csv_export_refuses_strangers_with_a_clean_404(
    api, pro_users, on_commit, bob_api_key, client, project
):
    with on_commit():
        segment_id = api("post", "/segments/", {"name": "Pro", "definition": PRO}).json()["id"]
    response = api("get", f"/segments/{segment_id}/members/?format=csv", key=bob_api_key)
    assert response.status_code == 404
    assert response.json()["detail"]
    anonymous = client.get(f"/api/v1/projects/{project.pk}/segments/{segment_id}/members/?format=csv")
    assert anonymous.status_code in (401, 403)
