"""Funnels, comparisons, retention and paths on PostgreSQL or ClickHouse, against DuckDB on the same rows.

    .venv/bin/python bench/analysis.py                          # 1M events, events in PostgreSQL
    .venv/bin/python bench/analysis.py --backend clickhouse     # events in ClickHouse (chDB in this process)
    .venv/bin/python bench/analysis.py --events 10000000 --runs 5

Each run generates its data into a scratch PostgreSQL (bench/harness.py;
`--server embedded` for a database in the project's server) and, with
`--backend clickhouse`, its events into a chDB directory in the run's scratch
folder (bench/backends.py); everything is removed at the end. Persons browse a
small shop over 90 days — pages, sign ups, carts, checkouts, purchases with an
amount — in sessions on Chrome, Safari, Firefox or Edge (Safari's checkouts
fail more often). Events are written to a file in COPY text format and bulk
loaded into the backend. Segments are computed with the segments app's own
services. The funnels' first step is an action matching the /pricing URL (the
`url` column), and once a `$current_url` property filter (the JSON
properties) for comparison.

Every query runs through the product's own function (funnel_compute,
compare_compute, retention_compute, paths_compute) and through its DuckDB twin
(bench/analysis_duckdb.py) over the same rows read back from the backend, 2
threads. Each line prints the median of `--runs` runs after one warm-up on
both, in milliseconds, the ratio backend / DuckDB, and whether the numbers the
product shows (step counts, compare groups, retention cells, path counts) are
equal to DuckDB's.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import analysis_duckdb as duck  # noqa: E402
from bench import backends, harness  # noqa: E402

DAYS = 90
BROWSERS = [("Chrome", "Windows", "desktop", 0.55), ("Safari", "macOS", "desktop", 0.2),
            ("Firefox", "Linux", "desktop", 0.15), ("Edge", "Windows", "desktop", 0.1)]  # fmt: skip
COUNTRIES = ["US", "DE", "FR", "GB", "IN", "BR", "JP", "CA"]
PAGES = ["/", "/pricing", "/docs", "/blog", "/features", "/about"]
PLANS = [("free", 0.6), ("pro", 0.3), ("enterprise", 0.1)]


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


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def generate(url: str, project_id: int, target_events: int, now: datetime, events_file: Path) -> dict:
    """Persons and sessions with COPY into PostgreSQL, events into `events_file`; about 20 events per person."""
    import psycopg

    random.seed(7)
    persons = max(1000, target_events // 20)
    person_rows, sessions_out, event_rows = [], [], 0
    started = time.perf_counter()
    with open(events_file, "w") as out:
        for index in range(persons):
            if event_rows >= target_events:
                break
            pid = 1 + index
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
                lines = []
                for name, path, props, moment in evs:
                    if moment > now:
                        break
                    page = f"https://shop.example{path}"
                    at = moment.isoformat()
                    lines.append(f"{project_id}\t{uuid.uuid4().hex}\t{pid}\td{pid}\t{key}\t{name}\t{at}\t{at}"
                                 f"\t{page}\t{path}\t\t\t\t{_escape(_json({**props, '$current_url': page}))}\n")  # fmt: skip
                    last = max(last, moment)
                out.writelines(lines)
                event_rows += len(lines)
                sessions_out.append((project_id, key, pid, evs[0][3], last, browser, os_name, device,
                                     random.choice(COUNTRIES), len(evs)))  # fmt: skip
                t = last + timedelta(days=random.expovariate(1 / 6))
            person_rows.append(
                (pid, project_id, _json({"plan": plan, "email": f"user{pid}@example.com"}), first_seen, last)
            )
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(
            "COPY tracking_person (id, project_id, properties, is_identified, first_seen, last_seen, created_at) FROM STDIN"
        ) as copy:
            for pid, pid_project, props, first_seen, last in person_rows:
                copy.write_row((pid, pid_project, props, True, first_seen, last, now))
        with cursor.copy(
            "COPY tracking_session (project_id, session_key, person_id, started_at, ended_at, entry_url, exit_url, referrer,"
            " event_count, pageview_count, autocapture_count, rageclick_count, dead_click_count, browser, browser_version,"
            " os, os_version, device_type, country, region, city, has_recording) FROM STDIN"
        ) as copy:
            for row_project, key, pid, start, end, browser, os_name, device, country, count in sessions_out:
                copy.write_row((row_project, key, pid, start, end, "", "", "", count, count, 0, 0, 0, browser, "",
                                os_name, "", device, country, "", "", False))  # fmt: skip
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tracking_person', 'id'), (SELECT max(id) FROM tracking_person))"
        )
    return {"events": event_rows, "persons": len(person_rows), "sessions": len(sessions_out),
            "generate_s": time.perf_counter() - started}  # fmt: skip


def _json(value: dict) -> str:
    return json.dumps(value)


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
            segment.refresh_from_db()  # the creation may have computed it already (a synchronous queue)
            if segment.computed_at is None:
                segment_compute(segment=segment)
            segment.refresh_from_db()
            print(
                f"segment {name!r}: {segment.size:,} members, computed in {(time.perf_counter() - started) * 1000:.0f} ms"
            )
        out.append(segment)
    return out


RUNS = 3
ROWS: list[tuple[str, float, float, bool]] = []


def _median_ms(run) -> tuple[float, object]:
    from analysis.reads import AnalysisTimeout

    try:
        result = run()  # warm-up: plans, caches
    except AnalysisTimeout:
        return float("nan"), "cancelled after --timeout"
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def timed(label: str, product, baseline) -> object:
    """Time the product's call and its DuckDB twin; print both, the ratio and whether their numbers agree."""
    backend_ms, numbers = _median_ms(product)
    duck_ms, expected = _median_ms(baseline)
    equal = numbers == expected
    ROWS.append((label, backend_ms, duck_ms, equal))
    print(f"{label:<58} {backend_ms:>8.0f} ms {duck_ms:>8.0f} ms {backend_ms / max(duck_ms, 0.001):>6.1f}x"
          f"  {'yes' if equal else 'NO'}", flush=True)  # fmt: skip
    if not equal:
        print(f"    product: {numbers!r:.600}\n    duckdb:  {expected!r:.600}")
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--runs", type=int, default=3, help="timed runs after the warm-up (the median is printed)"
    )
    parser.add_argument("--server", choices=["temp", "embedded"], default="temp", help="see bench/harness.py")
    parser.add_argument(
        "--pg-setting", action="append", metavar="NAME=VALUE", help="ALTER SYSTEM on the temp server"
    )
    parser.add_argument(
        "--timeout", type=int, default=600, help="seconds after which a PostgreSQL statement is cancelled"
    )
    backends.add_argument(parser)
    args = parser.parse_args()
    global RUNS
    RUNS = max(1, args.runs)

    now = datetime.now(UTC)
    db = harness.ScratchDatabase(args.server, harness.parse_pg_settings(args.pg_setting)).open()
    work = Path(tempfile.mkdtemp(prefix="sightline-bench-analysis-"))
    clickhouse = args.backend == "clickhouse"
    try:
        backends.configure(args.backend, work)
        harness.django_setup(db)
        logging.getLogger("django-q").setLevel(logging.WARNING)
        print("postgres: " + ", ".join(f"{k}={v}" for k, v in db.settings(
            ["shared_buffers", "effective_cache_size", "max_parallel_workers_per_gather", "work_mem"]).items()))  # fmt: skip
        if clickhouse:
            backends.clickhouse_migrate()
        project = harness.bench_project(name=f"bench-{args.events}")
        generated = generate(db.url, project.pk, args.events, now, work / "events.tsv")
        print(f"generated {generated['events']:,} events, {generated['persons']:,} persons,"
              f" {generated['sessions']:,} sessions in {generated['generate_s']:.1f} s", flush=True)  # fmt: skip
        if clickhouse:
            loaded = backends.clickhouse_insert_file(work / "events.tsv")
            loaded["rollup_s"] = time.perf_counter()
            backends.clickhouse_rollup_to_postgres(db.url, project.pk, project.timezone, work)
            loaded["rollup_s"] = time.perf_counter() - loaded["rollup_s"]
            vacuum_s = backends.postgres_analyze(db.url)
            print(f"clickhouse (chDB): {loaded['rows']:,} events inserted in {loaded['insert_s']:.1f} s, merged in"
                  f" {loaded['optimize_s']:.1f} s, {loaded['bytes'] / 1e6:,.0f} MB on disk; daily rollup to"
                  f" PostgreSQL {loaded['rollup_s']:.1f} s; vacuum analyze {vacuum_s:.1f} s", flush=True)  # fmt: skip
        else:
            loaded = backends.postgres_insert_file(db.url, work / "events.tsv", project.pk)
            print(f"postgres: {loaded['rows']:,} events copied in {loaded['copy_s']:.1f} s, indexes"
                  f" {loaded['index_s']:.1f} s, daily rollup {loaded['rollup_s']:.1f} s, vacuum analyze"
                  f" {loaded['vacuum_s']:.1f} s", flush=True)  # fmt: skip
        (work / "events.tsv").unlink()
        meter = backends.cpu_meter(db)
        run_queries(project, now, db.url, work, args.backend, args.timeout)
        backends.cpu_report(meter)
    finally:
        db.close()
        if db.keep:
            print(f"kept: {work} (CLICKHOUSE_URL=chdb://{work / 'chdb'} with --backend clickhouse)")
        else:
            import shutil

            shutil.rmtree(work, ignore_errors=True)


def run_queries(project, now: datetime, url: str, work: Path, backend: str, timeout_s: int) -> None:
    from analysis import reads
    from analysis.compare import compare_compute, compare_params
    from analysis.funnels import funnel_compute, funnel_params
    from analysis.params import range_bounds
    from analysis.paths import paths_compute, paths_params
    from analysis.retention import PERIODS, retention_compute, retention_params
    from tracking.models import Action

    reads.TIMEOUT_MS = timeout_s * 1000  # measure; cancel only what would not finish in the run
    pro, enterprise, safari = segments_for(project)
    baseline, load_s = duck.load(url, project.pk, work, backend)
    try:
        duck.members_create(baseline, {pro.pk: "pro", enterprise.pk: "enterprise", safari.pk: "safari"})
        product_members = {
            s.pk: set(s.memberships.filter(exited_at__isnull=True).values_list("person_id", flat=True))
            for s in (pro, enterprise, safari)
        }
        threads = baseline.execute("SELECT current_setting('threads')").fetchone()[0]
        print(f"duckdb: rows read back from {backend} and loaded in {load_s:.1f} s ({threads} threads);"
              f" segment members equal: {'yes' if duck.members_equal(baseline, product_members) else 'NO'}")  # fmt: skip
        print(f"\n{'query':<58} {backend:>11} {'duckdb':>11} {'ratio':>7}  equal"
              f"   (medians of {RUNS} runs after a warm-up)")  # fmt: skip

        pricing = Action.objects.create(
            project=project,
            name="Viewed pricing",
            steps=[{"event": "$pageview", "url": "/pricing", "url_matching": "contains"}],
        )
        by_property = {
            "name": "$pageview",
            "where": [{"property": "$current_url", "operator": "contains", "value": "/pricing"}],
        }
        rest = [{"name": "add_to_cart"}, {"name": "checkout_started"}, {"name": "purchase"}]
        steps = [{"action": pricing.pk}, *rest]
        rest_sql = ["name = 'add_to_cart'", "name = 'checkout_started'", "name = 'purchase'"]
        action_sql = "name = '$pageview' AND url ILIKE '%/pricing%'"
        property_sql = (
            "name = '$pageview' AND json_extract_string(properties, '/$current_url') ILIKE '%/pricing%'"
        )

        def funnel(
            label: str, first: dict | None = None, first_sql: str = action_sql, breakdown=None, **extra
        ):
            query = funnel_params(
                {
                    "steps": [first, *rest] if first else steps,
                    "within": {"value": 1, "unit": "days"},
                    **extra,
                },
                project=project,
            )
            start, end = range_bounds(query.range, project)
            kind = None
            if query.breakdown is not None:
                kind = (query.breakdown.type, query.breakdown.prop)
            timed(label, lambda: duck.funnel_numbers(funnel_compute(project=project, query=query)),
                  lambda: duck.funnel(baseline, [first_sql, *rest_sql], query.within.delta, start, end, kind))  # fmt: skip

        funnel("funnel, 4 steps, last 30 days", last_days=30)
        funnel("funnel, 4 steps, last 90 days", last_days=90)
        funnel("funnel, 4 steps, 90 days, URL step as a $current_url filter", by_property, property_sql,
               last_days=90)  # fmt: skip
        funnel("funnel, 4 steps, 90 days, by browser", last_days=90, breakdown={"type": "browser"})
        funnel("funnel, 4 steps, 90 days, by person property", last_days=90,
               breakdown={"type": "person", "property": "plan"})  # fmt: skip
        funnel("funnel, 4 steps, 90 days, by 3 segments", last_days=90,
               breakdown={"type": "segment", "segments": [pro.pk, enterprise.pk, safari.pk]})  # fmt: skip

        def compare(label: str, metric: dict, segments: list, plain: dict, vs_rest: bool = False):
            query = compare_params(
                {"metric": metric, "segments": [s.pk for s in segments], "last_days": 90, "vs_rest": vs_rest},
                project=project,
            )
            start, end = range_bounds(query.range, project)
            population = duck.population_sql(metric["kind"], plain, start, end, now)
            ids = [s.pk for s in segments]
            timed(label, lambda: duck.compare_numbers(compare_compute(project=project, query=query, now=now)),
                  lambda: duck.compare(baseline, population, ids, vs_rest, query.metric.is_rate))  # fmt: skip

        day = {"value": 1, "unit": "days"}
        compare(
            "compare conversion (cart → purchase), 3 segments, 90 days",
            {
                "kind": "conversion",
                "definition": {"from": {"name": "add_to_cart"}, "to": {"name": "purchase"}, "within": day},
            },
            [pro, enterprise, safari],
            {"from": "add_to_cart", "to": "purchase", "within": timedelta(days=1)},
        )
        compare(
            "compare activation, 3 segments, 90 days",
            {"kind": "activation", "definition": {"event": {"name": "signup"}, "within_days": 7}},
            [pro, enterprise, safari],
            {"event": "signup", "within_days": 7},
        )
        compare(
            "compare value per person, in vs out, 90 days",
            {
                "kind": "value",
                "definition": {"event": {"name": "purchase"}, "property": "amount", "aggregate": "sum"},
            },
            [pro],
            {"event": "purchase", "property": "amount"},
            vs_rest=True,
        )
        compare(
            "compare churn, 2 segments, 90 days",
            {"kind": "churn", "definition": {"days": 14}},
            [pro, enterprise],
            {"days": 14},
        )
        compare("compare frequency, 2 segments, 90 days", {"kind": "frequency", "definition": {"event": None}},
                [pro, enterprise], {})  # fmt: skip

        retention = retention_params(
            {"last_days": 90, "periods": 8, "segments": [pro.pk, safari.pk]}, project=project
        )
        start, end = range_bounds(retention.range, project)
        timed("retention, weekly cohorts, 90 days, 2 segments",
              lambda: duck.retention_numbers(retention_compute(project=project, query=retention, now=now)),
              lambda: duck.retention(baseline, start, end, PERIODS[retention.period], retention.periods,
                                     [pro.pk, safari.pk]))  # fmt: skip
        paths = paths_params(
            {"last_days": 90, "start": {"path": "/pricing"}, "segments": [pro.pk]}, project=project
        )
        start, end = range_bounds(paths.range, project)
        timed("paths after /pricing, 90 days, 1 segment",
              lambda: duck.paths_numbers(paths_compute(project=project, query=paths)),
              lambda: duck.paths_tree(duck.paths_next_pageviews(baseline, "/pricing", start, end, [pro.pk]), [pro]))  # fmt: skip

        finished = [r for r in ROWS if r[1] == r[1]]  # NaN: cancelled
        total_backend = sum(r[1] for r in finished)
        total_duck = sum(r[2] for r in finished)
        slowest = max(finished, key=lambda r: r[1])
        worst = max(finished, key=lambda r: r[1] / max(r[2], 0.001))
        goal = sum(1 for r in finished if r[1] <= 1000 and r[1] <= r[2])
        print(f"{'all finished queries':<58} {total_backend:>8.0f} ms {total_duck:>8.0f} ms"
              f" {total_backend / max(total_duck, 0.001):>6.1f}x  {sum(r[3] for r in ROWS)}/{len(ROWS)} equal")  # fmt: skip
        print(f"slowest on {backend}: {slowest[0]} {slowest[1]:.0f} ms; worst ratio: {worst[0]}"
              f" {worst[1] / max(worst[2], 0.001):.1f}x; <= 1 s and no slower than DuckDB: {goal}/{len(ROWS)}"
              + (f"; cancelled: {len(ROWS) - len(finished)}" if len(finished) < len(ROWS) else ""))  # fmt: skip
    finally:
        baseline.close()


if __name__ == "__main__":
    main()
