"""End-to-end ingestion throughput: HTTP batches into gunicorn until stored, compared with a raw COPY.

    .venv/bin/python bench/ingest.py                      # 200,000 events, batches of 200, 8 clients, 4 sync workers
    .venv/bin/python bench/ingest.py --events 50000 --batch 500 --clients 4 --workers 3 --worker-class gthread
    .venv/bin/python bench/ingest.py --profile timing     # where a worker's time goes, per batch
    .venv/bin/python bench/ingest.py --pg-setting synchronous_commit=off --pg-setting shared_buffers=512MB

What it does, in one run:

1. generates N events as the snippet would send them (page views, autocaptures
   with element chains of 4-8 elements, page leaves, custom events with
   properties, a few `$identify` and `$groupidentify`), from ~2,000 distinct ids
   browsing in sessions, cut into batches and gzipped (as the snippet does);
2. starts a scratch PostgreSQL database (see bench/harness.py), migrates it,
   creates a project without a rate limit, and starts gunicorn on a free
   loopback port against it;
3. starts `--drain-workers` ingest workers (`manage.py ingest_worker`), posts
   every batch from concurrent client threads (http.client, keep-alive where
   the worker class supports it), measuring each request's latency (the ack),
   and waits until the queue is empty: events/s is counted until the events
   are stored and queryable, not until they are acknowledged;
4. checks that every event was stored exactly once (and that re-sending some
   batches stores nothing twice);
5. re-writes the very same rows with one binary COPY (the product's own COPY
   format and column list) into the truncated tracking_event, same indexes: the
   baseline. Also with one COPY + commit per batch on one connection.

It prints events/s end to end, the ratio to raw COPY, ack latency p50/p99,
errors, the count check, and the CPU used by the client, the gunicorn workers
and PostgreSQL (and by other processes on the machine, which disturb the
figures). The database and the server are removed at the end.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import harness  # noqa: E402

ROOT = harness.ROOT

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
]
TIMEZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Europe/London",
    "Asia/Tokyo",
    "America/Los_Angeles",
    "Europe/Paris",
]
PAGES = (
    [
        "/",
        "/pricing",
        "/features",
        "/blog",
        "/signup",
        "/login",
        "/dashboard",
        "/settings/profile",
        "/settings/billing",
    ]
    + [f"/docs/{topic}" for topic in ("install", "identify", "segments", "actions", "api", "replay", "flags")]
    + [f"/projects/{n}/{tab}" for n in range(1, 12) for tab in ("overview", "events", "funnels", "members")]
    + [f"/blog/post-{n}" for n in range(1, 30)]
)
CLASSES = [
    "btn",
    "btn-primary",
    "btn-ghost",
    "card",
    "nav-link",
    "menu-item",
    "row",
    "col",
    "active",
    "lg",
    "icon",
]
TARGETS = [
    ("button", "Start trial", {"type": "button", "data-plan": "pro"}),
    ("a", "Pricing", {"href": "/pricing"}),
    ("a", "Docs", {"href": "/docs/install"}),
    ("button", "Save", {"type": "submit"}),
    ("span", "Invite teammate", {}),
    ("input", "", {"type": "email", "name": "email", "placeholder": "you@company.com"}),
    ("button", "Create project", {"data-testid": "create-project"}),
    ("a", "Read more", {"href": "/blog/post-3", "title": "Read more"}),
    ("svg", "", {"aria-label": "Close"}),
    ("li", "Settings", {"role": "menuitem"}),
]
CONTAINERS = ["div", "section", "nav", "form", "main", "header", "li", "ul", "article", "footer"]
CUSTOM = [
    (
        "search",
        lambda r: {
            "query": r.choice(["segments", "funnel", "api key", "invite", "billing"]),
            "results": r.randint(0, 40),
        },
    ),
    (
        "created_project",
        lambda r: {"template": r.choice(["blank", "saas", "shop"]), "project_count": r.randint(1, 9)},
    ),
    ("invited_teammate", lambda r: {"role": r.choice(["admin", "member"]), "seats": r.randint(2, 40)}),
    (
        "upgraded_plan",
        lambda r: {"plan": r.choice(["pro", "team", "enterprise"]), "amount": r.choice([49, 99, 499])},
    ),
    ("exported_csv", lambda r: {"rows": r.randint(10, 50000), "format": "csv"}),
    ("viewed_replay", lambda r: {"duration_s": r.randint(5, 900)}),
]


# -- event generation ------------------------------------------------------------------------


class _Person:
    __slots__ = ("anon", "company", "identified", "signed_up", "timezone", "user")

    def __init__(self, rng: random.Random, index: int):
        self.anon = f"anon-{rng.getrandbits(64):016x}"
        self.user = f"user-{index}@example.com" if rng.random() < 0.12 else None
        self.identified = False
        self.signed_up = False
        self.timezone = rng.choice(TIMEZONES)
        self.company = f"company-{rng.randint(1, 120)}" if self.user and rng.random() < 0.5 else None

    @property
    def distinct_id(self) -> str:
        return self.user if self.identified else self.anon


class _Session:
    __slots__ = ("clock", "host", "key", "left", "path", "person")

    def __init__(self, rng: random.Random, person: _Person, clock: datetime):
        self.person = person
        self.key = f"s-{rng.getrandbits(64):016x}"
        self.clock = clock
        self.left = max(3, int(rng.expovariate(1 / 40)))
        self.path = None
        self.host = "app.example.com"


def _elements(rng: random.Random) -> list[dict]:
    tag, text, attrs = rng.choice(TARGETS)
    chain = [
        {"tag": tag, "text": text, "attrs": dict(attrs), "nth_child": rng.randint(1, 6), "nth_of_type": 1}
    ]
    if tag != "button" and rng.random() < 0.5:
        chain.append(
            {"tag": "button", "classes": ["btn", rng.choice(CLASSES)], "nth_child": rng.randint(1, 4)}
        )
    for _ in range(rng.randint(4, 8) - len(chain) - 1):
        element = {
            "tag": rng.choice(CONTAINERS),
            "nth_child": rng.randint(1, 12),
            "nth_of_type": rng.randint(1, 3),
        }
        if rng.random() < 0.7:
            element["classes"] = rng.sample(CLASSES, rng.randint(1, 3))
        if rng.random() < 0.15:
            element["id"] = f"{element['tag']}-{rng.randint(1, 50)}"
        chain.append(element)
    chain.append({"tag": "body"})
    return chain


def _page_props(rng: random.Random, session: _Session) -> dict:
    return {
        "$current_url": f"https://{session.host}{session.path}",
        "$pathname": session.path,
        "$host": session.host,
        "$referrer": rng.choice(
            ["", "https://www.google.com/", "https://news.example.org/", f"https://{session.host}/"]
        ),
        "$screen_width": 1920,
        "$screen_height": 1080,
        "$viewport_width": rng.choice([1280, 1440, 1536, 390]),
        "$viewport_height": rng.choice([720, 800, 844, 900]),
        "$timezone": session.person.timezone,
        "$lib": "sightline-js",
        "$lib_version": "1.0.0",
        "$session_id": session.key,
    }


def _next_event(rng: random.Random, s: _Session) -> dict:
    s.clock += timedelta(seconds=rng.uniform(0.5, 40))
    p = s.person
    if s.path is None or rng.random() < 0.22:
        s.path = rng.choice(PAGES)
        name, props = "$pageview", _page_props(rng, s)
    else:
        roll = rng.random()
        props = _page_props(rng, s)
        if p.user and not p.identified and roll < 0.12:
            p.identified = True
            name = "$identify"
            props["$anon_distinct_id"] = p.anon
            props["$set"] = {
                "email": p.user,
                "plan": rng.choice(["free", "pro", "team"]),
                "role": rng.choice(["admin", "dev"]),
            }
            props["$set_once"] = {"signup_source": rng.choice(["ads", "organic", "referral"])}
        elif p.identified and p.company and roll < 0.03:
            name = "$groupidentify"
            props["$group_key"] = p.company
            props["$group_set"] = {"name": p.company.title(), "employees": rng.choice([5, 40, 300, 5000])}
            p.company = None  # once is enough
        elif roll < 0.62:
            name = "$autocapture"
            props["$event_type"] = rng.choice(["click", "click", "click", "submit", "change"])
            props["$elements"] = _elements(rng)
        elif roll < 0.70:
            name = "$pageleave"
            props["$time_on_page"] = round(rng.uniform(1, 300), 1)
            props["$scroll_depth"] = rng.randint(0, 100)
        elif roll < 0.71:
            name = "$rageclick"
            props["$elements"] = _elements(rng)
        elif p.identified and not p.signed_up:
            p.signed_up = True
            name = "signed_up"
            props["source"] = rng.choice(["ads", "organic", "referral"])
        else:
            name, make = rng.choice(CUSTOM)
            props.update(make(rng))
            if name == "upgraded_plan":
                props["$set"] = {"plan": props["plan"]}
    s.left -= 1
    return {
        "uuid": str(uuidlib.UUID(int=rng.getrandbits(128), version=4)),
        "event": name,
        "distinct_id": p.distinct_id,
        "timestamp": s.clock.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "session_id": s.key,
        "properties": props,
    }


def generate(n: int, *, batch_size: int, distinct_ids: int, seed: int, active: int = 400) -> list[list[dict]]:
    """The event stream of ~`distinct_ids` people browsing over the last six hours, `active` sessions at a time."""
    rng = random.Random(seed)
    people = [_Person(rng, i) for i in range(distinct_ids)]
    start = datetime.now(UTC) - timedelta(hours=6)
    span = timedelta(hours=5, minutes=50)
    sessions: list[_Session] = []
    events: list[dict] = []
    while len(events) < n:
        while len(sessions) < active:
            clock = start + span * (len(events) / n)
            sessions.append(_Session(rng, rng.choice(people), clock))
        index = rng.randrange(len(sessions))
        s = sessions[index]
        events.append(_next_event(rng, s))
        if s.left <= 0:
            sessions[index] = sessions[-1]
            sessions.pop()
    return [events[i : i + batch_size] for i in range(0, n, batch_size)]


def encode_batches(batches: list[list[dict]], *, api_key: str, compress: bool) -> list[bytes]:
    import orjson

    sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    bodies = []
    for batch in batches:
        body = orjson.dumps({"api_key": api_key, "sent_at": sent_at, "batch": batch})
        bodies.append(gzip.compress(body, compresslevel=6) if compress else body)
    return bodies


# -- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --lane: which settings gunicorn runs with (deploy/Procfile)
LANES = {"ingest": "config.settings_ingest", "product": "config.settings"}


class Gunicorn:
    def __init__(
        self,
        env: dict,
        *,
        workers: int,
        worker_class: str,
        threads: int,
        profile: str,
        work_dir: Path,
        settings_module: str = "config.settings",
    ):
        self.port = free_port()
        self.profile_dir = work_dir / "profile"
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self.log = work_dir / "gunicorn.log"
        args = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--timeout", "120",
            "--keep-alive", "30",
            "--backlog", "256",
            "--error-logfile", str(self.log),
            "--config", str(ROOT / "bench" / "gunicorn_profile.py"),
        ]  # fmt: skip
        if worker_class == "gthread":
            args += ["--threads", str(threads)]
        env = {**os.environ, **env, "BENCH_PROFILE": profile, "BENCH_PROFILE_DIR": str(self.profile_dir)}
        env["PYTHONPATH"] = str(ROOT)
        env["DJANGO_SETTINGS_MODULE"] = settings_module
        self.stderr_path = work_dir / "server-stderr.log"
        self._stderr = open(self.stderr_path, "wb")
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True, stderr=self._stderr)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def pids(self) -> list[int]:
        import psutil

        try:
            master = psutil.Process(self.process.pid)
            return [master.pid, *(c.pid for c in master.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: workers write their profiles
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()

    def logged_errors(self) -> list[str]:
        """Server-side errors: counts of the exception lines Django logged (a 503 is logged too)."""
        import collections

        text = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        found: collections.Counter = collections.Counter()
        for line in text.splitlines():
            if " ERROR " in line:
                found[line.split(" ERROR ", 1)[1][:120]] += 1
            elif (
                line
                and not line.startswith((" ", "Traceback", "\t"))
                and ("Error" in line or "Exception" in line)
            ):
                found[line[:160]] += 1
        return [f"  {count:>5} x {text}" for text, count in found.most_common(8)]


# -- the clients -----------------------------------------------------------------------------


class DrainWorkers:
    """`manage.py ingest_worker` processes, as production runs them beside gunicorn."""

    def __init__(self, env: dict, count: int, work_dir: Path):
        env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self._log = open(work_dir / "drain.log", "wb")
        self.processes = [
            subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "ingest_worker"],
                cwd=ROOT,
                env=env,
                start_new_session=True,
                stderr=self._log,
            )
            for _ in range(count)
        ]

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.poll() is None]

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
        self._log.close()


def wait_stored(url: str, *, timeout: float = 600) -> float:
    """Wait until the ingest queue is empty; returns the time it became so (perf_counter)."""
    import psycopg

    deadline = time.perf_counter() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while conn.execute("SELECT EXISTS (SELECT 1 FROM tracking_ingestqueueitem)").fetchone()[0]:
            if time.perf_counter() > deadline:
                raise RuntimeError("the ingest queue did not empty")
            time.sleep(0.01)
    return time.perf_counter()


class Result:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.accepted = 0
        self.rejected = 0
        self.retries = 0


def post_all(
    port: int, bodies: list[bytes], *, clients: int, compress: bool, expected: list[int]
) -> tuple[Result, float]:
    """Send every body once (retrying 429/503 as the snippet would); returns the results and the wall time."""
    import orjson

    result = Result()
    lock = threading.Lock()
    next_index = iter(range(len(bodies)))
    path = "/i/v1/batch?compression=gzip" if compress else "/i/v1/batch"

    def client(number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Content-Type": "text/plain", "User-Agent": USER_AGENTS[number % len(USER_AGENTS)],
                   "Origin": "https://app.example.com"}  # fmt: skip
        latencies, errors, accepted, rejected, retries = [], [], 0, 0, 0
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            for _attempt in range(5):
                t0 = time.perf_counter()
                try:
                    conn.request("POST", path, body=bodies[index], headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as error:
                    conn.close()
                    errors.append(f"batch {index}: {type(error).__name__}: {error}")
                    retries += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                if response.status in (429, 503):
                    retries += 1
                    time.sleep(float(response.getheader("Retry-After", "1")))
                    continue
                if response.status != 200:
                    errors.append(f"batch {index}: HTTP {response.status} {data[:200]!r}")
                    break
                answer = orjson.loads(data)
                accepted += answer["accepted"]
                rejected += len(answer["rejected"])
                if answer["accepted"] != expected[index] or answer["rejected"]:
                    errors.append(
                        f"batch {index}: accepted {answer['accepted']} of {expected[index]}: {answer['rejected'][:3]}"
                    )
                break
            else:
                errors.append(f"batch {index}: gave up after retries")
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors.extend(errors)
            result.accepted += accepted
            result.rejected += rejected
            result.retries += retries

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return result, time.perf_counter() - t0


# -- the baseline ----------------------------------------------------------------------------


def copy_baseline(url: str, project_id: int, batch: int) -> dict:
    """Time one binary COPY of the stored rows (and one COPY per batch) into the truncated table."""
    import psycopg

    from tracking.eventstore.postgres.writes import COLUMNS, TYPES, RawJsonb, _RawJsonbBinaryDumper

    select_columns = ", ".join("properties::text" if c == "properties" else c for c in COLUMNS)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"SELECT {select_columns} FROM tracking_event WHERE project_id = %s ORDER BY id", [project_id]
        ).fetchall()
        rows = [(*row[:-1], RawJsonb(row[-1].encode())) for row in rows]
        statement = f"COPY tracking_event ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        conn.adapters.register_dumper(RawJsonb, _RawJsonbBinaryDumper)
        figures = {"rows": len(rows)}

        def run(chunk: int) -> float:
            conn.execute("TRUNCATE tracking_event")
            conn.commit()
            conn.execute("CHECKPOINT")
            conn.commit()
            t0 = time.perf_counter()
            for i in range(0, len(rows), chunk):
                with conn.cursor() as cursor, cursor.copy(statement) as copy:
                    copy.set_types(TYPES)
                    for row in rows[i : i + chunk]:
                        copy.write_row(row)
                conn.commit()
            return time.perf_counter() - t0

        figures["one_copy_s"] = run(len(rows))
        figures["batched_copy_s"] = run(batch)
        count = conn.execute("SELECT count(*) FROM tracking_event").fetchone()[0]
        assert count == len(rows), (count, len(rows))
    return figures


# -- checks ----------------------------------------------------------------------------------


def count_check(url: str, project_id: int, uuids: list[str]) -> tuple[bool, str]:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE sent (uuid uuid PRIMARY KEY)")
        with conn.cursor() as cursor, cursor.copy("COPY sent (uuid) FROM STDIN") as copy:
            for u in uuids:
                copy.write_row((u,))
        total, distinct, matched = conn.execute(
            "SELECT count(*), count(DISTINCT e.uuid), count(s.uuid) FROM tracking_event e"
            " LEFT JOIN sent s ON s.uuid = e.uuid WHERE e.project_id = %s",
            [project_id],
        ).fetchone()
        # events whose person was merged away while they were being written
        orphans = conn.execute(
            "SELECT count(*) FROM tracking_event e WHERE e.project_id = %s"
            " AND NOT EXISTS (SELECT 1 FROM tracking_person p WHERE p.id = e.person_id)",
            [project_id],
        ).fetchone()[0]
    ok = total == distinct == matched == len(uuids) and orphans == 0
    return ok, (f"sent {len(uuids):,}, stored {total:,}, distinct {distinct:,}, matching a sent uuid {matched:,},"
                f" pointing to a missing person {orphans:,}")  # fmt: skip


def summarize_profile(profile_dir: Path, batches: int) -> list[str]:
    lines: list[str] = []
    stats: dict[str, list[float]] = {}
    for path in profile_dir.glob("worker-*.json"):
        for name, (count, wall, cpu) in json.loads(path.read_text()).items():
            entry = stats.setdefault(name, [0, 0.0, 0.0])
            entry[0] += count
            entry[1] += wall
            entry[2] += cpu
    if stats:
        whole = stats.get("request (WSGI, whole)", [1, 1.0, 1.0])
        lines.append(
            f"  per batch (mean over {whole[0]} requests, all workers); wall = elapsed, cpu = worker CPU"
        )
        lines.append(f"  {'stage':<42} {'calls':>8} {'wall ms':>9} {'cpu ms':>8} {'% of request':>13}")
        for name, (count, wall, cpu) in sorted(stats.items(), key=lambda kv: -kv[1][1]):
            lines.append(
                f"  {name:<42} {count:>8} {1000 * wall / whole[0]:>9.2f} {1000 * cpu / whole[0]:>8.2f}"
                f" {100 * wall / whole[1]:>12.1f}%"
            )
    pstats_files = list(profile_dir.glob("worker-*.pstats"))
    if pstats_files:
        import io
        import pstats

        out = io.StringIO()
        merged = pstats.Stats(*[str(p) for p in pstats_files], stream=out)
        merged.sort_stats("tottime").print_stats(30)
        merged.sort_stats("cumulative").print_stats(40)
        lines.append(out.getvalue())
    return lines


def database_stat(url: str, column: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(
            f"SELECT {column} FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()[0]


def lock_log_summary(log: Path) -> list[str]:
    """Count 'still waiting' lines by the statement that waited."""
    import collections
    import re

    waits: collections.Counter = collections.Counter()
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    for i, line in enumerate(lines):
        if "still waiting for" in line or "deadlock detected" in line:
            kind = (
                "deadlock"
                if "deadlock detected" in line
                else re.sub(r".*still waiting for (\w+).*", r"\1", line)
            )
            statement = next((s for s in lines[i + 1 : i + 16] if "STATEMENT:" in s), "")
            statement = re.sub(r"\s+", " ", statement.split("STATEMENT:", 1)[-1])[:110]
            waits[(kind, statement)] += 1
    return [f"  {count:>5} x {kind}: {statement}" for (kind, statement), count in waits.most_common(12)]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=200, help="events per request (at most 1000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument("--drain-workers", type=int, default=1, help="ingest worker processes")
    parser.add_argument("--distinct-ids", type=int, default=2000)
    parser.add_argument("--active-sessions", type=int, default=400,
                        help="sessions sending at the same time; fewer means hotter persons shared by concurrent batches")  # fmt: skip
    parser.add_argument(
        "--no-gzip", action="store_true", help="send plain JSON instead of gzip (the snippet gzips)"
    )
    parser.add_argument("--profile", choices=["", "timing", "cprofile"], default="")
    parser.add_argument("--lane", choices=sorted(LANES), default="ingest",
                        help="gunicorn's settings: the ingestion lane production runs (config.settings_ingest),"
                             " or the whole product's (config.settings), as `make run` serves it")  # fmt: skip
    parser.add_argument("--server", choices=["temp", "embedded"], default="temp", help="see bench/harness.py")
    parser.add_argument(
        "--pg-setting", action="append", metavar="NAME=VALUE", help="ALTER SYSTEM on the temp server"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-copy", action="store_true", help="skip the raw COPY baseline")
    parser.add_argument("--lock-log", action="store_true",
                        help="log lock waits over 100 ms on the temp server and print a summary")  # fmt: skip
    args = parser.parse_args()
    if args.profile == "cprofile" and args.worker_class != "sync":
        parser.error("--profile cprofile follows the worker's main thread only: use --worker-class sync")
    compress = not args.no_gzip
    cores = os.cpu_count() or 1

    t0 = time.perf_counter()
    batches = generate(args.events, batch_size=args.batch, distinct_ids=args.distinct_ids, seed=args.seed,
                       active=args.active_sessions)  # fmt: skip
    uuids = [e["uuid"] for b in batches for e in b]
    expected = [len(b) for b in batches]
    counts: dict[str, int] = {}
    for b in batches:
        for e in b:
            counts[e["event"]] = counts.get(e["event"], 0) + 1
    print(
        f"generated {len(uuids):,} events in {len(batches):,} batches of {args.batch} in {time.perf_counter() - t0:.1f} s"
    )
    print("  " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))

    pg_settings = harness.parse_pg_settings(args.pg_setting)
    if args.lock_log:
        pg_settings.update({"log_lock_waits": "on", "deadlock_timeout": "100ms"})
    db = harness.ScratchDatabase(args.server, pg_settings).open()
    server = drains = None
    work_dir = Path(tempfile.mkdtemp(prefix="sightline-bench-ingest-"))
    try:
        env = harness.django_setup(db)
        project = harness.bench_project()
        warm_project = harness.bench_project(name="Warm-up")
        bodies = encode_batches(batches, api_key=project.public_key, compress=compress)
        del batches
        size = sum(len(b) for b in bodies)
        print(
            f"bodies: {size / 1e6:.1f} MB {'gzipped' if compress else 'JSON'} ({size / len(uuids):.0f} bytes/event)"
        )
        print(
            "postgres:",
            ", ".join(f"{k}={v}" for k, v in db.settings(
                ["shared_buffers", "synchronous_commit", "wal_compression", "max_wal_size", "checkpoint_timeout",
                 "wal_buffers", "commit_delay", "full_page_writes"]).items()),
        )  # fmt: skip

        server = Gunicorn(env, workers=args.workers, worker_class=args.worker_class, threads=args.threads,
                          profile=args.profile, work_dir=work_dir,
                          settings_module=LANES[args.lane])  # fmt: skip
        server.wait_ready()
        drains = DrainWorkers(env, args.drain_workers, work_dir)
        # enough requests that every worker has parsed every user agent and imported everything
        warm = generate(args.workers * 16 * 50, batch_size=50, distinct_ids=100, seed=args.seed + 1)
        warm_bodies = encode_batches(warm, api_key=warm_project.public_key, compress=compress)
        warm_result, _ = post_all(server.port, warm_bodies, clients=args.workers * 2, compress=compress,
                                  expected=[len(b) for b in warm])  # fmt: skip
        if warm_result.errors:
            raise SystemExit(f"warm-up failed: {warm_result.errors[:3]}")
        wait_stored(db.url)
        import psycopg

        with psycopg.connect(db.url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")

        deadlocks_before = database_stat(db.url, "deadlocks")
        meter = harness.CpuMeter()
        meter.add("client (this process)", lambda: [os.getpid()])
        meter.add("gunicorn workers", server.pids)
        meter.add("ingest workers", drains.pids)
        meter.add("postgres", db.server_pids)
        load_before = os.getloadavg()[0]
        meter.start()
        started = time.perf_counter()
        result, ack_wall = post_all(
            server.port, bodies, clients=args.clients, compress=compress, expected=expected
        )
        wall = wait_stored(db.url) - started
        meter.stop()
        load_after = os.getloadavg()[0]

        # a retried batch stores nothing twice
        resend = bodies[:: max(1, len(bodies) // 5)][:5]
        retry_result, _ = post_all(server.port, resend, clients=1, compress=compress,
                                   expected=[expected[i] for i in range(0, len(bodies), max(1, len(bodies) // 5))][:5])  # fmt: skip
        wait_stored(db.url)
        server.stop()
        drains.stop()
        ok, detail = count_check(db.url, project.pk, uuids)
        deadlocks = database_stat(db.url, "deadlocks") - deadlocks_before

        rate = len(uuids) / wall
        print()
        print(f"gunicorn ({LANES[args.lane]}): {args.workers} {args.worker_class} workers"
              + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
              + f", {args.clients} client threads, batches of {args.batch}{' (gzip)' if compress else ''},"
              f" {args.active_sessions} sessions active at a time")  # fmt: skip
        print(
            f"end to end:   {rate:,.0f} events/s stored and queryable ({len(uuids):,} events in {wall:.2f} s,"
            f" {args.drain_workers} ingest worker{'s' if args.drain_workers > 1 else ''})"
        )
        print(
            f"acknowledged: {len(uuids) / ack_wall:,.0f} events/s ({ack_wall:.2f} s, {len(bodies) / ack_wall:.1f} requests/s);"
            f" the last event was stored {wall - ack_wall:.2f} s after the last ack"
        )
        print(f"ack latency:  p50 {1000 * percentile(result.latencies, 0.5):.0f} ms, p99 {1000 * percentile(result.latencies, 0.99):.0f} ms,"
              f" max {1000 * max(result.latencies):.0f} ms")  # fmt: skip
        print(f"errors:       {len(result.errors)} (retries {result.retries}, rejected events {result.rejected},"
              f" deadlocks detected by PostgreSQL {deadlocks})")  # fmt: skip
        for error in result.errors[:5]:
            print(f"  {error}")
        for line in server.logged_errors():
            print(f"  server log: {line.strip()}")
        print(f"stored once:  {'OK' if ok else 'FAILED'} - {detail}; re-sent {len(resend)} batches:"
              f" {'no duplicates' if ok and not retry_result.errors else retry_result.errors[:2]}")  # fmt: skip
        print(f"cpu during the run ({wall:.1f} s wall, load average {load_before:.1f} -> {load_after:.1f}):")
        for line in meter.report(cores):
            print(line)
        client_cpu = meter.used("client (this process)")
        print(f"  client CPU per event: {1e6 * client_cpu / len(uuids):.1f} us;"
              f" web CPU per event: {1e6 * meter.used('gunicorn workers') / len(uuids):.1f} us;"
              f" ingest worker CPU per event: {1e6 * meter.used('ingest workers') / len(uuids):.1f} us;"
              f" postgres CPU per event: {1e6 * meter.used('postgres') / len(uuids):.1f} us")  # fmt: skip

        if not args.skip_copy:
            figures = copy_baseline(db.url, project.pk, args.batch)
            one = figures["rows"] / figures["one_copy_s"]
            batched = figures["rows"] / figures["batched_copy_s"]
            print(f"raw COPY:     {one:,.0f} rows/s one COPY ({figures['one_copy_s']:.2f} s);"
                  f" {batched:,.0f} rows/s one COPY + commit per {args.batch} rows")  # fmt: skip
            print(
                f"ratio:        {rate / one:.2f} x raw COPY (goal >= 0.25); {rate / batched:.2f} x batched COPY"
            )
        p99 = 1000 * percentile(result.latencies, 0.99)
        if args.batch <= 20:
            met = rate >= 12000 and p99 <= 20
            print(
                f"goal:         {'met' if met else 'NOT met'} (batches of 20: >= 12,000 events/s, ack p99 <= 20 ms)"
            )
        else:
            print(
                f"goal:         {'met' if rate >= 20000 else 'NOT met'} (>= 20,000 events/s, >= 0.25 x raw COPY)"
            )
        if args.lock_log:
            print()
            print("lock waits (PostgreSQL log):")
            for line in lock_log_summary(db.pg_dir / "log"):
                print(line)
        if args.profile:
            print()
            print(f"server profile ({args.profile}):")
            for line in summarize_profile(server.profile_dir, len(bodies)):
                print(line)
    finally:
        if server is not None:
            server.stop()
        if drains is not None:
            drains.stop()
        db.close()
        import shutil

        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
