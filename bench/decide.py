"""Decide under a realistic load of state: server time per /i/v1/decide request.

    .venv/bin/python bench/decide.py [--persons 100000] [--interventions 50] [--requests 5000]

Sets up, in a scratch database (bench/harness.py): a project with N persons and
their distinct ids, 20 segments with materialised memberships (each person in
about three of them), the interventions (half feature flags with segment rules
and rollouts, half live nudges with segment targeting and holdouts) and
exposures for a tenth of the persons. Then times `/i/v1/decide` for random
visitors (known persons, and a share of unknown anonymous ids):

- "server": the whole request through Django's WSGI handler in this process
  (parsing, key lookup, the answer, JSON), which is what a web worker spends;
- "answer": `interventions.decide.decide_answer` alone.

It prints p50/p95/p99/max for both and the queries per request. Goal: p99 ≤ 10 ms.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import harness

SEGMENTS = 20


def _copy(cursor, table: str, columns: str, rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(str(v) for v in row) + "\n")
    buffer.seek(0)
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write(buffer.read())


def setup(persons: int, interventions: int, rng: random.Random):
    from django.db import connection
    from django.utils import timezone

    from interventions import services
    from segments.models import Segment, SegmentKind, SegmentStatus

    project = harness.bench_project(name="Decide")
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as c:
        raw = c.cursor
        raw.execute("SELECT nextval(pg_get_serial_sequence('tracking_person', 'id'))")
        first_id = raw.fetchone()[0] + 1
        ids = range(first_id, first_id + persons)
        _copy(
            raw,
            "tracking_person",
            "id, project_id, properties, is_identified, first_seen, last_seen, created_at",
            ((i, project.pk, "{}", "t", now.isoformat(), now.isoformat(), now.isoformat()) for i in ids),
        )
        raw.execute(
            "SELECT setval(pg_get_serial_sequence('tracking_person', 'id'), %s)", [first_id + persons]
        )
        _copy(
            raw,
            "tracking_persondistinctid",
            "project_id, distinct_id, person_id",
            ((project.pk, f"user-{i}", i) for i in ids),
        )
    segments = [
        Segment.objects.create(
            project=project,
            name=f"Segment {n}",
            kind=SegmentKind.DYNAMIC,
            definition={"match": "all", "negate": False, "conditions": []},
            status=SegmentStatus.READY,
            computed_at=now,
        )
        for n in range(SEGMENTS)
    ]
    with connection.cursor() as c:
        _copy(
            c.cursor,
            "segments_segmentmembership",
            "project_id, segment_id, person_id, entered_at",
            ((project.pk, s.pk, i, now.isoformat()) for i in ids for s in rng.sample(segments, 3)),
        )
    flags, nudges = interventions // 2, interventions - interventions // 2
    for n in range(flags):
        rules = [
            {"segment": rng.choice(segments).pk, "rollout": rng.choice([10, 50, 100])},
            {"segment": None, "rollout": 20},
        ]
        variants = [{"key": "control", "weight": 50}, {"key": "test", "weight": 50}] if n % 3 == 0 else []
        services.flag_save(
            project=project, data={"key": f"flag-{n}", "enabled": True, "rules": rules, "variants": variants}
        )
    created_nudges = [
        services.nudge_save(
            project=project,
            data={
                "name": f"Nudge {n}",
                "title": f"Nudge {n}",
                "body": "Have you tried boards?",
                "status": "live",
                "segments": [rng.choice(segments).pk],
                "holdout_percent": 20,
                "frequency_days": 7,
                "max_impressions": 3,
            },
        )
        for n in range(nudges)
    ]
    with connection.cursor() as c:
        _copy(
            c.cursor,
            "interventions_exposure",
            "project_id, kind, object_id, person_id, variant, held_out, first_at, last_shown_at, times_shown",
            (
                (
                    project.pk,
                    "nudge",
                    rng.choice(created_nudges).pk,
                    i,
                    "",
                    "f",
                    now.isoformat(),
                    now.isoformat(),
                    1,
                )
                for i in ids
                if i % 10 == 0
            ),
        )
        c.execute("ANALYZE")
    print(
        f"set up {persons:,} persons, {SEGMENTS} segments ({persons * 3:,} memberships), {flags} flags, "
        f"{nudges} nudges in {time.perf_counter() - started:.1f} s"
    )
    return project, list(ids)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (
        f"p50 {at(0.5):.2f} ms  p95 {at(0.95):.2f} ms  p99 {at(0.99):.2f} ms  max {ordered[-1] * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--interventions", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--server", choices=("temp", "embedded"), default="temp")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with harness.ScratchDatabase(args.server) as db:
        harness.django_setup(db)
        import orjson
        from django.db import connection
        from django.test import Client

        from interventions.decide import decide_answer

        project, ids = setup(args.persons, args.interventions, rng)
        visitors = [
            f"user-{rng.choice(ids)}" if rng.random() < 0.9 else f"anon-{rng.random()}"
            for _ in range(args.requests)
        ]
        client = Client(HTTP_HOST="127.0.0.1")

        def request(distinct_id: str):
            body = orjson.dumps({"api_key": project.public_key, "distinct_id": distinct_id})
            return client.post("/i/v1/decide", data=body, content_type="text/plain")

        for visitor in visitors[:200]:  # warm caches and connections
            assert request(visitor).status_code == 200
        server, answer = [], []
        for visitor in visitors:
            t0 = time.perf_counter()
            response = request(visitor)
            server.append(time.perf_counter() - t0)
            assert response.status_code == 200
            t0 = time.perf_counter()
            decide_answer(project, visitor)
            answer.append(time.perf_counter() - t0)
        executed: list[str] = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        known = next(v for v in visitors if v.startswith("user-"))
        with connection.execute_wrapper(count):
            request(known)
        sample = request(visitors[0]).json()
        print(
            f"decide for {args.requests:,} visitors ({len(sample['flags'])} flags in each answer, "
            f"{statistics.mean(len(decide_answer(project, v)['nudges']) for v in visitors[:200]):.1f} nudges on average)"
        )
        print(f"  server (whole request): {percentiles(server)}")
        print(f"  answer only:            {percentiles(answer)}")
        print(
            f"  queries per request:    {len(executed)} (a known visitor; the project key and config are cached)"
        )
        p99 = sorted(server)[int(0.99 * len(server))] * 1000
        print(f"goal p99 <= 10 ms: {'met' if p99 <= 10 else 'NOT met'} ({p99:.2f} ms)")


if __name__ == "__main__":
    main()
