"""Session replay in Debian's Chromium: the demo site records, the player rebuilds it safely.

The replay app's browser tests; they live here to share this folder's browser (one
Playwright per test run). Unit and HTTP tests of replay are in tests/replay.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable

import orjson
import pytest

from demo.services import DEMO_EMAIL, DEMO_PASSWORD, demo_ensure
from replay.blobs import blob_write, compress
from replay.models import Recording, RecordingChunk
from tests.bundles import bundles_build
from tests.replay import rrweb
from tracking.models import Session

pytestmark = pytest.mark.e2e

PASSWORD = "pw-canary-9a8b7c"
COMPANY = "company-canary-3d2e1f"
NAME = "Name Canary Qx"
SIGNUP_HEADING = "Start your 14-day free trial"
RECORDER_READY = "() => !!(window.sightlineRecorder && window.sightlineRecorder.started)"


@pytest.fixture(autouse=True)
def _bundles(browser):
    bundles_build()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Recording files of each test in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _until(page, check: Callable[[], object], *, timeout: float = 10.0, what: str = "condition"):
    """Poll the database through the page (Playwright serves the browser only while one of its calls runs)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)


def _events(recording: Recording) -> list[dict]:
    from replay.selectors import chunk_json

    events = []
    for chunk in recording.chunks.order_by("first_timestamp", "seq"):
        events += orjson.loads(chunk_json(chunk))
    return events


def _log_in(page, next_url: str) -> None:
    page.goto(f"/login/?next={next_url}")
    page.fill("#id_username", DEMO_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def _open_player(page, recording: Recording) -> object:
    """The player page, fully loaded; returns the frame the recorded page is rebuilt in."""
    _log_in(page, f"/p/{recording.project_id}/replay/{recording.pk}/")
    page.wait_for_selector("body[data-player-ready]", state="attached", timeout=15000)
    iframe = page.locator(".replayer-wrapper iframe")
    assert iframe.get_attribute("sandbox") == "allow-same-origin"  # never allow-scripts
    return iframe.element_handle().content_frame()


def _browse_the_demo(page) -> None:
    page.goto("/demo/signup/")
    page.wait_for_function(RECORDER_READY)
    page.fill("#signup-name", NAME)
    page.click("#signup-password")
    page.keyboard.type(PASSWORD, delay=15)
    page.click("#signup-company")
    page.keyboard.type(COMPANY, delay=15)
    page.mouse.move(200, 200)
    page.mouse.move(400, 300, steps=5)
    page.click("#signup-email")
    page.wait_for_timeout(300)
    page.click("header a.nav-link[href='/demo/pricing/']")
    page.wait_for_url("**/demo/pricing/")
    page.wait_for_function(RECORDER_READY)
    page.mouse.wheel(0, 500)
    page.wait_for_timeout(300)
    page.click("header a.nav-link[href='/demo/board/']")
    page.wait_for_url("**/demo/board/")
    page.wait_for_function(RECORDER_READY)


def test_the_demo_is_recorded_masked_and_played_back(page, server_tap):
    started = time.monotonic()
    _browse_the_demo(page)
    session_key = page.evaluate(
        "() => JSON.parse(localStorage.getItem('sl_' + document.querySelector('script[data-key]').dataset.key)).s"
    )
    project = demo_ensure().project

    def recorded() -> Recording | None:
        recording = Recording.objects.filter(project=project, session_key=session_key).first()
        return recording if recording and recording.page_count >= 3 and recording.session_id else None

    recording = _until(page, recorded, what="three recorded pages")
    recording_seconds = time.monotonic() - started
    assert recording.first_url.endswith("/demo/signup/")
    assert recording.click_count >= 3
    assert recording.active_seconds >= 1
    assert recording.chunk_count >= 3
    assert Session.objects.get(pk=recording.session_id).has_recording
    chunk_posts = [s for s in server_tap.received if s.path == "/i/v1/recording"]
    assert any(s.raw[:2] == b"\x1f\x8b" for s in chunk_posts)  # gzipped by CompressionStream
    for secret in (PASSWORD, COMPANY, NAME):
        assert not any(secret.encode() in s.body for s in server_tap.received), f"{secret!r} left the page"
    print(
        f"\nrecorded {recording.page_count} pages in {recording.chunk_count} chunks, {recording.size_bytes} bytes "
        f"stored; {recording.size_bytes / max(recording_seconds, 1) * 60 / 1000:.1f} kB per minute of this short visit"
    )

    # The player: the signup page as it was once the fields were filled, inputs masked.
    events = _events(recording)
    start = min(e["timestamp"] for e in events)
    second_page = next(
        e["timestamp"] for e in events if e["type"] == 4 and e["data"]["href"].endswith("/pricing/")
    )
    typed = max(
        e["timestamp"]
        for e in events
        if e["type"] == 3 and e["data"].get("source") == 5 and e["timestamp"] < second_page
    )
    frame = _open_player(page, recording)
    page.evaluate("t => window.sightlinePlayer.pause(t)", typed - start + 20)
    assert frame.locator("h1").first.text_content().strip() == SIGNUP_HEADING
    assert frame.locator("#signup-password").input_value() == "*" * len(PASSWORD)
    assert frame.locator("#signup-company").input_value() == "*" * len(COMPANY)
    assert frame.locator("#signup-name").input_value() == "*" * len(NAME)
    html = frame.content()
    assert PASSWORD not in html and COMPANY not in html and NAME not in html

    # Markers and the event list seek the player.
    assert page.locator(".player-marker.marker-pageview").count() >= 3
    page.locator("#player-events button.marker-pageview").nth(1).click()
    position = page.evaluate("() => window.sightlinePlayer.getCurrentTime()")
    assert abs(position - (second_page - start)) < 3000
    page.click("#player-play")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.sightlinePlayer.getCurrentTime()") > position
    assert page.evaluate("() => window.__pwned") is None


def _forged_snapshot(t: int) -> list[dict]:
    body = [
        rrweb.element("h1", {}, [rrweb.text("Forged page")]),
        rrweb.element("script", {}, [rrweb.text("window.top.__pwned = 'script'")]),
        rrweb.element("img", {"src": "data:,x", "onerror": "window.top.__pwned = 'onerror'"}),
        rrweb.element(
            "img",
            {
                "src": "/nope.png",
                "onload": "window.top.__pwned = 'onload'",
                "onerror": "window.top.__pwned = 'onerror2'",
            },
        ),
        rrweb.element(
            "a", {"id": "bad-link", "href": "javascript:window.top.__pwned = 'href'"}, [rrweb.text("link")]
        ),
        rrweb.element("iframe", {"srcdoc": "<script>window.top.__pwned = 'srcdoc'</script>"}),
        rrweb.element("iframe", {"src": "javascript:window.top.__pwned = 'frame-src'"}),
        rrweb.element(
            "svg",
            {"onload": "window.top.__pwned = 'svg'"},
            [rrweb.element("script", {}, [rrweb.text("window.top.__pwned = 'svg-script'")])],
        ),
        rrweb.element("object", {"data": "javascript:window.top.__pwned = 'object'"}),
        rrweb.element(
            "meta", {"http-equiv": "refresh", "content": "0;url=javascript:window.top.__pwned='refresh'"}
        ),
        rrweb.element(
            "details", {"open": "", "ontoggle": "window.top.__pwned = 'toggle'"}, [rrweb.text("x")]
        ),
    ]
    return [
        rrweb.meta(t, "https://forged.example/"),
        rrweb.full_snapshot(t + 1, *body),
        rrweb.mutation(
            t + 500,
            adds=[
                rrweb.add(
                    5, rrweb.element("img", {"src": "data:,y", "onerror": "window.top.__pwned = 'mutation'"})
                )
            ],
        ),
        rrweb.click(t + 1000),
    ]


def _assert_nothing_ran(page, frame) -> None:
    page.evaluate("() => window.sightlinePlayer.pause(window.sightlinePlayer.getMetaData().totalTime)")
    page.wait_for_timeout(500)
    assert frame.locator("h1").first.text_content() == "Forged page"  # it did render
    assert page.evaluate("() => window.__pwned") is None
    assert frame.evaluate("() => window.__pwned") is None


def test_a_forged_recording_is_stored_sanitised_and_plays_without_running_anything(page, site):
    project = demo_ensure().project
    response = page.request.post(
        f"{site}/i/v1/recording",
        data=orjson.dumps(
            {
                "api_key": project.public_key,
                "session_id": "s-forged",
                "distinct_id": "attacker",
                "seq": 0,
                "events": _forged_snapshot(rrweb.now_ms()),
            }
        ),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status == 200
    recording = Recording.objects.get(project=project, session_key="s-forged")
    assert recording.sanitized
    stored = orjson.dumps(_events(recording))
    assert b"__pwned" not in stored

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    frame = _open_player(page, recording)
    _assert_nothing_ran(page, frame)
    assert not dialogs


def test_an_unsanitised_chunk_still_cannot_run_in_the_player(page, site):
    """Defence in depth: even a blob that skipped sanitising (an older or tampered file) runs nothing."""
    project = demo_ensure().project
    t = rrweb.now_ms()
    events = _forged_snapshot(t)
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(t / 1000, UTC)
    recording = Recording.objects.create(
        project=project, session_key="s-raw", distinct_id="x", started_at=moment, ended_at=moment
    )
    path = blob_write(f"recordings/{project.pk}/raw/0.json.gz", compress(orjson.dumps(events)))
    RecordingChunk.objects.create(
        project=project, recording=recording, seq=0, first_timestamp=moment, last_timestamp=moment, event_count=len(events),
        size_bytes=1, storage_path=path,
    )  # fmt: skip
    assert b"__pwned" in gzip.decompress(open(f"{_media()}/{path}", "rb").read())

    frame = _open_player(page, recording)
    _assert_nothing_ran(page, frame)


def _media() -> str:
    from django.conf import settings

    return str(settings.MEDIA_ROOT)


def _received_events(server_tap) -> list[dict]:
    return [e for s in server_tap.received if s.path == "/i/v1/recording" for e in s.json()["events"]]


def _session_key(page) -> str:
    return page.evaluate(
        "() => JSON.parse(localStorage.getItem('sl_' + document.querySelector('script[data-key]').dataset.key)).s"
    )


ADD_NODES = """n => { const box = document.createElement('div'); box.id = 'flood';
  for (let i = 0; i < n; i++) box.appendChild(document.createElement('span'));
  document.body.appendChild(box); }"""
ADD_TEXT = (
    "text => { const p = document.createElement('p'); p.textContent = text; document.body.appendChild(p); }"
)


def test_a_page_that_floods_the_dom_stops_its_recording_and_says_why(page, server_tap):
    page.goto("/demo/board/")
    page.wait_for_function(RECORDER_READY)
    project = demo_ensure().project
    key = _session_key(page)
    _until(
        page,
        lambda: Recording.objects.filter(project=project, session_key=key).exists(),
        what="the first chunk",
    )
    page.evaluate(ADD_NODES, 500)  # a large but sane change is recorded
    page.evaluate(ADD_NODES, 10_001)

    recording = _until(
        page, lambda: Recording.objects.filter(project=project, session_key=key, stop_reason="mutation flood").first(),
        what="the stop event",
    )  # fmt: skip
    adds = [
        len(e["data"]["adds"])
        for e in _received_events(server_tap)
        if e["type"] == 3 and e["data"].get("source") == 0
    ]
    assert max(adds) > 500 and max(adds) < 10_000  # the flood itself was never sent
    chunks = recording.chunk_count
    page.mouse.move(100, 100)
    page.click("#new-task")
    page.evaluate(ADD_TEXT, "after the stop")
    page.wait_for_timeout(6000)  # longer than the recorder's flush interval
    assert Recording.objects.get(pk=recording.pk).chunk_count == chunks
    assert b"after the stop" not in b"".join(
        s.body for s in server_tap.received if s.path == "/i/v1/recording"
    )


def test_an_idle_visitor_is_not_recorded_until_they_come_back(page, server_tap):
    page.clock.install()
    page.goto("/demo/board/")
    page.wait_for_function(RECORDER_READY)
    page.mouse.move(300, 300, steps=4)
    page.evaluate(ADD_TEXT, "before idle")
    page.wait_for_timeout(1000)  # rrweb reports mouse moves in batches, half a second later
    page.clock.fast_forward("06:00")  # five minutes without input make the visitor idle
    page.evaluate(ADD_TEXT, "while idle one")
    page.evaluate(ADD_TEXT, "while idle two")
    page.wait_for_timeout(300)
    page.mouse.move(500, 400, steps=4)  # back: recording resumes with a fresh full snapshot
    page.evaluate(ADD_TEXT, "after idle")
    page.clock.fast_forward("00:06")  # the recorder's flush interval

    def resumed() -> list[dict] | None:
        events = _received_events(server_tap)
        return events if any("after idle" in orjson.dumps(e).decode() for e in events) else None

    events = _until(page, resumed, what="the recording to resume")
    mutations = [orjson.dumps(e).decode() for e in events if e["type"] == 3 and e["data"].get("source") == 0]
    assert any("before idle" in m for m in mutations)
    assert not any("while idle" in m for m in mutations)  # nothing was sent while idle
    snapshots = [orjson.dumps(e).decode() for e in events if e["type"] == 2]
    assert (
        len(snapshots) == 2 and "while idle two" in snapshots[1]
    )  # the fresh snapshot has what changed meanwhile


def test_the_player_knows_the_recordings_length_before_play_and_it_matches_the_header(page, site):
    project = demo_ensure().project
    t = rrweb.now_ms()
    parts = [
        [rrweb.meta(t, "https://shop.example/"), rrweb.full_snapshot(t + 1, rrweb.element("h1", {}, [rrweb.text("Cart")])), rrweb.click(t + 500)],
        [rrweb.click(t + 60_000)],
        [rrweb.click(t + 170_600)],  # 2:50.6 in all
    ]  # fmt: skip
    for seq, events in enumerate(parts):
        response = page.request.post(
            f"{site}/i/v1/recording",
            data=orjson.dumps(
                {
                    "api_key": project.public_key,
                    "session_id": "s-length",
                    "distinct_id": "v",
                    "seq": seq,
                    "events": events,
                }
            ),
            headers={"Content-Type": "text/plain"},
        )
        assert response.status == 200
    recording = Recording.objects.get(project=project, session_key="s-length")

    _open_player(page, recording)

    assert page.locator("#player-play").text_content() == "Play"
    assert page.locator("#player-time").text_content() == "0:00 / 2:50"
    assert "2m 50s · active" in page.locator(".page-head").text_content()
    page.click("#player-play")
    page.wait_for_timeout(300)
    assert page.locator("#player-time").text_content().endswith(" / 2:50")
