"""PostHog's capture shapes at `/e/`, `/i/v0/e/`, `/capture/`, `/batch/`, `/track/`, translated to Sightline's."""

from __future__ import annotations

import base64
import gzip
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import orjson
import pytest
from django.test import override_settings

from tests.ingest.conftest import UA_CHROME
from tracking import elements as chain
from tracking.ingest.compat.posthog_elements import elements_from_chain
from tracking.models import Company, Event, IngestRejection, Person, PersonDistinctId

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("ingest_lane")]


def js_event(project, name="$pageview", distinct_id="anon-1", **properties):
    """An event as posthog-js sends it: the key and distinct id inside the properties."""
    return {
        "uuid": str(uuid.uuid4()),
        "event": name,
        "timestamp": datetime.now(UTC).isoformat(),
        "properties": {
            "token": project.public_key,
            "distinct_id": distinct_id,
            "$session_id": "s-1",
            **properties,
        },
    }


def post(client, path, body: bytes, *, content_type="text/plain", **extra):
    return client.post(path, data=body, content_type=content_type, HTTP_USER_AGENT=UA_CHROME, **extra)


@pytest.mark.parametrize("path", ["/e/", "/i/v0/e/", "/capture/", "/batch/", "/track/", "/i/v0/e", "/batch"])
def test_a_posthog_js_batch_is_stored_at_every_capture_path(client, project, path):
    body = orjson.dumps([js_event(project), js_event(project, "signed_up", plan="pro")])
    response = post(client, path, body)
    assert response.status_code == 200
    assert response.json()["accepted"] == 2
    stored = Event.objects.filter(project=project).order_by("name")
    assert [e.name for e in stored] == ["$pageview", "signed_up"]
    assert "token" not in stored[1].properties and stored[1].properties["plan"] == "pro"
    assert stored[0].session_key == "s-1"


def test_gzip_js_compression_is_read_from_the_query_string(client, project):
    body = gzip.compress(orjson.dumps([js_event(project, "gz")]))
    response = post(client, "/e/?compression=gzip-js&ver=1.449.2&_=1700000000000", body)
    assert response.status_code == 200
    assert Event.objects.get(project=project).name == "gz"


def test_a_gzip_content_encoding_body_is_read(client, project):
    body = gzip.compress(orjson.dumps({"api_key": project.public_key, "batch": [js_event(project, "gz")]}))
    response = post(client, "/batch/", body, content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 200
    assert Event.objects.filter(project=project, name="gz").count() == 1


def test_a_base64_form_body_is_read(client, project):
    encoded = base64.b64encode(orjson.dumps([js_event(project, "b64")])).decode()
    body = f"data={quote(encoded)}".encode()
    response = post(client, "/e/?compression=base64", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert Event.objects.get(project=project).name == "b64"


def test_a_form_body_with_plain_json_data_is_read(client, project):
    body = f"data={quote(orjson.dumps(js_event(project, 'form')).decode())}".encode()
    response = post(client, "/capture/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert Event.objects.get(project=project).name == "form"


def test_a_single_event_with_api_key_or_token_at_the_top_is_stored(client, project):
    for key_field in ("api_key", "token"):
        body = orjson.dumps({key_field: project.public_key, "event": f"by {key_field}", "distinct_id": "u-1"})
        assert post(client, "/capture/", body).status_code == 200
    assert set(Event.objects.values_list("name", flat=True)) == {"by api_key", "by token"}


def test_the_key_may_come_in_the_query_string(client, project):
    body = orjson.dumps([{"event": "q", "properties": {"distinct_id": "u-1"}}])
    assert post(client, f"/e/?token={project.public_key}", body).status_code == 200
    assert Event.objects.get(project=project).name == "q"


def test_an_unknown_key_is_401_and_stores_nothing(client, project):
    body = orjson.dumps([{"event": "x", "properties": {"token": "pk_nope", "distinct_id": "u"}}])
    response = post(client, "/e/", body)
    assert response.status_code == 401
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "query", "status"),
    [
        (b"not json", "", 400),
        (b"", "", 400),
        (b"42", "", 400),
        (b'{"nothing": "here"}', "", 400),
        (b"\x1f\x8bnot really gzip", "", 400),
        (b"data=%%%not-base64", "?compression=base64", 400),
        (b"data=abc", "?compression=lz64", 415),
    ],
)
def test_malformed_bodies_get_a_clear_4xx(client, project, body, query, status):
    response = post(client, f"/e/{query}", body)
    assert response.status_code == status
    assert "error" in response.json()


@override_settings(INGEST_MAX_DECOMPRESSED_BYTES=10_000)
def test_a_gzip_bomb_is_refused_with_413(client, project):
    bomb = gzip.compress(b"[" + b" " * 1_000_000 + b"]")
    response = post(client, "/e/?compression=gzip-js", bomb)
    assert response.status_code == 413


def test_an_untranslatable_event_is_rejected_alone_and_dead_lettered(client, project):
    events = [
        js_event(project, "kept"),
        {"event": "$snapshot", "properties": {"distinct_id": "u", "$snapshot_data": []}},
        {"event": "bad", "properties": "not an object"},
        js_event(project, "bad elements", **{"$elements": "nope"}),
    ]
    response = post(client, "/e/", orjson.dumps(events))
    body = response.json()
    assert response.status_code == 200
    assert body["accepted"] == 1
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert "/s/" in body["rejected"][0]["error"]
    assert list(Event.objects.values_list("name", flat=True)) == ["kept"]
    assert IngestRejection.objects.filter(project=project).count() == 3


def test_identify_merges_the_anonymous_person_into_the_user(client, project):
    first = [js_event(project, "$pageview", "anon-9")]
    assert post(client, "/e/", orjson.dumps(first)).status_code == 200
    identify = {
        **js_event(project, "$identify", "user-9", **{"$anon_distinct_id": "anon-9"}),
        "$set": {"email": "nia@example.com"},
        "$set_once": {"first_plan": "free"},
    }
    assert post(client, "/e/", orjson.dumps([identify])).status_code == 200
    person = PersonDistinctId.objects.get(project=project, distinct_id="user-9").person
    assert PersonDistinctId.objects.get(project=project, distinct_id="anon-9").person_id == person.pk
    assert person.is_identified
    assert person.properties["email"] == "nia@example.com" and person.properties["first_plan"] == "free"
    assert Event.objects.filter(person=person).count() == 2


def test_create_alias_joins_the_previous_id_to_the_alias(client, project):
    post(client, "/batch/", orjson.dumps({"api_key": project.public_key, "batch": [
        {"event": "visited", "distinct_id": "anon-5"},
        {"event": "$create_alias", "distinct_id": "anon-5", "properties": {"distinct_id": "anon-5", "alias": "user-5"}},
    ]}))  # fmt: skip
    assert (
        PersonDistinctId.objects.get(distinct_id="anon-5").person_id
        == PersonDistinctId.objects.get(distinct_id="user-5").person_id
    )
    assert Person.objects.filter(project=project).count() == 1


def test_groupidentify_makes_a_company_and_groups_link_the_person(client, project):
    batch = [
        {"event": "$groupidentify", "distinct_id": "u-1",
         "properties": {"$group_type": "company", "$group_key": "acme", "$group_set": {"plan": "enterprise"}}},
        {"event": "report_run", "distinct_id": "u-2", "properties": {"$groups": {"company": "globex"}}},
    ]  # fmt: skip
    response = post(client, "/batch/", orjson.dumps({"api_key": project.public_key, "batch": batch}))
    assert response.status_code == 200
    acme = Company.objects.get(project=project, key="acme")
    assert acme.properties == {"plan": "enterprise"}
    assert PersonDistinctId.objects.get(distinct_id="u-1").person.company_id == acme.pk
    assert PersonDistinctId.objects.get(distinct_id="u-2").person.company.key == "globex"


def test_pageleave_gets_time_on_page_and_scroll_depth_from_posthog_js_names(client, project):
    leave = js_event(
        project,
        "$pageleave",
        **{"$prev_pageview_duration": 12.5, "$prev_pageview_max_scroll_percentage": 0.8},
    )
    post(client, "/e/", orjson.dumps([leave]))
    stored = Event.objects.get(project=project)
    assert stored.properties["$time_on_page"] == 12.5 and stored.properties["$scroll_depth"] == 80


def test_offset_timestamps_are_placed_relative_to_the_send_time(client, project):
    sent = datetime.now(UTC)
    body = orjson.dumps(
        [{"event": "late", "offset": 60_000, "properties": {"token": project.public_key, "distinct_id": "u"}}]
    )
    post(client, f"/e/?_={int(sent.timestamp() * 1000)}", body)
    stored = Event.objects.get(project=project)
    assert abs(stored.timestamp - (sent - timedelta(minutes=1))) < timedelta(seconds=5)


POSTHOG_ELEMENTS = [
    {"tag_name": "button", "$el_text": "Start trial", "classes": ["btn", "btn-primary"], "attr__id": "start-trial",
     "attr__class": "btn btn-primary", "attr__data-plan": "pro", "attr__style": "color: red", "nth_child": 2,
     "nth_of_type": 1},
    {"tag_name": "div", "classes": ["hero"], "attr__class": "hero", "nth_child": 1, "nth_of_type": 1},
    {"tag_name": "body", "nth_child": 2, "nth_of_type": 1},
]  # fmt: skip


def test_posthog_js_elements_become_the_snippets_element_chain(client, project):
    click = js_event(project, "$autocapture", **{"$event_type": "click", "$elements": POSTHOG_ELEMENTS})
    post(client, "/e/", orjson.dumps([click]))
    stored = Event.objects.get(project=project)
    assert chain.decode(stored.elements_chain) == [
        {"tag": "button", "classes": ["btn", "btn-primary"], "id": "start-trial", "nth_child": 2, "nth_of_type": 1,
         "attrs": {"data-plan": "pro"}, "text": "Start trial"},
        {"tag": "div", "classes": ["hero"], "nth_child": 1, "nth_of_type": 1},
        {"tag": "body", "nth_child": 2, "nth_of_type": 1},
    ]  # fmt: skip


def test_an_elements_chain_string_alone_gives_the_same_chain(client, project):
    text = (
        'button.btn.btn-primary:attr__class="btn btn-primary"attr__data-plan="pro"attr__id="start-trial"'
        'attr_id="start-trial"nth-child="2"nth-of-type="1"text="Start trial";'
        'div.hero:attr__class="hero"nth-child="1"nth-of-type="1";body:nth-child="2"nth-of-type="1"'
    )
    click = js_event(project, "$autocapture", **{"$event_type": "click", "$elements_chain": text})
    post(client, "/e/", orjson.dumps([click]))
    stored = Event.objects.get(project=project)
    assert chain.decode(stored.elements_chain)[0]["id"] == "start-trial"
    assert chain.decode(stored.elements_chain)[0]["attrs"] == {"data-plan": "pro"}
    assert [e["tag"] for e in chain.decode(stored.elements_chain)] == ["button", "div", "body"]
    assert "$elements_chain" not in stored.properties


def test_an_elements_chain_keeps_quotes_and_colons_inside_values():
    elements = elements_from_chain(
        'a.hover:underline:attr__href="/x;y"text="say \\"hi\\"";body:nth-child="1"'
    )
    assert elements[0]["classes"] == ["hover:underline"]
    assert elements[0]["attrs"] == {"href": "/x;y"} and elements[0]["text"] == 'say "hi"'
    assert elements[1]["tag"] == "body"


def test_a_client_cannot_smuggle_a_translation_marker_past_validation(send, project):
    marker = {"$untranslatable": [[[["deep"]]]], "event": "x", "distinct_id": "u"}
    response = send([marker])
    assert response.status_code == 200
    assert response.json()["rejected"] == [{"index": 0, "error": "event could not be translated"}]
