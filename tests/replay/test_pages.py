from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from replay.models import Recording
from segments.models import Segment, SegmentMembership
from tests.ingest.conftest import event
from tests.replay import rrweb
from tracking.models import Action

pytestmark = pytest.mark.django_db

UA_FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0"
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


@pytest.fixture
def sessions(record, send, recorded_project):
    """Four recorded sessions that differ in every way the list filters on."""
    with time_machine.travel(NOW, tick=False):
        t = _ms(NOW - timedelta(days=1))
        short = record("s-short", "anon-a", at=t, events=[*rrweb.page(t), rrweb.click(t + 1000)])
        long_events = [
            *rrweb.page(t),
            *[rrweb.mouse_move(t + 1000 * i) for i in range(1, 60)],
            rrweb.scroll(t + 120_000),
        ]
        long = record(
            "s-long", "anon-b", at=t, events=long_events,
            properties={"$current_url": "https://app.example/pricing", "$timezone": "Europe/Paris"},
            headers={"HTTP_USER_AGENT": UA_FIREFOX_MAC},
        )  # fmt: skip
        rage_t = _ms(NOW - timedelta(days=3))
        rage = record(
            "s-rage",
            "anon-c",
            at=rage_t,
            events=[*rrweb.page(rage_t), *[rrweb.click(rage_t + 100 * i) for i in range(3)]],
        )
        dead_t = _ms(NOW - timedelta(days=10))
        dead = record("s-dead", "anon-d", at=dead_t)
        send(
            [
                event(
                    "$dead_click",
                    "anon-d",
                    session_id="s-dead",
                    timestamp=(NOW - timedelta(days=10)).isoformat(),
                )
            ]
        )
    return {"short": short, "long": long, "rage": rage, "dead": dead}


def _listed(client, project, query: str = "", **headers) -> list[str]:
    response = client.get(f"/p/{project.pk}/replay/{query}", **headers)
    assert response.status_code == 200, response.content[:500]
    keys = Recording.objects.filter(project=project).values_list("pk", "session_key")
    html = response.content.decode()
    found = [(html.index(f"/replay/{pk}/"), key) for pk, key in keys if f"/replay/{pk}/" in html]
    return [key for _, key in sorted(found)]


def test_the_list_shows_recordings_newest_first(alice_client, recorded_project, sessions):
    sessions["short"].started_at += timedelta(seconds=5)  # otherwise they started together
    sessions["short"].save()
    assert _listed(alice_client, recorded_project) == ["s-short", "s-long", "s-rage", "s-dead"]


def test_the_list_sorts_by_activity(alice_client, recorded_project, sessions):
    assert _listed(alice_client, recorded_project, "?sort=active")[0] == "s-long"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?browser=Firefox", ["s-long"]),
        ("?os=macOS", ["s-long"]),
        ("?country=FR", ["s-long"]),
        ("?device=desktop", None),
        ("?min_duration=60", ["s-long"]),
        ("?max_duration=10", ["s-short", "s-rage", "s-dead"]),
        ("?min_active=30", ["s-long"]),
        ("?rage=on", ["s-rage"]),
        ("?dead=on", ["s-dead"]),
        ("?session=s-rage", ["s-rage"]),
        ("?date_from=2026-06-12&date_to=2026-06-13", ["s-rage"]),
    ],
)
def test_the_list_filters(alice_client, recorded_project, sessions, query, expected):
    listed = _listed(alice_client, recorded_project, query)
    if expected is None:  # every session is a desktop one
        assert sorted(listed) == sorted(s.session_key for s in sessions.values())
    else:
        assert sorted(listed) == sorted(expected)


def test_the_list_filters_by_person_and_by_persons(alice_client, recorded_project, sessions):
    rage, dead, long = sessions["rage"], sessions["dead"], sessions["long"]
    assert _listed(alice_client, recorded_project, f"?person={rage.person_id}") == ["s-rage"]
    assert sorted(_listed(alice_client, recorded_project, f"?persons={dead.person_id},{long.person_id}")) == [
        "s-dead",
        "s-long",
    ]
    response = alice_client.get(f"/p/{recorded_project.pk}/replay/?person={rage.person_id}")
    assert f"/p/{recorded_project.pk}/persons/{rage.person_id}/" in response.content.decode()


def test_watching_chosen_people_says_why_so_few_sessions_were_recorded(
    alice_client, recorded_project, sessions, send
):
    from tracking.models import Person

    recorded_project.recording_sample_rate = 0.25
    recorded_project.save()
    with time_machine.travel(NOW, tick=False):
        send(
            [
                event(
                    "$pageview",
                    "anon-b",
                    session_id="b-old",
                    timestamp=(NOW - timedelta(days=45)).isoformat(),
                ),
                event(
                    "$pageview",
                    "anon-b",
                    session_id="b-recent",
                    timestamp=(NOW - timedelta(days=2)).isoformat(),
                ),
                event("$pageview", "anon-z", session_id=None),
            ]
        )
        long = sessions["long"]
        no_session = Person.objects.get(project=recorded_project, distinct_ids__distinct_id="anon-z")
        link = f"/p/{recorded_project.pk}/replay/?persons={long.person_id},{no_session.pk}"
        full = alice_client.get(link)
        fragment = alice_client.get(link, HTTP_HX_REQUEST="true")
    assert full.status_code == fragment.status_code == 200
    body = " ".join(full.content.decode().split())
    assert "<strong>1 of 2 people</strong> has a recording: 1 of their 3 sessions was recorded." in body
    assert "this project records 25% of sessions" in body
    assert "1 session began more than 30 days ago, past the recording retention" in body
    assert "1 person has no stored session" in body
    assert "1 recent session sent no recording (most of them not sampled)" in body
    assert 'id="recording-coverage"' not in fragment.content.decode()  # the results alone


def test_watching_chosen_people_with_recording_off_says_so(alice_client, project, send):
    from tracking.models import Person

    send([event("$pageview", "anon-q", session_id="q1")])
    person = Person.objects.get(project=project)
    body = alice_client.get(f"/p/{project.pk}/replay/?persons={person.pk}").content.decode()
    assert "Recording is <strong>off</strong> for this project" in body
    assert "1 session happened while this project had no recording yet." in " ".join(body.split())


def test_the_list_filters_by_segment_members(alice_client, recorded_project, sessions):
    segment = Segment.objects.create(project=recorded_project, name="Strugglers", kind="static")
    for key, exited in (("rage", None), ("dead", NOW)):
        SegmentMembership.objects.create(
            project=recorded_project, segment=segment, person=sessions[key].person, entered_at=NOW - timedelta(days=30),
            exited_at=exited,
        )  # fmt: skip
    assert _listed(alice_client, recorded_project, f"?segment={segment.pk}") == ["s-rage"]


def test_the_list_filters_by_an_action_performed_in_the_session(
    events_backend, alice_client, recorded_project, sessions
):
    action = Action.objects.create(
        project=recorded_project,
        name="Saw pricing",
        steps=[{"event": "$pageview", "url": "/pricing", "url_matching": "contains"}],
    )
    assert _listed(alice_client, recorded_project, f"?action={action.pk}") == ["s-long"]


def test_another_projects_segment_or_action_is_a_bad_filter(
    alice_client, recorded_project, other_project, sessions
):
    theirs = Segment.objects.create(project=other_project, name="Theirs", kind="static")
    their_action = Action.objects.create(project=other_project, name="x", steps=[{"event": "$pageview"}])
    for query in (
        f"?segment={theirs.pk}",
        f"?action={their_action.pk}",
        "?persons=1,x",
        "?min_duration=-1",
        "?date_from=nope",
    ):
        response = alice_client.get(f"/p/{recorded_project.pk}/replay/{query}")
        assert response.status_code == 400, query
        assert 'role="alert"' in response.content.decode()


def test_htmx_gets_the_results_fragment_and_the_full_page_the_same_rows(
    alice_client, recorded_project, sessions
):
    full = _listed(alice_client, recorded_project, "?rage=on")
    fragment = alice_client.get(f"/p/{recorded_project.pk}/replay/?rage=on", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert html.lstrip().startswith('<div id="recording-results">') and "<html" not in html
    assert f"/replay/{sessions['rage'].pk}/" in html and full == ["s-rage"]


def test_the_list_explains_an_empty_project(alice_client, project):
    response = alice_client.get(f"/p/{project.pk}/replay/")
    assert response.status_code == 200
    assert "Recording is off for this project" in response.content.decode()


def test_the_player_page_carries_its_chunks_markers_and_a_strict_script_policy(
    alice_client, recorded_project, record
):
    t = rrweb.now_ms()
    recording = record(
        "s-play", "anon-p", at=t, events=[[*rrweb.page(t), rrweb.click(t + 10)], [rrweb.click(t + 4000)]]
    )
    response = alice_client.get(f"/p/{recorded_project.pk}/replay/{recording.pk}/")

    assert response.status_code == 200
    data = response.context["player_data"]
    assert [c["seq"] for c in data["chunks"]] == [0, 1]
    assert (
        data["chunks"][0]["url"]
        == f"/api/v1/projects/{recorded_project.pk}/recordings/{recording.pk}/chunks/0/"
    )
    assert [m["kind"] for m in data["markers"]] == ["pageview"]
    html = response.content.decode()
    assert 'id="player-data"' in html and "/static/player.js" in html
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip()
    )
    assert policy["script-src"] == "'self'"
    assert {"https:", "data:", "blob:"} <= set(policy["img-src"].split())
    assert {"https:", "data:"} <= set(policy["font-src"].split())
    assert "https:" in policy["style-src"].split()
    assert policy["frame-src"] == "'self'"
    # the rest of the app keeps the strict default
    other = alice_client.get(f"/p/{recorded_project.pk}/replay/")
    assert "https:" not in other["Content-Security-Policy"]


def test_a_missing_recording_is_404(alice_client, recorded_project):
    assert alice_client.get(f"/p/{recorded_project.pk}/replay/999999/").status_code == 404


def test_retention_rules_are_managed_by_owners(alice_client, amos_client, recorded_project):
    segment = Segment.objects.create(project=recorded_project, name="VIP", kind="static")
    url = f"/p/{recorded_project.pk}/replay/retention/"
    assert amos_client.get(url).status_code == 200
    assert amos_client.post(url, {"segment": segment.pk, "days": 120}).status_code == 403
    assert alice_client.post(url, {"segment": segment.pk, "days": 10}).status_code == 400
    response = alice_client.post(url, {"segment": segment.pk, "days": 120})
    assert response.status_code == 302
    rule = recorded_project.recording_retention_rules.get()
    assert (rule.segment, rule.days) == (segment, 120)
    assert "VIP" in alice_client.get(url).content.decode()
    assert amos_client.post(f"{url}{rule.pk}/delete/").status_code == 403
    assert alice_client.post(f"{url}{rule.pk}/delete/").status_code == 302
    assert not recorded_project.recording_retention_rules.exists()


def test_a_recording_has_one_length_on_its_page_its_player_and_its_events(
    alice_client, recorded_project, record, send
):
    t = rrweb.now_ms()
    # recorded for 2 minutes 50.6 seconds; a dead click is noticed 2.5 seconds after the last frame
    recording = record(
        "s-len", "anon-l", at=t, events=[[*rrweb.page(t), rrweb.click(t + 10)], [rrweb.click(t + 170_600)]]
    )
    dead = datetime.fromtimestamp((t + 173_100) / 1000, UTC).isoformat()
    assert send([event("$dead_click", "anon-l", session_id="s-len", timestamp=dead)]).json()["accepted"] == 1
    assert recording.length_ms == 170_600 and recording.duration_seconds == 171

    response = alice_client.get(f"/p/{recorded_project.pk}/replay/{recording.pk}/")
    html = response.content.decode()
    data = response.context["player_data"]
    assert data["duration"] == 170_600 and data["durationText"] == "2:50"
    assert (
        "2m 50s · active" in html and '<span class="player-time" id="player-time">0:00 / 2:50</span>' in html
    )
    dead_marker = data["markers"][-1]
    assert dead_marker["kind"] == "deadclick" and dead_marker["offset"] == 170_600
    assert dead_marker["time"] == "2:50" and dead_marker["label"].endswith("(after the recording ends)")
    assert all(m["offset"] <= data["duration"] for m in data["markers"])
    listing = alice_client.get(f"/p/{recorded_project.pk}/replay/").content.decode()
    assert "2m 50s" in listing and "2m 51s" not in listing
