"""A NUL character (which PostgreSQL stores in no text or jsonb column) is a 400, never a 500.

The API's JSON parser has its own tests in test_api_schema_fuzz; these cover
the other ways text arrives: form and multipart API bodies, uploaded CSVs, query
strings and the web app's own forms.
"""

from __future__ import annotations

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analysis.models import SavedAnalysis
from segments.models import Segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment(project, alice) -> Segment:
    from segments.services import segment_create

    definition = {
        "match": "all",
        "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
    }
    return segment_create(project=project, name="Pro", definition=definition, created_by=alice)


def _bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_a_multipart_api_field_with_a_nul_is_400_and_changes_nothing(client, alice_api_key, project, segment):
    before = Segment.objects.count()
    response = client.post(
        f"/api/v1/projects/{project.pk}/segments/{segment.pk}/freeze/",
        {"name": "h\x00"},
        **_bearer(alice_api_key),
    )
    assert response.status_code == 400
    assert "cannot be stored" in response.json()["detail"]
    assert Segment.objects.count() == before


def test_a_form_encoded_api_field_with_a_nul_is_400(client, alice_api_key, project):
    response = client.post(
        f"/api/v1/projects/{project.pk}/flags/evaluate",
        "distinct_ids=a%00b",
        content_type="application/x-www-form-urlencoded",
        **_bearer(alice_api_key),
    )
    assert response.status_code == 400
    assert "cannot be stored" in response.json()["detail"]


def test_a_csv_upload_with_a_nul_names_the_file(client, alice_api_key, project):
    upload = SimpleUploadedFile("ids.csv", b"distinct_id\nu1\x00\nu2\n", content_type="text/csv")
    response = client.post(
        f"/api/v1/projects/{project.pk}/segments/upload/",
        {"name": "Imported", "file": upload},
        **_bearer(alice_api_key),
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["file"][0]
    assert not Segment.objects.filter(project=project, name="Imported").exists()


def test_a_csv_upload_with_a_nul_is_a_form_error_in_the_web_app(alice_client, project):
    upload = SimpleUploadedFile("ids.csv", b"u1\x00\n", content_type="text/csv")
    response = alice_client.post(
        reverse("segment_upload", kwargs={"project_id": project.pk}), {"name": "Imported", "file": upload}
    )
    assert response.status_code == 200
    assert "NUL character" in response.content.decode()
    assert not Segment.objects.filter(project=project, name="Imported").exists()


@pytest.mark.parametrize("query", ["search=a%00b", "page=%00", "x%00=1"])
def test_a_nul_in_an_api_query_string_is_400(client, alice_api_key, project, query):
    response = client.get(f"/api/v1/projects/{project.pk}/persons/?{query}", **_bearer(alice_api_key))
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize("name", ["persons", "analysis_funnels", "analysis_paths", "segments"])
def test_a_nul_in_a_page_query_string_is_400(alice_client, project, name):
    response = alice_client.get(reverse(name, kwargs={"project_id": project.pk}) + "?q=%00&event_where=a%00")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_in_a_web_form_is_400_and_saves_nothing(alice_client, project):
    response = alice_client.post(
        reverse("analysis_saved_new", kwargs={"project_id": project.pk}),
        {"kind": "funnel", "name": "Checkout\x00", "params": "{}"},
    )
    assert response.status_code == 400
    assert not SavedAnalysis.objects.filter(project=project).exists()


def test_text_without_a_nul_passes_through(alice_client, client, alice_api_key, project):
    assert (
        alice_client.get(reverse("persons", kwargs={"project_id": project.pk}) + "?q=ada").status_code == 200
    )
    response = client.get(f"/api/v1/projects/{project.pk}/persons/?search=ada", **_bearer(alice_api_key))
    assert response.status_code == 200


def test_a_nul_in_an_ingest_query_string_loses_no_event(client, project):
    from tracking.models import Event

    body = orjson.dumps({"api_key": project.public_key, "batch": [{"event": "signup", "distinct_id": "u1"}]})
    response = client.post("/i/v1/batch?ver=%00", data=body, content_type="application/json")
    assert response.status_code == 200
    assert Event.objects.filter(project=project, name="signup").count() == 1
