"""Segment pages: the list, a segment's page and its parts, refresh, freeze, delete, upload; who may see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from segments.models import Segment, SegmentMembership, SegmentSizeSnapshot, SegmentStatus
from segments.selectors.sizes import size_trends
from segments.services import segment_create, segment_upload
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}
UA_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"


def htmx_to(target: str) -> dict:
    return {**HTMX, "HTTP_HX_TARGET": target}


@pytest.fixture
def people(send):
    """Six identified people, pro when odd; user-1 and user-3 browse with Firefox."""
    batch = [
        event(
            "$identify",
            f"user-{i}",
            session_id=f"s{i}",
            **{"$set": {"plan": "pro" if i % 2 else "free", "email": f"u{i}@x.io"}},
        )
        for i in range(6)
    ]
    assert send(batch).json()["accepted"] == 6
    firefox = [event("$pageview", f"user-{i}", session_id=f"ff{i}") for i in (1, 3)]
    assert send(firefox, headers={"HTTP_USER_AGENT": UA_FIREFOX}).json()["accepted"] == 2


@pytest.fixture
def pro(project, people, on_commit) -> Segment:
    with on_commit():
        segment = segment_create(project=project, name="Pro", description="Paying customers", definition=PRO)
    segment.refresh_from_db()
    assert segment.status == "ready" and segment.size == 3
    return segment


def url(project, rest: str = "") -> str:
    return f"/p/{project.pk}/segments/{rest}"


# -- who may see what ---------------------------------------------------------------------------------

PAGES = [
    "", "new/", "upload/", "{segment}/", "{segment}/edit/", "{segment}/freeze/", "{segment}/delete/", "{segment}/members.csv",
    "suggest/?path=r_0&field=value", "models/", "models/new/lifecycle/", "models/new/custom/", "personas/", "personas/new/",
]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
def test_every_page_answers_a_member_and_is_404_to_another_projects_member(
    alice_client, amos_client, bob_client, project, pro, page
):
    path = url(project, page.format(segment=pro.pk))
    assert alice_client.get(path).status_code == 200
    assert amos_client.get(path).status_code == 200
    assert bob_client.get(path).status_code == 404


@pytest.mark.parametrize("action", ["refresh/", "freeze/", "delete/", "edit/"])
def test_another_projects_member_cannot_change_a_segment(bob_client, project, pro, action):
    response = bob_client.post(
        url(project, f"{pro.pk}/{action}"), {"name": "Mine now", "op": "save", "definition_json": "{}"}
    )
    assert response.status_code == 404
    pro.refresh_from_db()
    assert pro.name == "Pro" and Segment.objects.count() == 1


def test_another_projects_member_cannot_preview_create_or_upload_here(bob_client, project, pro):
    assert bob_client.post(url(project, "preview/"), {"definition_json": "{}"}, **HTMX).status_code == 404
    assert bob_client.post(url(project, "new/"), {"name": "x", "op": "save"}).status_code == 404
    upload = SimpleUploadedFile("ids.csv", b"user-1\n", content_type="text/csv")
    assert bob_client.post(url(project, "upload/"), {"name": "x", "file": upload}).status_code == 404
    assert Segment.objects.count() == 1


def test_a_segment_of_another_project_is_not_found_through_this_projects_urls(
    bob_client, other_project, project, pro
):
    assert bob_client.get(f"/p/{other_project.pk}/segments/{pro.pk}/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, project):
    response = client.get(url(project))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# -- the list ------------------------------------------------------------------------------------------


def test_the_empty_list_explains_segments_and_offers_starters(alice_client, project):
    body = alice_client.get(url(project)).content.decode()
    assert "No segments yet" in body and "A segment is a group of people" in body
    assert "Start from an example" in body and "?starter=active-week" in body
    assert url(project, "upload/") in body and url(project, "models/new/lifecycle/") in body


def test_a_starter_is_created_in_one_click(alice_client, project, people, on_commit):
    page = alice_client.get(url(project)).content.decode()
    start = page.index("<h3>Active this week</h3>")
    form = page[start : page.index("</form>", start)]
    assert 'name="definition_json"' in form
    import re
    from html import unescape

    data = {name: unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', form)}
    with on_commit():
        response = alice_client.post(url(project, "new/"), {**data, "op": "save"})
    assert response.status_code == 302
    segment = Segment.objects.get(name="Active this week")
    assert segment.definition["conditions"][0]["type"] == "last_seen" and segment.size == 6


def test_the_list_shows_kind_status_size_and_the_weekly_movement(alice_client, project, pro):
    body = alice_client.get(url(project)).content.decode()
    assert f'href="{url(project, f"{pro.pk}/")}">Pro</a>' in body
    assert "Paying customers" in body
    assert (
        '<span class="badge accent">dynamic</span>' in body and '<span class="badge ok">ready</span>' in body
    )
    assert "50% of all" in body
    assert '<span class="trend new" title="Younger than a week">new</span>' in body


def test_the_list_polls_while_a_segment_is_computing_and_htmx_gets_the_table_alone(
    alice_client, project, pro
):
    Segment.objects.filter(pk=pro.pk).update(status=SegmentStatus.COMPUTING)
    full = alice_client.get(url(project))
    assert 'hx-trigger="every 3s"' in full.content.decode() and "<html" in full.content.decode()
    fragment = alice_client.get(url(project), **htmx_to("segment-table")).content.decode()
    assert fragment.lstrip().startswith('<section class="card table-scroll" id="segment-table"')
    assert "computing…" in fragment and "<html" not in fragment
    Segment.objects.filter(pk=pro.pk).update(status=SegmentStatus.READY)
    assert (
        'hx-trigger="every 3s"'
        not in alice_client.get(url(project), **htmx_to("segment-table")).content.decode()
    )


def test_an_error_is_shown_with_its_reason(alice_client, project, pro):
    Segment.objects.filter(pk=pro.pk).update(
        status=SegmentStatus.ERROR, status_detail="action 12 no longer exists"
    )
    assert "action 12 no longer exists" in alice_client.get(url(project)).content.decode()
    assert "action 12 no longer exists" in alice_client.get(url(project, f"{pro.pk}/")).content.decode()


@time_machine.travel(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False)
@pytest.mark.parametrize(
    ("week_ago", "now", "direction", "arrow"),
    [
        (100, 120, "growing", "↑"),
        (1000, 1004, "stalling", "→"),
        (100, 100, "stalling", "→"),
        (120, 90, "shrinking", "↓"),
    ],
)
def test_the_weekly_trend_says_growing_stalling_or_shrinking(project, week_ago, now, direction, arrow):
    segment = Segment.objects.create(project=project, name="S", size=now, status="ready")
    today = datetime(2026, 11, 20).date()
    SegmentSizeSnapshot.objects.create(
        project=project, segment=segment, date=today - timedelta(days=9), size=week_ago, entered=week_ago
    )
    SegmentSizeSnapshot.objects.create(
        project=project, segment=segment, date=today - timedelta(days=2), size=now, entered=30, exited=7
    )
    trend = size_trends(project=project, segments=[segment])[segment.pk]
    assert trend.week_ago == week_ago and trend.change == now - week_ago
    assert (trend.direction, trend.arrow) == (direction, arrow)
    assert (
        trend.entered_week == 30 and trend.exited_week == 7
    )  # the snapshot of 9 days ago is outside the week
    assert trend.known_sizes[0] == week_ago and trend.known_sizes[-1] == now


def test_the_trend_shows_on_the_list_with_its_numbers(alice_client, project, pro):
    today = datetime.now(UTC).date()
    SegmentSizeSnapshot.objects.filter(segment=pro).delete()
    SegmentSizeSnapshot.objects.create(
        project=project, segment=pro, date=today - timedelta(days=10), size=2, entered=2
    )
    SegmentSizeSnapshot.objects.create(project=project, segment=pro, date=today, size=3, entered=1)
    body = alice_client.get(url(project)).content.decode()
    assert "↑ growing" in body and "+1" in body and "(+50%)" in body
    assert '<svg class="sparkline"' in body


# -- a segment's page ---------------------------------------------------------------------------------


def test_the_segment_page_shows_size_trend_definition_and_members(alice_client, project, pro):
    body = alice_client.get(url(project, f"{pro.pk}/")).content.decode()
    assert "Computed" in body and "ms; kept live" in body
    assert "50% of 6 people" in body
    assert "entered this week" in body and "exited this week" in body
    assert "plan is “pro”" in body
    member = pro.memberships.order_by("person_id").first()
    assert f'href="/p/{project.pk}/persons/{member.person_id}/"' in body
    assert "<code>user-1</code>" in body and "u1@x.io" in body
    assert f'href="/p/{project.pk}/segments/{pro.pk}/members.csv"' in body
    assert f"/p/{project.pk}/replay/?segment={pro.pk}" in body


def test_the_members_export_is_a_csv_file_for_members_only(alice_client, bob_client, project, pro):
    link = url(project, f"{pro.pk}/members.csv")
    response = alice_client.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    lines = b"".join(response.streaming_content).decode().strip().splitlines()
    assert lines[0] == "person_id,distinct_ids,email,entered_at" and len(lines) == 4
    assert bob_client.get(link).status_code == 404


def test_members_are_paginated_and_htmx_gets_the_next_page_alone(alice_client, project, pro, monkeypatch):
    monkeypatch.setattr("segments.views.pages.MEMBERS_PER_PAGE", 2)
    first = alice_client.get(url(project, f"{pro.pk}/")).content.decode()
    assert "Page 1 of 2" in first and 'href="?page=2#members"' in first
    second = alice_client.get(url(project, f"{pro.pk}/") + "?page=2", **htmx_to("members")).content.decode()
    assert second.lstrip().startswith('<section class="card table-scroll" id="members">')
    assert "Page 2 of 2" in second and "<html" not in second and "u5@x.io" in second
    full = alice_client.get(url(project, f"{pro.pk}/") + "?page=2").content.decode()
    assert "<html" in full and "Page 2 of 2" in full and "u5@x.io" in full


def test_members_break_down_by_their_latest_sessions_browser(alice_client, project, pro):
    body = alice_client.get(
        url(project, f"{pro.pk}/") + "?by=browser", **htmx_to("breakdown")
    ).content.decode()
    assert body.lstrip().startswith('<section class="card" id="breakdown">')
    assert '<span class="label" title="Firefox">Firefox</span>' in body  # user-1 and user-3's latest sessions
    assert "67%" in body and '<span class="label" title="Chrome">Chrome</span>' in body and "33%" in body
    assert "<html" in alice_client.get(url(project, f"{pro.pk}/") + "?by=browser").content.decode()


def test_a_browser_breakdown_says_it_counts_latest_sessions(alice_client, project, pro):
    body = alice_client.get(
        url(project, f"{pro.pk}/") + "?by=browser", **htmx_to("breakdown")
    ).content.decode()
    assert "<h3>Browser of each member&#x27;s latest session</h3>" in body
    assert 'id="breakdown-defined-by"' not in body  # "Pro" says nothing about browsers


def test_a_segment_defined_by_browser_explains_why_other_browsers_appear(
    alice_client, project, people, on_commit
):
    definition = {
        "match": "all",
        "conditions": [
            {"type": "device", "property": "browser", "operator": "eq", "value": "Chrome"},
            {"type": "person", "property": "plan", "operator": "eq", "value": "pro"},
        ],
    }
    with on_commit():
        chrome = segment_create(project=project, name="Chrome pros", definition=definition)
    link = url(project, f"{chrome.pk}/") + "?by=browser"
    for headers in (htmx_to("breakdown"), {}):
        body = alice_client.get(link, **headers).content.decode()
        # user-1 and user-3 qualified with Chrome, and their latest session is Firefox
        assert '<span class="label" title="Firefox">Firefox</span>' in body
        note = body[body.index('id="breakdown-defined-by"') :]
        assert note.startswith(
            'id="breakdown-defined-by">This segment asks for a session whose browser is Chrome;'
        )
        assert "which can be on another browser." in note
    by_os = alice_client.get(
        url(project, f"{chrome.pk}/") + "?by=os", **htmx_to("breakdown")
    ).content.decode()
    assert 'id="breakdown-defined-by"' not in by_os


def test_members_break_down_by_a_person_property(alice_client, project, pro):
    body = alice_client.get(
        url(project, f"{pro.pk}/") + "?by=person&property=email", **htmx_to("breakdown")
    ).content.decode()
    assert "Person property “email”" in body and "u1@x.io" in body and "u2@x.io" not in body
    full = alice_client.get(url(project, f"{pro.pk}/") + "?by=person&property=email").content.decode()
    assert "<html" in full and "Person property “email”" in full


def test_an_unknown_breakdown_names_the_field(alice_client, project, pro):
    body = alice_client.get(
        url(project, f"{pro.pk}/") + "?by=shoe_size", **htmx_to("breakdown")
    ).content.decode()
    assert "Break members down by: Select a valid choice." in body


def test_a_property_breakdown_shown_without_a_property_names_the_field(alice_client, project, pro):
    body = alice_client.get(
        url(project, f"{pro.pk}/") + "?by=company&property=&show=1", **htmx_to("breakdown")
    ).content.decode()
    assert "Property: Name the property to break down by" in body


def test_choosing_a_property_breakdown_waits_for_the_property_without_an_error(alice_client, project, pro):
    for headers in (htmx_to("breakdown"), {}):
        response = alice_client.get(url(project, f"{pro.pk}/") + "?by=person&property=", **headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert 'id="breakdown-waiting"' in body and "then press Show" in body
        assert "Name the property to break down by" not in body and 'role="alert"' not in body
        assert 'name="show" value="1"' in body


def test_while_computing_the_status_polls_and_a_finished_computation_reloads_the_page(
    alice_client, project, pro
):
    Segment.objects.filter(pk=pro.pk).update(status=SegmentStatus.COMPUTING, compute_ms=1234)
    page = alice_client.get(url(project, f"{pro.pk}/")).content.decode()
    assert f'hx-get="/p/{project.pk}/segments/{pro.pk}/?poll=1" hx-trigger="every 2s"' in page
    assert "The last one took 1,234 ms." in page
    poll = alice_client.get(url(project, f"{pro.pk}/") + "?poll=1", **htmx_to("segment-status"))
    assert poll.content.decode().lstrip().startswith('<section class="card status-line" id="segment-status"')
    assert "HX-Refresh" not in poll
    Segment.objects.filter(pk=pro.pk).update(status=SegmentStatus.READY)
    done = alice_client.get(url(project, f"{pro.pk}/") + "?poll=1", **htmx_to("segment-status"))
    assert done["HX-Refresh"] == "true" and "every 2s" not in done.content.decode()


def test_refresh_now_recomputes_over_history(alice_client, project, pro, send):
    send([event("$identify", "user-0", **{"$set": {"plan": "pro"}})])
    response = alice_client.post(url(project, f"{pro.pk}/refresh/"), follow=True)
    assert response.status_code == 200
    assert "1 entered, 0 exited, 4 members" in response.content.decode()
    pro.refresh_from_db()
    assert pro.size == 4


def test_a_static_segment_is_not_refreshed(alice_client, project, people):
    static = segment_upload(project=project, name="Beta", identifiers=["user-1"]).segment
    response = alice_client.post(url(project, f"{static.pk}/refresh/"), follow=True)
    assert "members are fixed" in response.content.decode()
    assert alice_client.get(url(project, f"{static.pk}/refresh/")).status_code == 405


def test_freezing_keeps_todays_members_in_a_static_copy(alice_client, project, pro):
    form = alice_client.get(url(project, f"{pro.pk}/freeze/")).content.decode()
    assert 'value="Pro (' in form
    response = alice_client.post(url(project, f"{pro.pk}/freeze/"), {"name": "Pro in November"})
    frozen = Segment.objects.get(name="Pro in November")
    assert response.status_code == 302 and response["Location"] == url(project, f"{frozen.pk}/")
    assert frozen.kind == "static" and frozen.frozen_from == pro and frozen.size == 3
    assert set(frozen.memberships.values_list("person_id", flat=True)) == set(
        pro.memberships.values_list("person_id", flat=True)
    )
    page = alice_client.get(url(project, f"{frozen.pk}/")).content.decode()
    assert "A frozen copy of" in page and "Refresh now" not in page


def test_freezing_needs_a_name(alice_client, project, pro):
    response = alice_client.post(url(project, f"{pro.pk}/freeze/"), {"name": ""})
    assert response.status_code == 200 and "Name: This field is required." in response.content.decode()
    assert Segment.objects.count() == 1


def test_delete_asks_first_then_deletes(alice_client, project, pro):
    confirm = alice_client.get(url(project, f"{pro.pk}/delete/")).content.decode()
    assert "Delete “Pro”?" in confirm and "3 current members" in confirm
    assert Segment.objects.filter(pk=pro.pk).exists()
    response = alice_client.post(url(project, f"{pro.pk}/delete/"))
    assert response.status_code == 302 and response["Location"] == url(project)
    assert not Segment.objects.filter(pk=pro.pk).exists()
    assert not SegmentMembership.objects.filter(segment_id=pro.pk).exists()


def test_a_segment_used_by_another_is_not_deleted_and_says_why(alice_client, project, pro, on_commit):
    with on_commit():
        segment_create(project=project, name="Pro with email",
                       definition={"match": "all", "conditions": [{"type": "segment", "segment": pro.pk}]})  # fmt: skip
    response = alice_client.post(url(project, f"{pro.pk}/delete/"))
    assert response.status_code == 200
    assert "Used by Pro with email; change those first." in response.content.decode()
    assert Segment.objects.filter(pk=pro.pk).exists()
    assert "Used by" in alice_client.get(url(project, f"{pro.pk}/")).content.decode()


# -- upload ------------------------------------------------------------------------------------------------


def test_an_uploaded_list_counts_matched_and_unmatched(alice_client, project, people):
    upload = SimpleUploadedFile(
        "beta.csv", b"email\nuser-0\nu1@x.io\nU3@X.IO\nnobody@x.io\nghost\n", content_type="text/csv"
    )
    response = alice_client.post(url(project, "upload/"), {"name": "Beta list", "file": upload}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "“Beta list” created: 3 people matched, 2 not found." in body
    assert "Not found: nobody@x.io, ghost." in body
    segment = Segment.objects.get(name="Beta list")
    assert segment.kind == "static" and segment.size == 3 and segment.memberships.count() == 3


def test_an_upload_that_is_not_text_names_the_file_field(alice_client, project):
    upload = SimpleUploadedFile("photo.csv", b"\xff\xfe\x00\x00garbage\xff", content_type="text/csv")
    response = alice_client.post(url(project, "upload/"), {"name": "Bad", "file": upload})
    assert response.status_code == 200
    assert "CSV file: The file must be UTF-8 text" in response.content.decode()
    assert not Segment.objects.exists()


def test_an_upload_without_a_file_names_the_field(alice_client, project):
    response = alice_client.post(url(project, "upload/"), {"name": "Nothing"})
    assert response.status_code == 200 and "CSV file: This field is required." in response.content.decode()


# -- the person page -------------------------------------------------------------------------------------


def test_the_person_page_loads_the_persons_segments(alice_client, project, pro):
    member = pro.memberships.first()
    page = alice_client.get(f"/p/{project.pk}/persons/{member.person_id}/").content.decode()
    assert f'hx-get="/p/{project.pk}/persons/{member.person_id}/segments/" hx-trigger="load"' in page
    assert f'href="/p/{project.pk}/persons/{member.person_id}/segments/"' in page


def test_a_persons_segments_and_history_as_a_fragment_and_as_a_page(alice_client, project, pro, send):
    member = pro.memberships.first()
    send([event("$identify", member.person.distinct_ids.first().distinct_id, **{"$set": {"plan": "free"}})])
    alice_client.post(url(project, f"{pro.pk}/refresh/"))
    path = f"/p/{project.pk}/persons/{member.person_id}/segments/"
    fragment = alice_client.get(path, **HTMX).content.decode()
    assert fragment.lstrip().startswith('<section class="card table-scroll" id="person-segments">')
    assert (
        "In no segment right now." in fragment and "Entries and exits" in fragment and ">Pro</a>" in fragment
    )
    full = alice_client.get(path).content.decode()
    assert "<html" in full and "Segments of" in full and "Entries and exits" in full


def test_a_current_member_is_listed_with_the_date_they_entered(alice_client, project, pro):
    member = pro.memberships.first()
    body = alice_client.get(f"/p/{project.pk}/persons/{member.person_id}/segments/", **HTMX).content.decode()
    assert f'<a class="badge accent" href="/p/{project.pk}/segments/{pro.pk}/">Pro</a>' in body
    assert "still in" in body


def test_another_projects_member_cannot_see_a_persons_segments(bob_client, project, pro):
    member = pro.memberships.first()
    assert bob_client.get(f"/p/{project.pk}/persons/{member.person_id}/segments/", **HTMX).status_code == 404
