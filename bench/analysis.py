"""Timings of funnels, comparisons, retention and paths on a generated dataset.

    .venv/bin/python bench/analysis.py                  # 1M events (generated once, then reused)
    .venv/bin/python bench/analysis.py --events 10000000
    .venv/bin/python bench/analysis.py --regenerate

The data lives in its own database (`bench_analysis` on the same server as the
app's), created and migrated on first use, one project per dataset size. Events
are written with COPY: persons browse a small shop over 90 days — pages, sign
ups, carts, checkouts, purchases with an amount — in sessions on Chrome, Safari,
Firefox or Edge (Safari's checkouts fail more often). Segments are computed with
the segments app's own services. The funnels' first step is an action matching
the /pricing URL (the `url` column), and once a `$current_url` property filter
(the JSON properties) for comparison. Each figure is the median of three runs after
one warm-up (`--runs` to change), in milliseconds.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()
logging.getLogger("django-q").setLevel(logging.WARNING)

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

BENCH_DB = "bench_analysis"
DAYS = 90
BROWSERS = [("Chrome", "Windows", "desktop", 0.55), ("Safari", "macOS", "desktop", 0.2),
            ("Firefox", "Linux", "desktop", 0.15), ("Edge", "Windows", "desktop", 0.1)]  # fmt: skip
COUNTRIES = ["US", "DE", "FR", "GB", "IN", "BR", "JP", "CA"]
PAGES = ["/", "/pricing", "/docs", "/blog", "/features", "/about"]
PLANS = [("free", 0.6), ("pro", 0.3), ("enterprise", 0.1)]


def use_bench_database() -> None:
    """Point the default connection at the bench database, creating and migrating it on first use."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB])
        exists = cursor.fetchone() is not None
        if not exists:
            cursor.execute(f"CREATE DATABASE {BENCH_DB}")
    connections["default"].close()
    connections["default"].settings_dict["NAME"] = BENCH_DB
    call_command("migrate", verbosity=0)


def pick(options: list[tuple]) -> tuple:
    r = random.random()
    total = 0.0
    for option in options:
        total += option[-1]
        if r <= total:
            return option
    return options[-1]


def session_events(person: int, browser: str, start: datetime) -> list[tuple[str, str, dict, datetime]]:
    """One visit: (event name, path, properties, timestamp)."""
    events = []
    t = start
    path = random.choice(PAGES)
    for _ in range(random.randint(1, 12)):
        events.append(("$pageview", path, {}, t))
        t += timedelta(seconds=random.randint(5, 240))
        if path == "/pricing" and random.random() < 0.25:
            events.append(("signup", "/signup", {"plan": pick(PLANS)[0]}, t))
            t += timedelta(seconds=random.randint(5, 120))
        if path in ("/features", "/pricing") and random.random() < 0.2:
            events.append(("add_to_cart", path, {"sku": f"sku-{random.randint(1, 40)}"}, t))
            t += timedelta(seconds=random.randint(5, 120))
            if random.random() < 0.7:
                events.append(("checkout_started", "/checkout", {}, t))
                t += timedelta(seconds=random.randint(5, 300))
                if random.random() < (0.25 if browser == "Safari" else 0.75):
                    events.append(("purchase", "/checkout", {"amount": round(random.uniform(5, 400), 2)}, t))
                    t += timedelta(seconds=random.randint(5, 60))
        path = random.choice([*PAGES, "/pricing", "/features"])
    return events


def generate(project, target_events: int) -> None:
    """Persons, sessions and events with COPY; about 20 events per person."""
    random.seed(7)
    now = datetime.now(UTC)
    persons = max(1000, target_events // 20)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM tracking_person")
        first_person = cursor.fetchone()[0] + 1
    person_rows, session_rows, event_rows = [], [], 0
    sessions_out: list[tuple] = []
    started = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection underneath Django's
    with (
        raw.cursor() as cursor,
        cursor.copy(
            "COPY tracking_event (project_id, uuid, person_id, distinct_id, session_key, name, timestamp, received_at,"
            " url, path, el_text, href, elements_chain, properties) FROM STDIN"
        ) as copy,
    ):
        for index in range(persons):
            if event_rows >= target_events:
                break
            pid = first_person + index
            first_seen = now - timedelta(days=random.uniform(0, DAYS), seconds=random.randint(0, 3600))
            plan = pick(PLANS)[0]
            last = first_seen
            visits = max(1, int(random.expovariate(1 / 3)))
            t = first_seen
            for visit in range(visits):
                if t > now:
                    break
                browser, os_name, device, _ = pick(BROWSERS)
                key = f"b{pid}-{visit}"
                evs = session_events(pid, browser, t)
                for name, path, props, ts in evs:
                    if ts > now:
                        break
                    url = f"https://shop.example{path}"
                    copy.write_row((
                        project.pk, uuid.uuid4(), pid, f"d{pid}", key, name, ts, ts,
                        url, path, "", "", "", _json({**props, "$current_url": url}),
                    ))  # fmt: skip
                    event_rows += 1
                    last = max(last, ts)
                sessions_out.append(
                    (
                        project.pk,
                        key,
                        pid,
                        evs[0][3],
                        last,
                        browser,
                        os_name,
                        device,
                        random.choice(COUNTRIES),
                        len(evs),
                    )
                )
                t = last + timedelta(days=random.expovariate(1 / 6))
            person_rows.append(
                (pid, project.pk, _json({"plan": plan, "email": f"user{pid}@example.com"}), first_seen, last)
            )
    session_rows = sessions_out
    with raw.cursor() as cursor:
        with cursor.copy(
            "COPY tracking_person (id, project_id, properties, is_identified, first_seen, last_seen, created_at) FROM STDIN"
        ) as copy:
            for pid, project_id, props, first_seen, last in person_rows:
                copy.write_row((pid, project_id, props, True, first_seen, last, now))
        with cursor.copy(
            "COPY tracking_session (project_id, session_key, person_id, started_at, ended_at, entry_url, exit_url, referrer,"
            " event_count, pageview_count, autocapture_count, rageclick_count, dead_click_count, browser, browser_version,"
            " os, os_version, device_type, country, region, city, has_recording) FROM STDIN"
        ) as copy:
            for project_id, key, pid, start, end, browser, os_name, device, country, count in session_rows:
                copy.write_row((project_id, key, pid, start, end, "", "", "", count, count, 0, 0, 0, browser, "",
                                os_name, "", device, country, "", "", False))  # fmt: skip
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tracking_person', 'id'), (SELECT max(id) FROM tracking_person))"
        )
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tracking_event; ANALYZE tracking_person; ANALYZE tracking_session;")
    elapsed = time.perf_counter() - started
    print(
        f"generated {event_rows:,} events, {len(person_rows):,} persons, {len(session_rows):,} sessions in {elapsed:.1f} s"
    )


def _json(value: dict) -> str:
    import json

    return json.dumps(value)


def project_for(events: int, *, regenerate: bool):
    from tracking.models import Organization, Project

    organization, _ = Organization.objects.get_or_create(name="Bench analysis")
    name = f"bench-{events}"
    project = Project.objects.filter(organization=organization, name=name).first()
    if project is not None and regenerate:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM tracking_event WHERE project_id = %s", [project.pk])
        project.delete()
        project = None
    if project is None:
        project = Project.objects.create(organization=organization, name=name)
        generate(project, events)
    return project


def segments_for(project) -> list:
    from django_q.conf import Conf

    from segments.models import Segment
    from segments.services import segment_compute, segment_create

    Conf.SYNC = True  # compute inline rather than through the task queue
    wanted = {
        "Pro plan": {
            "match": "all",
            "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
        },
        "Enterprise plan": {
            "match": "all",
            "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "enterprise"}],
        },
        "Safari users": {
            "match": "all",
            "conditions": [{"type": "device", "property": "browser", "operator": "eq", "value": "Safari"}],
        },
    }
    out = []
    for name, definition in wanted.items():
        segment = Segment.objects.filter(project=project, name=name).first()
        if segment is None:
            started = time.perf_counter()
            segment = segment_create(project=project, name=name, definition=definition)
            if segment.computed_at is None:
                segment_compute(segment=segment)
            segment.refresh_from_db()
            print(
                f"segment {name!r}: {segment.size:,} members, computed in {(time.perf_counter() - started) * 1000:.0f} ms"
            )
        out.append(segment)
    return out


RUNS = 3


def timed(label: str, run) -> None:
    run()  # warm-up: plans, caches
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    print(f"{label:<62} {statistics.median(times):>8.0f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--runs", type=int, default=3, help="timed runs after the warm-up (the median is printed)"
    )
    args = parser.parse_args()
    global RUNS
    RUNS = max(1, args.runs)

    from analysis import reads

    reads.TIMEOUT_MS = 30 * 60 * 1000  # measure, do not cancel

    use_bench_database()
    project = project_for(args.events, regenerate=args.regenerate)
    pro, enterprise, safari = segments_for(project)

    from analysis.compare import compare_compute, compare_params
    from analysis.funnels import funnel_compute, funnel_params
    from analysis.paths import paths_compute, paths_params
    from analysis.retention import retention_compute, retention_params

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tracking_event WHERE project_id = %s", [project.pk])
        total = cursor.fetchone()[0]
    print(f"\n{total:,} events in project {project.pk}; timings are medians of {RUNS} runs after a warm-up\n")

    from tracking.models import Action

    pricing, _ = Action.objects.get_or_create(
        project=project,
        name="Viewed pricing",
        defaults={"steps": [{"event": "$pageview", "url": "/pricing", "url_matching": "contains"}]},
    )
    by_property = {
        "name": "$pageview",
        "where": [{"property": "$current_url", "operator": "contains", "value": "/pricing"}],
    }
    rest = [{"name": "add_to_cart"}, {"name": "checkout_started"}, {"name": "purchase"}]
    steps = [{"action": pricing.pk}, *rest]

    def funnel(first: dict | None = None, **extra):
        query = funnel_params(
            {"steps": [first, *rest] if first else steps, "within": {"value": 1, "unit": "days"}, **extra},
            project=project,
        )
        return lambda: funnel_compute(project=project, query=query)

    timed("funnel, 4 steps, last 30 days", funnel(last_days=30))
    timed("funnel, 4 steps, last 90 days", funnel(last_days=90))
    timed("funnel, 4 steps, 90 days, URL step as a $current_url filter", funnel(by_property, last_days=90))
    timed("funnel, 4 steps, 90 days, by browser", funnel(last_days=90, breakdown={"type": "browser"}))
    timed(
        "funnel, 4 steps, 90 days, by person property",
        funnel(last_days=90, breakdown={"type": "person", "property": "plan"}),
    )
    timed(
        "funnel, 4 steps, 90 days, by 3 segments",
        funnel(last_days=90, breakdown={"type": "segment", "segments": [pro.pk, enterprise.pk, safari.pk]}),
    )
    result = funnel(last_days=90, breakdown={"type": "browser"})()
    if result.highlight:
        h = result.highlight
        print(f"  (singled out: {h.row.label} at step {h.step}, {h.rate:.1%} vs {h.rest_rate:.1%})")

    def compare(metric: dict, segments: list, **extra):
        query = compare_params(
            {"metric": metric, "segments": [s.pk for s in segments], "last_days": 90, **extra},
            project=project,
        )
        return lambda: compare_compute(project=project, query=query)

    conversion = {
        "kind": "conversion",
        "definition": {
            "from": {"name": "add_to_cart"},
            "to": {"name": "purchase"},
            "within": {"value": 1, "unit": "days"},
        },
    }
    activation = {"kind": "activation", "definition": {"event": {"name": "signup"}, "within_days": 7}}
    value = {
        "kind": "value",
        "definition": {"event": {"name": "purchase"}, "property": "amount", "aggregate": "sum"},
    }
    churn = {"kind": "churn", "definition": {"days": 14}}
    frequency = {"kind": "frequency", "definition": {"event": None}}
    timed(
        "compare conversion (cart → purchase), 3 segments, 90 days",
        compare(conversion, [pro, enterprise, safari]),
    )
    timed("compare activation, 3 segments, 90 days", compare(activation, [pro, enterprise, safari]))
    timed("compare value per person, in vs out, 90 days", compare(value, [pro], vs_rest=True))
    timed("compare churn, 2 segments, 90 days", compare(churn, [pro, enterprise]))
    timed("compare frequency, 2 segments, 90 days", compare(frequency, [pro, enterprise]))

    retention = retention_params(
        {"last_days": 90, "periods": 8, "segments": [pro.pk, safari.pk]}, project=project
    )
    timed(
        "retention, weekly cohorts, 90 days, 2 segments",
        lambda: retention_compute(project=project, query=retention),
    )
    paths = paths_params(
        {"last_days": 90, "start": {"path": "/pricing"}, "segments": [pro.pk]}, project=project
    )
    timed("paths after /pricing, 90 days, 1 segment", lambda: paths_compute(project=project, query=paths))


if __name__ == "__main__":
    main()
