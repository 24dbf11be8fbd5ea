"""Company segments through HTTP: created by the API, kept live from ingestion, listed and exported,
reached by people through company_segment, firing webhooks, and targeting flags by company."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from interventions.models import WebhookDelivery
from interventions.services import flag_save, webhook_save
from interventions.targeting import flag_value
from interventions.targeting import forget as forget_decide_cache
from segments.models import CompanyMembership, Segment, SegmentMembership
from segments.refresh import refresh_project, refresh_time_windows
from tests.ingest.conftest import event
from tracking.models import Company

pytestmark = pytest.mark.django_db

ENTERPRISE = {
    "conditions": [{"type": "company", "property": "tier", "operator": "eq", "value": "enterprise"}]
}
TWO_ADMINS = {
    "conditions": [
        {
            "type": "people",
            "definition": {
                "conditions": [{"type": "person", "property": "role", "operator": "eq", "value": "admin"}]
            },
            "count": {"operator": "gte", "value": 2},
        }
    ]
}


def join(distinct_id: str, company: str, traits: dict | None = None, **person_traits):
    """A person saying who they are and which company they work at, as the snippet's identify() and group() do."""
    return [
        event("$identify", distinct_id, **({"$set": person_traits} if person_traits else {})),
        event("$groupidentify", distinct_id, **{"$group_key": company, "$group_set": traits or {}}),
    ]


def _create(api, on_commit, name, definition, subject="company"):
    with on_commit():
        response = api("post", "/segments/", {"name": name, "subject": subject, "definition": definition})
    assert response.status_code == 201, response.json()
    return Segment.objects.get(pk=response.json()["id"])


def _companies(segment) -> set[str]:
    return set(
        CompanyMembership.objects.filter(segment=segment, exited_at=None).values_list(
            "company__key", flat=True
        )
    )


def test_a_company_segment_is_created_listed_and_exported_through_the_api(api, send, on_commit):
    with on_commit():
        send(
            [
                *join("ana", "acme", {"tier": "enterprise", "name": "Acme"}),
                *join("bo", "globex", {"tier": "startup"}),
            ]
        )
    segment = _create(api, on_commit, "Enterprise accounts", ENTERPRISE)
    body = api("get", f"/segments/{segment.pk}/").json()
    assert (body["subject"], body["size"], body["status"]) == ("company", 1, "ready")

    members = api("get", f"/segments/{segment.pk}/members/").json()["results"]
    acme = Company.objects.get(key="acme")
    assert [(m["id"], m["key"], m["properties"]["name"]) for m in members] == [(acme.pk, "acme", "Acme")]

    exported = api("get", f"/segments/{segment.pk}/members/?format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert [(r["company_id"], r["key"], r["name"]) for r in rows] == [(str(acme.pk), "acme", "Acme")]
    lines = b"".join(
        api("get", f"/segments/{segment.pk}/members/?format=ndjson").streaming_content
    ).splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["acme"]

    then = api("get", f"/segments/{segment.pk}/members/?as_of=2026-01-01")
    assert then.status_code == 400
    assert "companies" in then.json()["as_of"][0]


def test_bad_subjects_and_conditions_answer_field_errors(api):
    response = api("post", "/segments/", {"name": "x", "subject": "team", "definition": ENTERPRISE})
    assert response.status_code == 400
    assert "subject" in response.json()
    response = api(
        "post",
        "/segments/",
        {"name": "x", "subject": "company", "definition": {"conditions": [{"type": "last_seen", "operator": "within_last_days", "value": 3}]}},
    )  # fmt: skip
    assert response.status_code == 400
    assert "definition.conditions[0].type" in response.json()


def test_companies_enter_and_leave_as_their_people_and_traits_change(api, send, on_commit, project):
    with on_commit():
        send(join("ana", "acme", role="admin"))
    segment = _create(api, on_commit, "Two admins", TWO_ADMINS)
    assert _companies(segment) == set()

    # a second admin joins: acme enters through the refresh of the touched person's company
    with on_commit():
        send(join("bo", "acme", role="admin"))
    refresh_project(project.pk)
    assert _companies(segment) == {"acme"}

    # bo becomes a viewer: acme leaves
    with on_commit():
        send([event("$identify", "bo", **{"$set": {"role": "viewer"}})])
    refresh_project(project.pk)
    assert _companies(segment) == set()
    assert CompanyMembership.objects.filter(segment=segment, exited_at__isnull=False).count() == 1


def test_a_person_moving_company_is_reflected_by_the_periodic_pass(api, send, on_commit, project):
    with on_commit():
        send([*join("ana", "acme", role="admin"), *join("bo", "acme", role="admin")])
    segment = _create(api, on_commit, "Two admins", TWO_ADMINS)
    assert _companies(segment) == {"acme"}
    with on_commit():
        send(join("bo", "globex"))  # acme is down to one admin, but only globex was touched
    refresh_project(project.pk)
    Segment.objects.filter(pk=segment.pk).update(computed_at="2000-01-01T00:00:00Z")
    refresh_time_windows()
    assert _companies(segment) == set()


def test_people_follow_their_company_into_and_out_of_a_company_segment(api, send, on_commit, project):
    with on_commit():
        send(
            [
                *join("ana", "acme", {"tier": "startup"}),
                *join("cy", "acme"),
                *join("bo", "globex", {"tier": "startup"}),
            ]
        )
    accounts = _create(api, on_commit, "Enterprise accounts", ENTERPRISE)
    people = _create(
        api, on_commit, "At enterprise accounts", {"conditions": [{"type": "company_segment", "segment": accounts.pk}]}, "person"
    )  # fmt: skip
    assert people.size == 0

    # ana's company upgrades: ana and cy (not touched) both enter the people segment
    with on_commit():
        send([event("$groupidentify", "ana", **{"$group_key": "acme", "$group_set": {"tier": "enterprise"}})])
    refresh_project(project.pk)
    open_people = SegmentMembership.objects.filter(segment=people, exited_at=None)
    assert set(open_people.values_list("person__distinct_ids__distinct_id", flat=True)) == {"ana", "cy"}

    # the company segment recomputed after a definition change moves its people as well
    with on_commit():
        api("patch", f"/segments/{accounts.pk}/", {"definition": {"conditions": [{"type": "company", "property": "tier", "operator": "eq", "value": "startup"}]}})  # fmt: skip
    open_people = SegmentMembership.objects.filter(segment=people, exited_at=None)
    assert set(open_people.values_list("person__distinct_ids__distinct_id", flat=True)) == {"bo"}


def test_webhooks_of_a_company_segment_carry_the_company(api, send, on_commit, project):
    with on_commit():
        send(join("ana", "acme", {"tier": "startup"}))
    segment = _create(api, on_commit, "Enterprise accounts", ENTERPRISE)
    webhook_save(project=project, data={"name": "crm", "url": "https://crm.test/hook", "on_entry": True, "on_exit": True, "segments": [segment.pk]})  # fmt: skip
    with on_commit():
        send([event("$groupidentify", "ana", **{"$group_key": "acme", "$group_set": {"tier": "enterprise"}})])
        refresh_project(project.pk)
    [delivery] = WebhookDelivery.objects.filter(event="segment.entered")
    assert delivery.payload["company"]["key"] == "acme"
    assert delivery.payload["company"]["properties"]["tier"] == "enterprise"
    assert "person" not in delivery.payload


def _decide(client, project, distinct_id, company=None):
    body = {"api_key": project.public_key, "distinct_id": distinct_id}
    if company is not None:
        body["groups"] = {"company": company}
    response = client.post("/i/v1/decide", data=json.dumps(body), content_type="text/plain")
    assert response.status_code == 200
    return response.json()["flags"]


def test_flags_target_company_segments_and_bucket_by_company(api, client, send, on_commit, project):
    with on_commit():
        send(
            [
                *join("ana", "acme", {"tier": "enterprise"}),
                *join("cy", "acme"),
                *join("bo", "globex", {"tier": "startup"}),
            ]
        )
    accounts = _create(api, on_commit, "Enterprise accounts", ENTERPRISE)
    flag_save(project=project, data={"key": "sso", "enabled": True, "bucket_by": "company", "rules": [{"segment": accounts.pk, "rollout": 100}]})  # fmt: skip
    flag_save(project=project, data={"key": "beta", "enabled": True, "bucket_by": "company", "rules": [{"segment": None, "rollout": 50}]})  # fmt: skip
    forget_decide_cache(project.pk)

    assert _decide(client, project, "ana")["sso"] is True  # through the person's company
    assert _decide(client, project, "cy")["sso"] is True
    assert _decide(client, project, "bo")["sso"] is False
    assert _decide(client, project, "someone-new")["sso"] is False  # no company: off
    assert (
        _decide(client, project, "someone-new", company="acme")["sso"] is True
    )  # group() sent before ingestion

    # a 50% rollout by company: everyone at a company gets the company's value
    values = {_decide(client, project, f"visitor-{i}", company="initech")["beta"] for i in range(12)}
    assert len(values) == 1
    flag = {
        "key": "beta",
        "enabled": True,
        "bucket_by": "company",
        "rules": [{"segment": None, "rollout": 50}],
    }
    assert values == {flag_value(flag, "anyone", set(), "initech")}
    by_company = {flag_value(flag, "anyone", set(), f"company-{i}") for i in range(40)}
    assert by_company == {True, False}


def test_analysis_compares_the_people_of_company_segments(
    api, client, alice_client, send, on_commit, project
):
    """Acme's two people both bought after a page view, Globex's one did not: the groups are their people."""
    start = datetime.now(UTC) - timedelta(days=3)  # the day to convert in has passed
    then, later = start.isoformat(), (start + timedelta(minutes=5)).isoformat()
    with on_commit():
        send([
            *join("ana", "acme", {"tier": "enterprise"}), *join("cy", "acme"), *join("bo", "globex", {"tier": "startup"}),
            event("$pageview", "ana", timestamp=then), event("purchase", "ana", timestamp=later),
            event("$pageview", "cy", timestamp=then), event("purchase", "cy", timestamp=later),
            event("$pageview", "bo", timestamp=then),
        ])  # fmt: skip
    accounts = _create(api, on_commit, "Enterprise accounts", ENTERPRISE)
    metric = {"kind": "conversion", "definition": {"from": {"name": "$pageview"}, "to": {"name": "purchase"},
                                                   "within": {"value": 1, "unit": "days"}}}  # fmt: skip
    response = alice_client.post(
        f"/api/v1/projects/{project.pk}/analysis/compare/",
        {"metric": metric, "segments": [accounts.pk], "vs_rest": True, "last_days": 7},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    inside, outside = response.json()["groups"]
    assert (inside["label"], inside["n"], inside["successes"]) == ("People at Enterprise accounts", 2, 2)
    assert (outside["label"], outside["n"], outside["successes"]) == (
        "People not at Enterprise accounts",
        1,
        0,
    )


def test_a_company_segment_syncs_its_companies_as_a_daily_file(
    api, send, on_commit, project, settings, tmp_path
):
    from django.core.exceptions import ValidationError

    from interventions.sync_files import sync_file_write
    from interventions.syncs import sync_save

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}  # fmt: skip
    with on_commit():
        send(join("ana", "acme", {"tier": "enterprise", "name": "Acme"}))
    segment = _create(api, on_commit, "Enterprise accounts", ENTERPRISE)
    with pytest.raises(ValidationError) as refused:
        sync_save(project=project, data={"segment": segment.pk, "webhook_url": "https://crm.test/in"})
    assert "webhook_url" in refused.value.message_dict
    sync = sync_save(project=project, data={"segment": segment.pk, "daily_file": True})
    run = sync_file_write(sync=sync)
    with gzip.open(tmp_path / run.file_name) as written:
        rows = list(csv.DictReader(io.TextIOWrapper(written)))
    assert [(r["key"], r["name"]) for r in rows] == [("acme", "Acme")]


def test_a_company_segments_change_is_previewed_in_companies(api, send, on_commit):
    with on_commit():
        send([*join("ana", "acme", {"tier": "enterprise", "name": "Acme"}), *join("bo", "globex", {"tier": "startup", "name": "Globex"})])  # fmt: skip
    segment = _create(api, on_commit, "Enterprise accounts", ENTERPRISE)
    startups = {"conditions": [{"type": "company", "property": "tier", "operator": "eq", "value": "startup"}]}
    body = api("post", f"/segments/{segment.pk}/preview-change/", {"definition": startups}).json()
    assert (body["entering"], body["leaving"], body["staying"]) == (1, 1, 0)
    assert [c["name"] for c in body["sample_entering"]] == ["Globex"]
    assert [c["name"] for c in body["sample_leaving"]] == ["Acme"]
