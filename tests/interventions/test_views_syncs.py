"""Sync pages and API: create and edit, bad input named by field, the secret shown once, files, run now, tenancy."""

from __future__ import annotations

import gzip

import pytest

from interventions.models import SegmentSync, SegmentSyncRun
from interventions.sync_files import sync_file_write
from interventions.syncs import sync_save
from tests.interventions.syncs_helpers import Receiver, enter, people, static_segment

pytestmark = pytest.mark.django_db

HTMX_SECRET = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "sync-secret"}


def url(project, rest: str = "") -> str:
    return f"/p/{project.pk}/interventions/syncs/{rest}"


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


@pytest.fixture
def segment(project):
    made = static_segment(project)
    enter(made, people(project, 3))
    return made


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(list(statuses)))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def api(client, alice_api_key, project):
    def call(method, path, body=None, key=None):
        return getattr(client, method)(
            f"/api/v1/projects/{project.pk}{path}", data=body, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key or alice_api_key}",
        )  # fmt: skip

    return call


def form(segment, **overrides) -> dict:
    data = {"segment": str(segment.pk), "daily_file": "on", "webhook_url": "", "batch_size": "500",
            "push_current_members": "on", "enabled": "on"}  # fmt: skip
    return {**data, **overrides}


def test_the_segment_page_leads_to_its_syncs(alice_client, project, segment):
    page = alice_client.get(f"/p/{project.pk}/segments/{segment.pk}/")
    assert f'href="{url(project)}?segment={segment.pk}"' in page.content.decode()
    listing = alice_client.get(f"{url(project)}?segment={segment.pk}")
    assert listing.status_code == 200 and "No syncs yet" in listing.content.decode()
    new = alice_client.get(f"{url(project, 'new/')}?segment={segment.pk}")
    assert f'<option value="{segment.pk}" selected>' in new.content.decode()


def test_creating_a_sync_writes_its_first_file_and_shows_the_secret_once(
    alice_client, project, segment, on_commit, storage
):
    with on_commit():
        response = alice_client.post(url(project, "new/"), form(segment))
    sync = SegmentSync.objects.get(project=project)
    assert response.status_code == 302 and response["Location"] == url(project, f"{sync.pk}/")
    assert (sync.segment, sync.daily_file, sync.webhook_url, sync.enabled) == (segment, True, "", True)
    run = SegmentSyncRun.objects.get(sync=sync)
    assert run.status == "ok" and run.rows == 3 and (storage / run.file_name).exists()

    first = alice_client.get(response["Location"]).content.decode()
    assert sync.secret in first and run.file_name in first
    assert f'href="{url(project, f"{sync.pk}/files/{run.pk}/")}"' in first
    assert sync.secret not in alice_client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url", "http:// or https://"),
        ({"webhook_url": "https://"}, "webhook_url", "valid URL"),
        ({"batch_size": "0"}, "batch_size", "greater than or equal to 1"),
        ({"batch_size": "many"}, "batch_size", "whole number"),
        (
            {"daily_file": "", "webhook_url": ""},
            "daily_file",
            "Write a daily file, push to a webhook, or both.",
        ),
        ({"segment": "999999999"}, "segment", "Select a valid choice"),
        ({"segment": "x"}, "segment", "Select a valid choice"),
    ],
)
def test_bad_input_is_a_field_error_not_a_500(alice_client, project, segment, overrides, field, message):
    response = alice_client.post(url(project, "new/"), {**form(segment), **overrides})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert not SegmentSync.objects.exists()


def test_another_projects_segment_cannot_be_chosen(alice_client, project, other_project):
    theirs = static_segment(other_project)
    response = alice_client.post(url(project, "new/"), form(theirs))
    assert response.status_code == 200 and "segment" in response.context["form"].errors
    assert not SegmentSync.objects.exists()


def test_editing_keeps_the_segment_and_saves_the_rest(alice_client, project, segment):
    sync = sync_save(project=project, data={"segment": segment.pk})
    other = static_segment(project, "Other")
    response = alice_client.post(
        url(project, f"{sync.pk}/"),
        form(other, webhook_url="https://crm.example.com/in", batch_size="50", enabled=""),
    )
    assert response.status_code == 302
    sync.refresh_from_db()
    assert (sync.segment, sync.webhook_url, sync.batch_size, sync.enabled) == (
        segment, "https://crm.example.com/in", 50, False
    )  # fmt: skip


def test_a_file_downloads_from_storage_for_the_project_only(
    alice_client, bob_client, project, segment, storage
):
    sync = sync_save(project=project, data={"segment": segment.pk})
    run = sync_file_write(sync)
    response = alice_client.get(url(project, f"{sync.pk}/files/{run.pk}/"))
    assert response.status_code == 200 and response["Content-Type"] == "application/gzip"
    assert "attachment" in response["Content-Disposition"]
    text = gzip.decompress(b"".join(response.streaming_content)).decode()
    assert text.count("\n") == 4 and text.startswith("person_id,distinct_ids,email,entered_at")

    assert bob_client.get(url(project, f"{sync.pk}/files/{run.pk}/")).status_code == 404
    (storage / run.file_name).unlink()
    assert alice_client.get(url(project, f"{sync.pk}/files/{run.pk}/")).status_code == 404


def test_run_now_writes_the_file_and_pushes(alice_client, project, segment, receiver, on_commit):
    server = receiver()
    sync = sync_save(
        project=project, data={"segment": segment.pk, "webhook_url": server.url, "batch_size": 2}
    )
    with on_commit():
        response = alice_client.post(url(project, f"{sync.pk}/run/"))
    assert response.status_code == 302
    kinds = sorted(SegmentSyncRun.objects.filter(sync=sync).values_list("kind", "status", "rows"))
    assert kinds == [("file", "ok", 3), ("push", "ok", 3)]
    assert [b["batch"]["count"] for b in server.bodies] == [2, 1]
    page = alice_client.get(url(project, f"{sync.pk}/")).content.decode()
    assert "Latest batches" in page and "told of 3 members" in page


def test_only_owners_and_admins_reveal_or_rotate_the_secret(alice_client, amos_client, project, segment):
    sync = sync_save(project=project, data={"segment": segment.pk})
    assert amos_client.post(url(project, f"{sync.pk}/secret/"), **HTMX_SECRET).status_code in (403, 404)
    revealed = alice_client.post(url(project, f"{sync.pk}/secret/"), **HTMX_SECRET)
    assert revealed.status_code == 200 and sync.secret in revealed.content.decode()
    rotated = alice_client.post(url(project, f"{sync.pk}/secret/rotate/"), **HTMX_SECRET)
    sync.refresh_from_db()
    assert rotated.status_code == 200 and sync.secret in rotated.content.decode()


def test_deleting_asks_first_then_removes_the_sync(alice_client, project, segment):
    sync = sync_save(project=project, data={"segment": segment.pk})
    ask = alice_client.post(url(project, f"{sync.pk}/delete/"))
    assert ask.status_code == 200 and SegmentSync.objects.filter(pk=sync.pk).exists()
    done = alice_client.post(url(project, f"{sync.pk}/delete/"), {"confirm": "yes"})
    assert done.status_code == 302 and not SegmentSync.objects.filter(pk=sync.pk).exists()


def test_another_projects_member_finds_no_sync(bob_client, project, segment):
    sync = sync_save(project=project, data={"segment": segment.pk})
    for path in ("", "run/", "delete/"):
        method = bob_client.get if path == "" else bob_client.post
        assert method(url(project, f"{sync.pk}/{path}")).status_code == 404
    assert SegmentSync.objects.filter(pk=sync.pk).exists()


def test_the_api_creates_lists_updates_runs_and_deletes(api, project, segment):
    created = api(
        "post",
        "/syncs/",
        {"segment": segment.pk, "webhook_url": "https://crm.example.com/in", "batch_size": 100},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (
        body["segment_id"] == segment.pk and body["batch_size"] == 100 and body["secret"].startswith("whsec_")
    )
    sync_id = body["id"]
    assert [s["id"] for s in api("get", "/syncs/").json()] == [sync_id]
    assert api("patch", f"/syncs/{sync_id}/", {"enabled": False}).json()["enabled"] is False
    assert api("post", f"/syncs/{sync_id}/run/").status_code == 202
    runs = api("get", f"/syncs/{sync_id}/runs/")
    assert runs.status_code == 200 and isinstance(runs.json(), list)
    assert api("delete", f"/syncs/{sync_id}/").status_code == 204
    assert api("get", f"/syncs/{sync_id}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": "10"}, "batch_size"),
        ({"batch_size": 10_001}, "batch_size"),
        ({"webhook_url": "not a url"}, "webhook_url"),
        ({"webhook_url": "https://"}, "webhook_url"),
        ({"webhook_url": 5}, "webhook_url"),
        ({"segment": None}, "segment"),
        ({"segment": "1"}, "segment"),
        ({"daily_file": False}, "daily_file"),
        ({"daily_file": "yes"}, "daily_file"),
    ],
)
def test_api_bad_input_names_the_field(api, segment, body, field):
    response = api("post", "/syncs/", {"segment": segment.pk, **body})
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not SegmentSync.objects.exists()


def test_api_another_projects_segment_and_sync_are_not_found(api, project, other_project, bob_api_key):
    theirs = static_segment(other_project)
    assert "segment" in api("post", "/syncs/", {"segment": theirs.pk}).json()
    mine = sync_save(project=project, data={"segment": static_segment(project).pk})
    assert api("get", f"/syncs/{mine.pk}/runs/", key=bob_api_key).status_code in (403, 404)
    assert api("post", f"/syncs/{mine.pk}/run/", key=bob_api_key).status_code in (403, 404)


def test_api_hides_the_secret_from_members_who_do_not_manage(client, project, segment, amos):
    from tracking.services.accounts import api_key_create

    sync = sync_save(project=project, data={"segment": segment.pk})
    key = api_key_create(user=amos, label="amos").secret
    listed = client.get(f"/api/v1/projects/{project.pk}/syncs/", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert listed[0]["id"] == sync.pk and listed[0]["secret"] is None


def test_staff_see_syncs_and_runs_in_the_admin_without_the_secret(staff_client, project, segment):
    sync = sync_save(project=project, data={"segment": segment.pk})
    run = sync_file_write(sync)
    for path in ("interventions/segmentsync/", f"interventions/segmentsync/{sync.pk}/change/",
                 "interventions/segmentsyncrun/", f"interventions/segmentsyncrun/{run.pk}/change/"):  # fmt: skip
        response = staff_client.get(f"/admin/{path}")
        assert response.status_code == 200, path
        assert sync.secret not in response.content.decode()
