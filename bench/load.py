"""Sustained load: ingestion at a steady rate while people use the product and segments stay live.

    .venv/bin/python bench/load.py                      # 2,000 events/s for 10 minutes
    .venv/bin/python bench/load.py --seconds 60         # the same for one minute
    .venv/bin/python bench/load.py --rate 3000 --browsers 4 --think 0.5 --workers 5

What it does, in one run:

1. starts a scratch PostgreSQL (bench/harness.py: a throwaway server under
   /tmp, never the development database), migrates it, creates the demo user,
   organization and project there and fills the project with the demo world
   (2,000 people, two months of history, starter segments and lifecycle model,
   recordings); adds three dynamic segments the incoming stream moves people
   in and out of ("Load markers", "Clicked a lot today", "Saw pricing this
   week"), and lifts the project's ingest rate limit (it is not what is
   measured);
2. starts gunicorn with the production configuration (gunicorn.conf.py: sync
   workers, 2 x CPUs + 1 unless --workers) on a free loopback port, a second
   gunicorn group of --ingest-lane workers that the ingestion clients post to
   (docs/deploy.md, "Separate lanes"; 0 puts everything in one group),
   --drain-workers ingest workers (`manage.py ingest_worker`) and the
   background worker (`manage.py qcluster`, ORM broker) so segment refreshes
   and the scheduled tasks run live;
3. for --seconds, posts the events the snippet would send (bench/ingest.py's
   generator: page views, autocaptures with element chains, identifies…, from
   hundreds of sessions at a time; each batch holds 1 to --batch events of one
   session, as one browser's snippet sends them, gzipped) at --rate events/s,
   paced on a schedule by --senders client threads (retrying 429/5xx as the
   snippet does);
4. meanwhile --browsers threads log in as the demo user and click through the
   product with --think seconds between page loads: overview, live events (and
   its 2-second poll), persons, a person (from the list, with the fragments the
   page loads), segments, a segment (from the list), trends, replays;
5. every --marker-every seconds sends a `load_marker` event for a new person
   and watches (polling PostgreSQL every 0.1 s) for that person to enter the
   "Load markers" segment: the freshness, from the acknowledgement of the
   event to the membership being visible (through the ingest queue, the drain
   and the segment refresh);
6. at the end waits for the ingest queue to empty and checks that every
   acknowledged event is stored exactly once
   (COUNT and distinct uuids in tracking_event), stops everything it started
   and drops the scratch database.

It prints the achieved ingest rate (and how much of the schedule was still
unsent when the time was up, if the server fell behind), ack latency p50/p99
for ingestion and for each page, errors by status (any answer that is not
2xx/3xx, and failed connections as status 0), events lost, the segment refresh
lag, every background task that ran (failures with their traceback), which
statements PostgreSQL was busy with, and the CPU used by each process group
with the server CPU per event. On a shared machine the line "other processes"
says how much of it the neighbours took. The exit status is 1 when there were
errors, lost events, markers that never entered, failed background tasks, or
when the rate was not sustained.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import html
import http.client
import http.cookies
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid as uuidlib
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import harness, ingest  # noqa: E402

ROOT = harness.ROOT
CHUNK = 10_000  # events generated at a time, just ahead of the schedule
PEOPLE_PER_CHUNK = 500  # new visitors per chunk (identified users recur across chunks)
MARKER_SEGMENT = "Load markers"
percentile = ingest.percentile


# -- the servers -------------------------------------------------------------------------------


class ProductionGunicorn(ingest.Gunicorn):
    """bench/ingest.py's server handle, started as deployed: gunicorn.conf.py, bound to a free loopback port."""

    def __init__(self, env: dict, *, workers: int | None, work_dir: Path):
        self.port = ingest.free_port()
        self.log = work_dir / "gunicorn.log"
        self.stderr_path = work_dir / "server-stderr.log"
        self._stderr = open(self.stderr_path, "wb")
        args = [
            str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application",
            "--config", str(ROOT / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{self.port}",
            "--error-logfile", str(self.log),
            "--access-logfile", str(work_dir / "access.log"),
            "--no-control-socket",
        ]  # fmt: skip
        if workers:
            args += ["--workers", str(workers)]
        env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True,
                                        stdout=self._stderr, stderr=self._stderr)  # fmt: skip

    def log_lines(self, *needles: str) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if any(n in line for n in needles)]


class QCluster:
    """`manage.py qcluster` in a process group of its own."""

    def __init__(self, env: dict, *, workers: int, work_dir: Path):
        self.log_path = work_dir / "qcluster.log"
        self._log = open(self.log_path, "wb")
        env = {**os.environ, **env, "Q_WORKERS": str(workers), "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                                        start_new_session=True, stdout=self._log, stderr=self._log)  # fmt: skip

    def pids(self) -> list[int]:
        import psutil

        try:
            main = psutil.Process(self.process.pid)
            return [main.pid, *(c.pid for c in main.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def logged_errors(self) -> list[str]:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        found = collections.Counter(
            line.split(" ERROR ", 1)[1][:140] for line in text.splitlines() if " ERROR " in line
        )
        return [f"  worker log: {count} x {line}" for line, count in found.most_common(5)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the cluster stops its own pool
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


# -- the world ----------------------------------------------------------------------------------


def prepare_world(persons: int, seed: int):
    """The demo user, organization and project in the scratch database, seeded, plus the load segments."""
    from django.utils import timezone

    from demo.services import demo_ensure
    from demo.world.seed import WorldOptions
    from demo.world.starter import seed_if_empty
    from segments.models import Segment
    from segments.services import segment_compute, segment_create

    demo = demo_ensure()
    now = timezone.now().astimezone(UTC)
    options = WorldOptions(
        persons=persons, days=60, seed=seed, until=now.replace(minute=0, second=0, microsecond=0)
    )
    seed_if_empty(demo.project, sys.stdout, options=options)
    demo.project.ingest_rate_limit = 0
    demo.project.save(update_fields=["ingest_rate_limit"])
    definitions = [
        (MARKER_SEGMENT, {"match": "all", "conditions": [
            {"type": "behavior", "event": {"name": "load_marker"}, "count": {"operator": "gte", "value": 1}}]}),
        ("Clicked a lot today", {"match": "all", "conditions": [
            {"type": "behavior", "event": {"name": "$autocapture"}, "count": {"operator": "gte", "value": 20},
             "window": {"last_days": 1}}]}),
        ("Saw pricing this week", {"match": "all", "conditions": [
            {"type": "behavior", "event": {"name": "$pageview", "where": [
                {"property": "$pathname", "operator": "eq", "value": "/pricing"}]},
             "count": {"operator": "gte", "value": 1}, "window": {"last_days": 7}}]}),
    ]  # fmt: skip
    for name, definition in definitions:
        segment_compute(segment=segment_create(project=demo.project, name=name, definition=definition))
    dynamic = Segment.objects.filter(project=demo.project, kind="dynamic").count()
    marker = Segment.objects.get(project=demo.project, name=MARKER_SEGMENT)
    return demo, marker, dynamic


def stored_uuids(url: str, project_id: int) -> list[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [
            row[0]
            for row in conn.execute(
                "SELECT uuid::text FROM tracking_event WHERE project_id = %s", [project_id]
            )
        ]


# -- measurements -------------------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = collections.defaultdict(list)  # by page name, and "ingest"
        self.errors: collections.Counter = collections.Counter()  # (what, status)
        self.error_samples: list[str] = []
        self.acked: list[str] = []
        self.acked_events = 0
        self.requests = 0
        self.retries = 0
        self.rejected = 0
        self.last_ack = 0.0
        self.behind = 0.0  # how late the schedule ran, at most

    def record(self, name: str, seconds: float) -> None:
        with self.lock:
            self.latency[name].append(seconds)

    def error(self, what: str, status: int, detail: str) -> None:
        with self.lock:
            self.errors[(what, status)] += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{what} {status}: {detail[:200]}")

    def ack(self, uuids: list[str], seconds: float) -> None:
        with self.lock:
            self.latency["ingest"].append(seconds)
            self.acked.extend(uuids)
            self.acked_events += len(uuids)
            self.requests += 1
            self.last_ack = time.perf_counter()

    def page_latencies(self) -> list[float]:
        with self.lock:
            return [s for name, values in self.latency.items() if name != "ingest" for s in values]


def post_batch(
    conn: http.client.HTTPConnection, body: bytes, uuids: list[str], stats: Stats, *, user_agent: str
) -> bool:
    """One batch as the snippet sends it: retried on 429, 5xx and network errors; True once acknowledged."""
    import orjson

    headers = {"Content-Type": "text/plain", "User-Agent": user_agent, "Origin": "https://app.example.com"}
    for attempt in range(6):
        if attempt:
            with stats.lock:
                stats.retries += 1
            time.sleep(min(2.0, 0.2 * 2**attempt))
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/i/v1/batch?compression=gzip", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            conn.close()
            stats.error("ingest", 0, repr(error))
            continue
        seconds = time.perf_counter() - t0
        if response.status != 200:
            stats.error("ingest", response.status, data.decode(errors="replace"))
            if response.status == 429 or response.status >= 500:
                continue
            return False
        answer = orjson.loads(data)
        if answer.get("accepted") != len(uuids) or answer.get("rejected"):
            with stats.lock:
                stats.rejected += len(answer.get("rejected") or [])
            stats.error(
                "ingest", 200, f"accepted {answer.get('accepted')} of {len(uuids)}: {answer.get('rejected')}"
            )
            return False
        stats.ack(uuids, seconds)
        return True
    return False


def per_browser_batches(events: list[dict], rng: random.Random, max_batch: int) -> list[list[dict]]:
    """Cut the interleaved stream of many sessions into the batches their browsers would send.

    Each browser queues its own session's events and sends them when its batch is
    full (1 to `max_batch` events, the snippet's limit being 50); batches leave in
    the order they fill up, and what is left at the end of the stream is flushed.
    One batch is one person's, as from the snippet.
    """
    pending: dict[str, list[dict]] = {}
    target: dict[str, int] = {}
    batches: list[list[dict]] = []
    for event in events:
        key = event["session_id"]
        queued = pending.setdefault(key, [])
        queued.append(event)
        if len(queued) >= target.setdefault(key, rng.randint(1, max_batch)):
            batches.append(queued)
            pending[key] = []
            target[key] = rng.randint(1, max_batch)
    batches.extend(queued for queued in pending.values() if queued)
    return batches


class Stream:
    """Generated batches, just ahead of a schedule of `rate` events/s that ends after `seconds`."""

    def __init__(self, *, api_key: str, rate: float, seconds: float, max_batch: int, seed: int):
        self.api_key, self.rate, self.seconds, self.max_batch, self.seed = (
            api_key,
            rate,
            seconds,
            max_batch,
            seed,
        )
        self.ready: queue.Queue = queue.Queue(maxsize=max(200, int(rate // 5)))  # about 5 s of events ahead
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.scheduled = 0
        self.t0 = 0.0
        self.thread = threading.Thread(target=self._produce, daemon=True)

    def _produce(self) -> None:
        rng = random.Random(self.seed)
        chunk = 0
        while not self.stop.is_set():
            events = ingest.generate(
                CHUNK, batch_size=CHUNK, distinct_ids=PEOPLE_PER_CHUNK, seed=self.seed * 100_003 + chunk
            )[0]
            chunk += 1
            batches = per_browser_batches(events, rng, self.max_batch)
            bodies = ingest.encode_batches(batches, api_key=self.api_key, compress=True)
            for body, batch in zip(bodies, batches, strict=True):
                item = (body, [e["uuid"] for e in batch])
                while not self.stop.is_set():
                    try:
                        self.ready.put(item, timeout=0.5)
                        break
                    except queue.Full:
                        continue

    def next(self) -> tuple[bytes, list[str], float] | None:
        """The next batch and when it is due, or None once the schedule is over.

        The run ends on time: when the server falls behind, what is not sent by then is the shortfall.
        """
        with self.lock:
            over = time.perf_counter() >= self.t0 + self.seconds
            if self.stop.is_set() or over or self.scheduled >= self.rate * self.seconds:
                return None
            while True:
                try:
                    body, uuids = self.ready.get(timeout=0.5)
                    break
                except queue.Empty:
                    if self.stop.is_set():
                        return None
            due = self.t0 + self.scheduled / self.rate
            self.scheduled += len(uuids)
            return body, uuids, due


def sender(port: int, stream: Stream, stats: Stats, number: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    user_agent = ingest.USER_AGENTS[number % len(ingest.USER_AGENTS)]
    while (item := stream.next()) is not None:
        body, uuids, due = item
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        elif -wait > stats.behind:
            stats.behind = -wait
        post_batch(conn, body, uuids, stats, user_agent=user_agent)
    conn.close()


class Markers:
    """New persons whose one `load_marker` event puts them into the marker segment; the time until it shows."""

    def __init__(self, *, port: int, url: str, api_key: str, segment_id: int, project_id: int, stats: Stats):
        self.port, self.url, self.api_key, self.stats = port, url, api_key, stats
        self.segment_id, self.project_id = segment_id, project_id
        self.token = uuidlib.uuid4().hex[:8]
        self.acked: dict[str, float] = {}
        self.lag: dict[str, float] = {}
        self.sent = 0
        self.lock = threading.Lock()

    def send(self) -> None:
        import orjson

        distinct_id = f"load-marker-{self.token}-{self.sent}"
        self.sent += 1
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        session = f"marker-{self.token}-{self.sent}"
        events = [
            {"uuid": str(uuidlib.uuid4()), "event": name, "distinct_id": distinct_id, "timestamp": now,
             "session_id": session, "properties": {"$current_url": "https://app.example.com/pricing",
                                                   "$pathname": "/pricing", "$session_id": session}}
            for name in ("$pageview", "load_marker")
        ]  # fmt: skip
        body = gzip.compress(orjson.dumps({"api_key": self.api_key, "sent_at": now, "batch": events}))
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        if post_batch(conn, body, [e["uuid"] for e in events], self.stats, user_agent=ingest.USER_AGENTS[0]):
            with self.lock:
                self.acked[distinct_id] = time.perf_counter()
        conn.close()

    def watch(self, stop: threading.Event) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not stop.is_set():
                with self.lock:
                    waiting = [d for d in self.acked if d not in self.lag]
                if waiting:
                    rows = conn.execute(
                        "SELECT d.distinct_id FROM segments_segmentmembership m"
                        " JOIN tracking_persondistinctid d ON d.person_id = m.person_id AND d.project_id = %s"
                        " WHERE m.segment_id = %s AND m.exited_at IS NULL AND d.distinct_id = ANY(%s)",
                        [self.project_id, self.segment_id, waiting],
                    ).fetchall()
                    seen = time.perf_counter()
                    with self.lock:
                        for (distinct_id,) in rows:
                            self.lag[distinct_id] = seen - self.acked[distinct_id]
                time.sleep(0.1)

    def pending(self) -> int:
        with self.lock:
            return len([d for d in self.acked if d not in self.lag])


class DatabaseSampler:
    """What PostgreSQL is doing, sampled from pg_stat_activity four times a second: where its time goes."""

    def __init__(self, url: str, since: datetime):
        self.url, self.since = url, since
        self.samples = 0
        self.busy: collections.Counter = collections.Counter()
        self.waits: collections.Counter = collections.Counter()
        # background tasks seen finishing: django-q keeps only its last 250 successes, so read them as they come
        self.tasks: dict[str, tuple[str, bool, float, str]] = {}

    @staticmethod
    def shape(query: str) -> str:
        query = re.sub(r"'(?:[^']|'')*'", "?", query)
        query = re.sub(r"\b\d+(\.\d+)?\b", "?", query)
        query = re.sub(r"(\?\s*,\s*)+\?", "?", query)
        query = re.sub(r"\s+", " ", query).strip()
        start = query.upper().find(" FROM ")
        if len(query) > 120 and start > 50:  # a long column list: keep what it reads
            return f"{query[:50]} … {query[start + 1 : start + 66]}"
        return query[:120]

    def run(self, stop: threading.Event) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not stop.is_set():
                rows = conn.execute(
                    "SELECT query, wait_event_type, wait_event FROM pg_stat_activity"
                    " WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
                ).fetchall()
                self.samples += 1
                for query, wait_type, wait in rows:
                    self.busy[self.shape(query)] += 1
                    if wait_type in ("Lock", "LWLock", "IO"):
                        self.waits[f"{wait_type}:{wait}"] += 1
                if self.samples % 8 == 0:
                    self.read_tasks(conn)
                stop.wait(0.25)
            self.read_tasks(conn)

    def read_tasks(self, conn) -> None:
        for task_id, func, success, seconds, result in conn.execute(
            "SELECT id, func, success, extract(epoch FROM stopped - started)::float,"
            " CASE WHEN success THEN '' ELSE right(result::text, 600) END"
            " FROM django_q_task WHERE started >= %s",
            [self.since],
        ).fetchall():
            self.tasks[task_id] = (func, success, seconds, result or "")

    def task_report(self) -> list[str]:
        by_func: dict[str, list[tuple[bool, float]]] = collections.defaultdict(list)
        for func, success, seconds, _ in self.tasks.values():
            by_func[func].append((success, seconds))
        lines = []
        for func, runs in sorted(by_func.items(), key=lambda kv: -len(kv[1])):
            durations = [d for _, d in runs]
            failed = sum(1 for ok, _ in runs if not ok)
            lines.append(f"  {func:<42} {len(runs):>5} runs, {failed} failed,"
                         f" mean {sum(durations) / len(durations):.2f} s, max {max(durations):.2f} s")  # fmt: skip
        for func, success, _, result in self.tasks.values():
            if not success:
                lines.append(f"  FAILED {func}: {' '.join(result.split())[-400:]}")
        return lines

    def failures(self) -> int:
        return sum(1 for _, success, _, _ in self.tasks.values() if not success)

    def report(self, top: int = 10) -> list[str]:
        n = max(self.samples, 1)
        lines = [f"  {count / n:5.2f}  {query}" for query, count in self.busy.most_common(top)]
        if self.waits:
            lines.append(
                "  waiting on: " + ", ".join(f"{w} {c / n:.2f}" for w, c in self.waits.most_common(5))
            )
        return lines


# -- people using the product -------------------------------------------------------------------


class Browser:
    """A logged-in person clicking through the product, one page after another."""

    def __init__(self, port: int, project_id: int, stats: Stats, rng: random.Random):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.p = f"/p/{project_id}"
        self.stats, self.rng = stats, rng
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None):
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=all_headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            return 0, repr(error), time.perf_counter() - t0
        seconds = time.perf_counter() - t0
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie()
            cookie.load(header)
            self.cookies.update({k: m.value for k, m in cookie.items()})
        return response.status, data.decode(errors="replace"), seconds

    def login(self, email: str, password: str) -> None:
        status, page, _ = self.request("GET", "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not token:
            raise RuntimeError(f"login page: {status}")
        form = urlencode(
            {"username": email, "password": password, "csrfmiddlewaretoken": token.group(1)}
        ).encode()
        status, page, _ = self.request("POST", "/login/", body=form,
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login refused: {status} {page[:200]}")

    def page(self, name: str, path: str, *, fragment: bool = False) -> str:
        headers = {"HX-Request": "true"} if fragment else None
        status, text, seconds = self.request("GET", path, headers=headers)
        if 200 <= status < 400:
            self.stats.record(name, seconds)
        else:
            self.stats.error(name, status, f"{path}: {text[:160]}")
            return ""
        # what the page loads by itself as soon as it is shown
        for tag in re.findall(r"<[^>]*hx-trigger=\"load\"[^>]*>", text):
            if url := re.search(r'hx-get="([^"]+)"', tag):
                self.page(f"{name} (fragment)", html.unescape(url.group(1)), fragment=True)
        return text

    def visit(self, think: float, stop: threading.Event, *, once: bool = False) -> None:
        """Click through the product until `stop` (or through every page `once`)."""

        def pause() -> None:
            stop.wait(self.rng.uniform(0.5, 1.5) * think)

        p = self.p
        steps = [
            ("overview", lambda: f"{p}/overview/"),
            ("live events", lambda: f"{p}/events/"),
            ("persons", lambda: f"{p}/persons/"),
            (
                "person",
                lambda: self.pick(r'href="' + p + r'/persons/(\d+)/"', "persons", f"{p}/persons/{{}}/"),
            ),
            ("segments", lambda: f"{p}/segments/"),
            (
                "segment",
                lambda: self.pick(r'href="' + p + r'/segments/(\d+)/"', "segments", f"{p}/segments/{{}}/"),
            ),
            ("trends", lambda: f"{p}/events/trends/"),
            ("replays", lambda: f"{p}/replay/"),
        ]
        self.last: dict[str, str] = getattr(self, "last", {})
        while not stop.is_set():
            for name, path_of in steps:
                if stop.is_set():
                    return
                path = path_of()
                if path is None:
                    continue
                self.last[name] = self.page(name, path)
                if name == "live events":  # the page polls for what arrived since
                    newest = re.search(r"since=(\d+)", self.last[name])
                    if newest:
                        pause()
                        self.page("live events (poll)", f"{p}/events/?since={newest.group(1)}", fragment=True)
                pause()
            if once:
                return

    def pick(self, pattern: str, listing: str, template: str) -> str | None:
        ids = re.findall(pattern, self.last.get(listing, ""))
        return template.format(self.rng.choice(ids)) if ids else None


def warm_up(port: int, stream: Stream, browsers: list[Browser], stats: Stats, *, requests: int) -> None:
    """A few batches and one pass over every page before measuring, as on a server that has been up a while.

    What is acknowledged here counts in the final check and errors count as errors; latencies do not.
    """
    warm = Stats()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(requests):
        body, uuids = stream.ready.get()
        post_batch(conn, body, uuids, warm, user_agent=ingest.USER_AGENTS[0])
    conn.close()
    idle = threading.Event()
    for browser in browsers:
        browser.stats = warm
        browser.visit(0, idle, once=True)
        browser.stats = stats
    stats.acked.extend(warm.acked)
    stats.errors.update(warm.errors)
    stats.error_samples.extend(warm.error_samples)


# -- the run ------------------------------------------------------------------------------------


def line(label: str, values: list[float]) -> str:
    if not values:
        return f"  {label:<26} {0:>6}"
    return (f"  {label:<26} {len(values):>6}  p50 {1000 * percentile(values, 0.5):>6.0f} ms"
            f"  p99 {1000 * percentile(values, 0.99):>6.0f} ms  max {1000 * max(values):>6.0f} ms")  # fmt: skip


def refresh_figures(url: str, project_id: int) -> list[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        state = conn.execute(
            "SELECT last_run_ms, last_run_persons FROM segments_refreshstate WHERE project_id = %s",
            [project_id],
        ).fetchone()
        touches = conn.execute(
            "SELECT count(*) FROM tracking_persontouch WHERE project_id = %s", [project_id]
        ).fetchone()[0]
    lines = []
    with psycopg.connect(url) as conn:
        size, rows = conn.execute(
            "SELECT pg_total_relation_size('tracking_event'), (SELECT count(*) FROM tracking_event)"
        ).fetchone()
    lines.append(
        f"  tracking_event: {rows:,} rows, {size / 1e6:,.0f} MB with indexes ({size / max(rows, 1):,.0f} bytes per event)"
    )
    if state:
        lines.append(
            f"  last live refresh: {state[1]:,} persons in {state[0]:,} ms; persons still waiting for one: {touches:,}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=2000, help="events per second to send (default 2,000)")
    parser.add_argument(
        "--seconds", type=float, default=600, help="how long to send (default 600 = 10 minutes)"
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=50,
        help="largest batch; sizes are uniform from 1 (the snippet sends <= 50)",
    )
    parser.add_argument("--senders", type=int, default=16, help="concurrent ingestion client threads")
    parser.add_argument("--browsers", type=int, default=3, help="people using the product at the same time")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds between one person's page loads"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="gunicorn workers (default: gunicorn.conf.py, 2 x CPUs + 1)"
    )
    parser.add_argument("--q-workers", type=int, default=2, help="background worker processes (Q_WORKERS)")
    parser.add_argument(
        "--ingest-lane", type=int, default=3, help="gunicorn workers serving /i/ only (0: one group for all)"
    )
    parser.add_argument("--drain-workers", type=int, default=1, help="ingest worker processes")
    parser.add_argument("--marker-every", type=float, default=10, help="seconds between marker persons")
    parser.add_argument("--persons", type=int, default=2000, help="people in the seeded demo world")
    parser.add_argument(
        "--progress",
        type=float,
        default=0,
        help="seconds between progress lines (default: a tenth of the run)",
    )
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    progress_every = args.progress or max(5.0, args.seconds / 10)
    cores = os.cpu_count() or 1

    db = harness.ScratchDatabase("temp").open()
    work_dir = Path(tempfile.mkdtemp(prefix="sightline-bench-load-"))
    server = worker = lane = drains = None
    stop = threading.Event()
    threads: list[threading.Thread] = []
    failed = True
    try:
        env = harness.django_setup(db)
        t0 = time.perf_counter()
        demo, marker_segment, dynamic = prepare_world(args.persons, args.seed)
        from demo.services import DEMO_PASSWORD

        project = demo.project
        seeded = stored_uuids(db.url, project.pk)
        print(
            f"scratch world ready in {time.perf_counter() - t0:.0f} s: {len(seeded):,} events, {dynamic} dynamic segments"
        )

        server = ProductionGunicorn(env, workers=args.workers or None, work_dir=work_dir)
        server.wait_ready()
        if args.ingest_lane:
            lane_dir = work_dir / "ingest-lane"
            lane_dir.mkdir()
            lane = ProductionGunicorn(env, workers=args.ingest_lane, work_dir=lane_dir)
            lane.wait_ready()
        ingest_port = lane.port if lane else server.port
        drains = ingest.DrainWorkers(env, args.drain_workers, work_dir)
        worker = QCluster(env, workers=args.q_workers, work_dir=work_dir)
        stats = Stats()
        rng = random.Random(args.seed)
        browsers = [
            Browser(server.port, project.pk, stats, random.Random(rng.random())) for _ in range(args.browsers)
        ]
        for browser in browsers:
            browser.login(demo.user.email, DEMO_PASSWORD)
        stream = Stream(
            api_key=project.public_key,
            rate=args.rate,
            seconds=args.seconds,
            max_batch=args.batch,
            seed=args.seed,
        )
        stream.thread.start()
        markers = Markers(port=ingest_port, url=db.url, api_key=project.public_key, segment_id=marker_segment.pk,
                          project_id=project.pk, stats=stats)  # fmt: skip
        while stream.ready.qsize() < stream.ready.maxsize // 2:
            time.sleep(0.1)
        workers_count = len(server.pids()) - 1
        warm_up(ingest_port, stream, browsers, stats, requests=4 * workers_count)
        ingest.wait_stored(db.url)
        print(f"gunicorn: {workers_count} sync workers (gunicorn.conf.py)"
              + (f", {args.ingest_lane} more for /i/ only" if lane else ", pages and /i/ together")
              + f"; {args.drain_workers} ingest worker(s); qcluster: {args.q_workers} workers;"
              f" {args.senders} senders at {args.rate:,.0f} events/s in batches of 1-{args.batch};"
              f" {args.browsers} people browsing, {args.think:.1f} s between pages; for {args.seconds:.0f} s")  # fmt: skip

        meter = harness.CpuMeter()
        meter.add("client (this process)", lambda: [os.getpid()])
        meter.add("gunicorn", server.pids)
        if lane:
            meter.add("gunicorn /i/ lane", lane.pids)
        meter.add("ingest workers", drains.pids)
        meter.add("qcluster", worker.pids)
        meter.add("postgres", db.server_pids)
        run_started_at = datetime.now(UTC)
        meter.start()
        stream.t0 = time.perf_counter()
        senders = [
            threading.Thread(target=sender, args=(ingest_port, stream, stats, n)) for n in range(args.senders)
        ]
        watchers = [threading.Thread(target=b.visit, args=(args.think, stop)) for b in browsers]
        watchers.append(threading.Thread(target=markers.watch, args=(stop,)))
        sampler = DatabaseSampler(db.url, run_started_at)
        watchers.append(threading.Thread(target=sampler.run, args=(stop,)))
        threads = senders + watchers
        for thread in threads:
            thread.start()

        next_marker = stream.t0 + min(5.0, args.marker_every / 2)
        next_report = stream.t0 + progress_every
        reported = (0, 0)
        while any(t.is_alive() for t in senders):
            now = time.perf_counter()
            if now >= next_marker and now < stream.t0 + args.seconds - 1:
                threading.Thread(target=markers.send, daemon=True).start()
                next_marker += args.marker_every
            if now >= next_report:
                with stats.lock:
                    acked, ingest_n = stats.acked_events, len(stats.latency["ingest"])
                    recent = stats.latency["ingest"][reported[1] :]
                pages = stats.page_latencies()
                errors = sum(stats.errors.values())
                lags = list(markers.lag.values())
                print(f"  [{now - stream.t0:5.0f} s] ingest {(acked - reported[0]) / progress_every:7,.0f} events/s"
                      f" (p99 {1000 * percentile(recent, 0.99):4.0f} ms, behind {stats.behind:4.1f} s)"
                      f"  pages {len(pages):5} (p99 {1000 * percentile(pages, 0.99):5.0f} ms)  errors {errors}"
                      f"  markers {len(lags)}/{markers.sent} (max lag {max(lags, default=0):.1f} s)", flush=True)  # fmt: skip
                reported = (acked, ingest_n)
                next_report += progress_every
            time.sleep(0.05)
        for thread in senders:
            thread.join()
        sent_for = stats.last_ack - stream.t0
        queue_left = ingest.wait_stored(db.url) - stream.t0 - sent_for
        deadline = time.monotonic() + 60
        while markers.pending() and time.monotonic() < deadline:  # the last markers' refresh
            time.sleep(0.2)
        stop.set()
        stream.stop.set()
        for thread in watchers:
            thread.join(timeout=150)
        meter.stop()
        wall = meter.wall

        server.stop()
        if lane:
            lane.stop()
        drains.stop()
        worker.stop()
        ok, detail = ingest.count_check(db.url, project.pk, seeded + stats.acked)
        lost = len(set(stats.acked) - set(stored_uuids(db.url, project.pk)))

        ingest_lat = stats.latency["ingest"]
        pages = stats.page_latencies()
        errors = sum(stats.errors.values())
        lags = sorted(markers.lag.values())
        never = markers.sent - len(lags)
        print()
        print(f"ingest:       {stats.acked_events / sent_for:,.0f} events/s achieved (target {args.rate:,.0f}):"
              f" {stats.acked_events:,} events acknowledged in {stats.requests:,} requests over {sent_for:.1f} s;"
              f" schedule ran at most {stats.behind:.2f} s late")  # fmt: skip
        shortfall = args.rate * args.seconds - stream.scheduled
        if shortfall > args.rate:  # more than a second's worth: the server did not keep up
            print(
                f"              NOT sustained: {shortfall:,.0f} scheduled events were still waiting when the time was up"
            )
        print(f"              the ingest queue was empty {queue_left:.2f} s after the last ack")
        print(f"ingest ack:   p50 {1000 * percentile(ingest_lat, 0.5):.0f} ms, p99 {1000 * percentile(ingest_lat, 0.99):.0f} ms,"
              f" max {1000 * max(ingest_lat, default=0):.0f} ms")  # fmt: skip
        print(f"page loads:   {len(pages):,} in all, p50 {1000 * percentile(pages, 0.5):.0f} ms,"
              f" p95 {1000 * percentile(pages, 0.95):.0f} ms, p99 {1000 * percentile(pages, 0.99):.0f} ms,"
              f" max {1000 * max(pages, default=0):.0f} ms")  # fmt: skip
        order = ["overview", "live events", "live events (poll)", "persons", "person", "person (fragment)",
                 "segments", "segment", "trends", "replays"]  # fmt: skip
        for name in order + sorted(set(stats.latency) - set(order) - {"ingest"}):
            if name in stats.latency:
                print(line(name, stats.latency[name]))
        by_status = (
            ", ".join(f"{what} {status}: {n}" for (what, status), n in sorted(stats.errors.items())) or "none"
        )
        print(
            f"errors:       {errors} ({by_status}); client retries {stats.retries}, rejected events {stats.rejected}"
        )
        for sample in stats.error_samples:
            print(f"  {sample}")
        for text in server.logged_errors() + [
            f"  {t}" for t in server.log_lines("WORKER TIMEOUT", "[ERROR]")[:8]
        ]:
            print(f"  server log: {text.strip()}")
        print(f"events lost:  {lost} of {len(stats.acked):,} acknowledged (warm-up included);"
              f" seeded + acknowledged, each stored once: {'OK' if ok else 'FAILED'} - {detail}")  # fmt: skip
        if lags:
            print(f"segment lag:  {len(lags)} marker persons, ack -> member of “{MARKER_SEGMENT}”:"
                  f" p50 {percentile(lags, 0.5):.2f} s, p95 {percentile(lags, 0.95):.2f} s, max {lags[-1]:.2f} s,"
                  f" min {lags[0]:.2f} s"
                  + (f"; {never} never entered" if never else ""))  # fmt: skip
        else:
            print(f"segment lag:  no marker entered the segment ({markers.sent} sent)")
        print("background work during the run:")
        for text in sampler.task_report() + refresh_figures(db.url, project.pk) + worker.logged_errors():
            print(text)
        print("postgres, statements running at a random moment (mean number of backends running each):")
        for text in sampler.report():
            print(text)
        print(f"cpu ({wall:.0f} s, {cores} cores):")
        for text in meter.report(cores):
            print(text)
        server_cpu = sum(
            meter.used(name)
            for name in ("gunicorn", "gunicorn /i/ lane", "ingest workers", "qcluster", "postgres")
            if name in meter.groups
        )
        if stats.acked_events:
            per_event = server_cpu / stats.acked_events
            print(f"  server CPU per acknowledged event, pages and background work included: {1e3 * per_event:.2f} ms;"
                  f" {cores} idle cores would carry about {cores / per_event:,.0f} events/s of this mix")  # fmt: skip
        failed = bool(
            errors or lost or not ok or never or not lags or shortfall > args.rate or sampler.failures()
        )
    finally:
        stop.set()
        if "stream" in locals():
            stream.stop.set()
        for process in (server, lane, drains, worker):
            if process is not None:
                process.stop()
        db.close()
        shutil.rmtree(work_dir, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
