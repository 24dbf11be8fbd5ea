"""Segment's HTTP Tracking API at `/v1/…`, translated to Sightline's events, persons and companies."""

from __future__ import annotations

import base64
import gzip

import orjson
import pytest

from tests.ingest.conftest import UA_CHROME
from tracking.models import Company, Event, IngestRejection, PersonDistinctId

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ingest_lane")]


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.fixture
def segment(client, project):
    def post(path, body, *, key=None, headers=None, encode=True):
        data = orjson.dumps(body) if encode else body
        extra = {"HTTP_USER_AGENT": UA_CHROME, **(headers or {})}
        if key is not False:
            extra["HTTP_AUTHORIZATION"] = basic(key or project.public_key)
        return client.post(path, data=data, content_type="application/json", **extra)

    return post


def test_track_keeps_its_name_and_properties(segment, project):
    response = segment(
        "/v1/track",
        {"userId": "u-1", "event": "Order Completed", "properties": {"total": 42},
         "context": {"page": {"url": "https://shop.example/checkout"}, "library": {"name": "analytics-python"}},
         "messageId": "4a0f3c4e-4d55-4f8f-9f83-8f4d3b8f5a11", "timestamp": "2026-12-01T10:00:00Z"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json()["success"] is True
    stored = Event.objects.get(project=project)
    assert stored.name == "Order Completed"
    assert stored.properties["total"] == 42 and stored.properties["$lib"] == "analytics-python"
    assert stored.url == "https://shop.example/checkout"
    assert str(stored.uuid) == "4a0f3c4e-4d55-4f8f-9f83-8f4d3b8f5a11"


def test_a_message_id_that_is_not_a_uuid_still_makes_a_retry_idempotent(segment, project):
    message = {"anonymousId": "a-1", "event": "Clicked", "messageId": "ajs-next-1f2e3d"}
    assert segment("/v1/track", message).status_code == 200
    assert segment("/v1/t", message).status_code == 200
    assert Event.objects.filter(project=project).count() == 1


def test_page_and_screen_become_pageview_and_screen(segment, project):
    segment("/v1/page", {"anonymousId": "a-1", "name": "Pricing",
                         "properties": {"url": "https://app.example/pricing?x=1", "referrer": "https://g.example/"}})  # fmt: skip
    segment("/v1/screen", {"anonymousId": "a-1", "name": "Home"})
    page = Event.objects.get(project=project, name="$pageview")
    assert page.properties["$pathname"] == "/pricing" and page.properties["$page_name"] == "Pricing"
    assert page.properties["$referrer"] == "https://g.example/"
    assert Event.objects.get(project=project, name="$screen").properties["$screen_name"] == "Home"


def test_identify_merges_the_anonymous_id_and_sets_traits(segment, project):
    segment("/v1/page", {"anonymousId": "anon-3", "properties": {"url": "https://app.example/"}})
    response = segment(
        "/v1/identify", {"userId": "user-3", "anonymousId": "anon-3", "traits": {"email": "ada@example.com"}}
    )
    assert response.status_code == 200
    person = PersonDistinctId.objects.get(project=project, distinct_id="user-3").person
    assert PersonDistinctId.objects.get(project=project, distinct_id="anon-3").person_id == person.pk
    assert person.properties["email"] == "ada@example.com" and person.is_identified


def test_group_traits_become_company_traits(segment, project):
    segment(
        "/v1/group", {"userId": "user-4", "groupId": "acme", "traits": {"name": "Acme", "employees": 120}}
    )
    company = Company.objects.get(project=project, key="acme")
    assert company.properties == {"name": "Acme", "employees": 120}
    assert PersonDistinctId.objects.get(distinct_id="user-4").person.company_id == company.pk


def test_alias_merges_two_identities(segment, project):
    segment("/v1/track", {"anonymousId": "old-7", "event": "Visited"})
    segment("/v1/alias", {"previousId": "old-7", "userId": "new-7"})
    assert (
        PersonDistinctId.objects.get(distinct_id="old-7").person_id
        == PersonDistinctId.objects.get(distinct_id="new-7").person_id
    )


def test_a_batch_with_the_write_key_in_the_body_and_gzip(client, project):
    body = {
        "writeKey": project.public_key,
        "sentAt": "2026-12-01T10:00:05Z",
        "batch": [
            {"type": "track", "anonymousId": "a-1", "event": "A"},
            {"type": "wat", "anonymousId": "a-1"},
            {"type": "track", "event": "no one"},
            {"type": "page", "anonymousId": "a-1"},
        ],
    }
    response = client.post(
        "/v1/batch",
        data=gzip.compress(orjson.dumps(body)),
        content_type="text/plain",
        HTTP_CONTENT_ENCODING="gzip",
    )
    assert response.status_code == 200
    assert response.json()["accepted"] == 2
    assert [r["index"] for r in response.json()["rejected"]] == [1, 2]
    assert set(Event.objects.values_list("name", flat=True)) == {"A", "$pageview"}
    assert IngestRejection.objects.filter(project=project).count() == 2


def test_a_wrong_write_key_is_401(segment, project):
    response = segment("/v1/track", {"userId": "u", "event": "x"}, key="pk_unknown")
    assert response.status_code == 401
    response = segment("/v1/track", {"userId": "u", "event": "x"}, key=False)
    assert response.status_code == 401
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/track", b"not json", 400),
        ("/v1/track", b"[1, 2]", 400),
        ("/v1/batch", b'{"batch": "no"}', 400),
        ("/v1/track", b'{"userId": "u"}', 400),
        ("/v1/group", b'{"userId": "u"}', 400),
        ("/v1/alias", b'{"userId": "u"}', 400),
        ("/v1/identify", b'{"traits": {}}', 400),
    ],
)
def test_bad_input_gets_a_clear_4xx(segment, path, body, status):
    response = segment(path, body, encode=False)
    assert response.status_code == status
    assert response.json()["error"]


def test_a_preflight_allows_the_authorization_header(client):
    response = client.options("/v1/t", HTTP_ORIGIN="https://shop.example")
    assert response.status_code == 204
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert response["Access-Control-Allow-Origin"] == "*"


def _reload(project, **fields):
    from tracking.ingest.http import forget_project_cache

    for name, value in fields.items():
        setattr(project, name, value)
    project.save()
    forget_project_cache()


def test_allowed_origins_do_not_track_and_the_rate_limit_apply_as_on_i_v1(segment, client, project):
    message = {"userId": "u-1", "event": "x"}
    _reload(project, allowed_origins="https://www.acme.test")
    assert segment("/v1/track", message, headers={"HTTP_ORIGIN": "https://evil.test"}).status_code == 403
    assert segment("/v1/track", message, headers={"HTTP_ORIGIN": "https://www.acme.test"}).status_code == 200
    _reload(project, allowed_origins="", respect_dnt=True)
    dropped = segment("/v1/track", message, headers={"HTTP_DNT": "1"})
    assert dropped.status_code == 200 and dropped.json()["dropped"] == 1
    assert Event.objects.count() == 1
    _reload(project, respect_dnt=False, ingest_rate_limit=3)
    batch = {"batch": [{"type": "track", "userId": "u", "event": "e"}] * 2}
    codes = [segment("/v1/batch", batch).status_code for _ in range(4)]
    assert 429 in codes


def test_the_posthog_endpoints_share_the_same_rules(client, project):
    _reload(project, allowed_origins="https://www.acme.test", respect_dnt=True)
    body = orjson.dumps([{"event": "x", "properties": {"token": project.public_key, "distinct_id": "u"}}])
    response = client.post("/e/", data=body, content_type="text/plain", HTTP_ORIGIN="https://evil.test")
    assert response.status_code == 403
    response = client.post(
        "/e/", data=body, content_type="text/plain", HTTP_ORIGIN="https://www.acme.test", HTTP_SEC_GPC="1"
    )
    assert response.json() == {
        "status": 1,
        "accepted": 0,
        "rejected": [],
        "dropped": 1,
        "reason": "do not track",
    }
    too_many = orjson.dumps([{"event": "x", "properties": {"distinct_id": "u"}}] * 1001)
    response = client.post(f"/e/?token={project.public_key}", data=too_many, content_type="text/plain")
    assert response.status_code == 413
    assert Event.objects.count() == 0
