"""Building a segment of companies in the web UI: its condition types, a people condition's nested
conditions, the live count of companies, errors on nested fields, saving, and the segment's page."""

from __future__ import annotations

import pytest

from segments.models import Segment
from tests.ingest.conftest import event
from tests.segments.test_views_builder import HTMX, form_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(project):
    base = f"/p/{project.pk}/segments"
    return {"new": f"{base}/new/?subject=company", "post": f"{base}/new/", "base": base}


@pytest.fixture
def accounts(send, on_commit):
    batch = []
    for company, people in (("acme", ["admin", "admin", "viewer"]), ("globex", ["admin"]), ("initech", [])):
        for i, role in enumerate(people):
            who = f"{company}-{i}"
            batch += [
                event("$identify", who, **{"$set": {"role": role}}),
                event(
                    "$groupidentify", who, **{"$group_key": company, "$group_set": {"name": company.title()}}
                ),
            ]
    with on_commit():
        assert send(batch).json()["accepted"] == len(batch)


def _post(client, url, fields, **headers):
    return client.post(url, fields, **headers)


def test_the_company_builder_offers_company_conditions_and_counts_companies(
    alice_client, urls, accounts, on_commit
):
    body = alice_client.get(urls["new"]).content.decode()
    assert "New segment of companies" in body and "Companies that match" in body
    assert 'value="people"' in body and 'value="company_segment"' not in body
    assert 'value="behavior"' not in body  # events belong to people: through "How many of its people…"
    assert 'name="subject" value="company"' in body

    # switch the first condition to "How many of its people…": a nested person condition appears
    fields = form_fields(body)
    fields.update({"n-r_0-type": "people", "op": "refresh"})
    tree = _post(alice_client, urls["post"], fields, **HTMX).content.decode()
    assert 'name="n-r_0-kind" value="people"' in tree and 'name="n-r_0_0-type"' in tree

    # at least 2 people with role admin: only acme
    fields = form_fields(f'<form id="builder-form">{tree}<input name="subject" value="company"></form>')
    fields.update({"n-r_0-count_operator": "gte", "n-r_0-count_value": "2", "n-r_0_0-property": "role",
                   "n-r_0_0-operator": "eq", "n-r_0_0-value": "admin", "op": "preview"})  # fmt: skip
    page = _post(alice_client, urls["post"], fields).content.decode()
    assert 'id="preview-count">1<' in page
    label = page[page.index('class="stat-label"') :][:200]
    assert "company matches" in label and "of 2" in label, label  # initech has nobody: never created

    # a condition added inside the people condition lands in its nested group
    fields = form_fields(page)
    fields.update({"n-r_0-new": "person", "op": "add:r_0"})
    tree = _post(alice_client, urls["post"], fields, **HTMX).content.decode()
    assert 'name="n-r_0_1-type"' in tree and 'name="n-r_1-type"' not in tree

    # saved: a company segment with the nested definition, computed, listing acme
    fields = form_fields(page)
    fields.update({"name": "Two admins", "op": "save"})
    with on_commit():
        response = _post(alice_client, urls["post"], fields)
    segment = Segment.objects.get(name="Two admins")
    assert response.status_code == 302 and segment.is_company
    assert segment.definition["conditions"][0]["definition"]["conditions"][0]["value"] == "admin"
    detail = alice_client.get(f"{urls['base']}/{segment.pk}/").content.decode()
    assert 'id="segment-subject"' in detail and ">Acme</a>" in detail and "of 2 companies" in detail
    assert "Watch this segment" not in detail


def test_an_error_inside_a_people_condition_lands_on_its_field(alice_client, urls, accounts):
    fields = form_fields(alice_client.get(urls["new"]).content.decode())
    fields.update({"n-r_0-type": "people", "op": "refresh"})
    tree = _post(alice_client, urls["post"], fields, **HTMX).content.decode()
    fields = form_fields(f'<form id="builder-form">{tree}<input name="subject" value="company"></form>')
    fields.update({"n-r_0_0-property": "role", "n-r_0_0-operator": "in", "n-r_0_0-value": "", "n-r_0_0-value_json": "",
                   "n-r_0-count_value": "-1", "name": "Broken", "op": "save"})  # fmt: skip
    page = _post(alice_client, urls["post"], fields).content.decode()
    assert not Segment.objects.filter(name="Broken").exists()
    errors = (
        page[page.index('id="definition-errors"') :][:600]
        if 'id="definition-errors"' in page
        else page[-3000:]
    )
    assert "People condition 1, condition 1 · value" in errors and 'id="e-r_0_0-value"' in page, errors
    # with the nested condition fixed, the count's error lands on the people condition itself
    fields.update({"n-r_0_0-operator": "eq", "n-r_0_0-value": "admin"})
    page = _post(alice_client, urls["post"], fields).content.decode()
    assert not Segment.objects.filter(name="Broken").exists()
    assert 'id="e-r_0-count_value"' in page


def test_people_pick_company_segments_in_the_person_builder(alice_client, project, accounts):
    from segments.services import segment_create

    segment_create(project=project, name="Accounts", subject="company", definition={"conditions": []})
    url = f"/p/{project.pk}/segments/new/"
    body = alice_client.get(url).content.decode()
    assert 'value="company_segment"' in body
    fields = form_fields(body)
    fields.update({"n-r_0-type": "company_segment", "op": "refresh"})
    tree = alice_client.post(url, fields, **HTMX).content.decode()
    assert "works at a company in" in tree and ">Accounts</option>" in tree
