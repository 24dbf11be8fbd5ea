"""Recording size: stored (compressed) bytes per minute of session replay on the demo site.

    .venv/bin/python bench/replay_size.py                    # 5 sessions of about 60 s each
    .venv/bin/python bench/replay_size.py --sessions 9 --seconds 120 --seed 7

What it does, in one run:

1. starts a scratch PostgreSQL database (bench/harness.py), migrates it,
   creates the demo project (recording at 100 %), and starts gunicorn on a
   free loopback port against it, with recordings under a scratch folder;
2. drives Debian's Chromium (headless, /usr/bin/chromium) through the Tasklane
   demo like a visitor: reading pauses, mouse movement, scrolling, typing into
   the sign-up form, clicks, navigations between pages — one fresh browser
   context (a new visitor, a new session) per session;
3. closes each context (the recorder's last chunk leaves by sendBeacon), waits
   for the server to settle, and reads every recording's stored size and
   duration from the database.

It prints, per session, the pages, chunks, stored bytes, duration and bytes per
minute, then the median and the maximum. The goal is a median of at most
100 kB per minute. Everything it started is stopped and removed at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import harness

harness.project_on_path()
from bench.ingest import Gunicorn  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
PAGES = ["/demo/", "/demo/pricing/", "/demo/signup/", "/demo/board/", "/demo/board/timeline/"]


def _wander(page, rng: random.Random, seconds: float) -> None:
    """Read, move the mouse and scroll for about `seconds`."""
    end = time.monotonic() + seconds
    width, height = 1280, 800
    while time.monotonic() < end:
        action = rng.random()
        if action < 0.5:
            page.mouse.move(rng.randint(0, width - 1), rng.randint(0, height - 1), steps=rng.randint(5, 25))
        elif action < 0.8:
            page.mouse.wheel(0, rng.choice([-300, 200, 400, 600]))
        page.wait_for_timeout(rng.randint(300, 2500))


def _visit(page, rng: random.Random, seconds: float) -> None:
    started = time.monotonic()
    page.goto(PAGES[0])
    while time.monotonic() - started < seconds:
        _wander(page, rng, rng.uniform(4, 10))
        path = page.url.split("//", 1)[1].split("/", 1)[1]
        if "signup" in path:
            for field, text in (("#signup-name", "Dana Whitfield"), ("#signup-email", "dana@example.com"),
                                ("#signup-company", "Acme Inc.")):  # fmt: skip
                page.click(field)
                page.keyboard.type(text, delay=rng.randint(40, 120))
        elif "board" in path and page.locator("#new-task").count():
            page.click("#new-task")
            if page.locator("#new-task-title").is_visible():
                page.keyboard.type("Write the launch notes", delay=60)
                page.click("#cancel-new-task")
        target = rng.choice([p for p in PAGES if not page.url.endswith(p)])
        links = page.locator(f"a[href='{target}']")
        if links.count():
            links.first.click()
        else:
            page.goto(target)
        page.wait_for_load_state()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60, help="length of each visit")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", choices=["temp", "embedded"], default="temp", help="see bench/harness.py")
    args = parser.parse_args()

    db = harness.ScratchDatabase(args.server).open()
    work_dir = Path(tempfile.mkdtemp(prefix="sightline-replay-bench-"))
    server = None
    try:
        env = harness.django_setup(db)
        from django.db.models import Max, Min

        from demo.services import demo_ensure
        from replay.models import Recording

        project = demo_ensure().project
        project.ingest_rate_limit = 0
        project.save()
        env["SIGHTLINE_DATA_DIR"] = str(work_dir)
        server = Gunicorn(env, workers=2, worker_class="gthread", threads=4, profile="", work_dir=work_dir)
        server.wait_ready()
        base = f"http://127.0.0.1:{server.port}"

        from playwright.sync_api import sync_playwright

        rng = random.Random(args.seed)
        sessions: list[str] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            for index in range(args.sessions):
                context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})
                page = context.new_page()
                _visit(page, rng, args.seconds)
                sessions.append(
                    page.evaluate(
                        "() => JSON.parse(localStorage.getItem('sl_' + document.querySelector('script[data-key]')"
                        ".dataset.key)).s"
                    )
                )
                context.close()  # pagehide: the last chunk goes by beacon
                print(f"session {index + 1}/{args.sessions} done", file=sys.stderr)
            browser.close()
        time.sleep(3)

        rows = []
        for key in sessions:
            recording = Recording.objects.filter(project=project, session_key=key).first()
            if recording is None:
                print(f"{key}: no recording", file=sys.stderr)
                continue
            span = recording.chunks.aggregate(first=Min("first_timestamp"), last=Max("last_timestamp"))
            minutes = max((span["last"] - span["first"]).total_seconds(), 1) / 60
            rows.append((recording, minutes, recording.size_bytes / 1000 / minutes))
        print(f"{'session':38} {'pages':>5} {'chunks':>6} {'bytes':>9} {'minutes':>7} {'kB/min':>7}")
        for recording, minutes, rate in rows:
            print(f"{recording.session_key:38} {recording.page_count:5} {recording.chunk_count:6} "
                  f"{recording.size_bytes:9} {minutes:7.2f} {rate:7.1f}")  # fmt: skip
        rates = [rate for _, _, rate in rows]
        if rates:
            print(f"median {statistics.median(rates):.1f} kB/min, max {max(rates):.1f} kB/min "
                  f"over {len(rates)} sessions (goal: median <= 100 kB/min)")  # fmt: skip
    finally:
        if server is not None:
            server.stop()
        db.close()
        import shutil

        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
