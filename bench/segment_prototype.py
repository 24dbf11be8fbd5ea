"""A prototype of proposed segment-engine changes, measured by `bench/segments.py --prototype`.

Nothing here is used by the product. It holds what the measurements argue for,
in a form that can be timed against the engine as it is on the same data:

1. Covering indexes, so behavioural subqueries read only an index:
   - `(project_id, name, timestamp) INCLUDE (person_id)` replaces
     `event_project_name_ts`: counts of one event in a window, "never did",
     sequences and aggregates' candidate rows become index-only scans instead
     of one heap page per matching event;
   - `(project_id, timestamp) INCLUDE (person_id)`: "active days" and other
     any-event windows read the window's range instead of every entry of the
     project in `event_project_person_ts`.
   Index-only scans need the visibility map to be current: the table should be
   vacuumed after appends (autovacuum_vacuum_insert_scale_factor on
   tracking_event), which the benchmark does after loading.

2. `active_days` from a per-person daily rollup, `person_day (project_id,
   person_id, day, first_ts, last_ts, events)` with `day` in the project's time
   zone: one row per person and active day instead of one per event. It is
   exact for any window: whole days inside the window count when the row
   exists, the first (partial) day only when `last_ts >= start`, the last only
   when `first_ts < end`. Ingestion would keep it with one upsert per batch
   (like the session upsert); a change of the project's time zone rebuilds it.
   Here it is built from the events with one INSERT … SELECT.

3. Sequences over plain event names select their candidate events with
   `e.name = ANY(names)` instead of `(e.name = a) OR (e.name = b)`: the OR makes
   PostgreSQL combine two bitmap scans and read the heap, the array comparison
   is one index-only scan of the covering index.

The prototype compiler is the engine's compiler with `c_active_days` and the
sequence's candidate filter changed, so every other construct compiles exactly
as in `segments/compiler.py`.
"""

from __future__ import annotations

from segments.compiler import Compiler, _Context, effective_definition  # noqa: F401 - re-exported for the bench

INDEXES = [
    ("event_project_name_ts_cov",
     "CREATE INDEX event_project_name_ts_cov ON tracking_event (project_id, name, timestamp) INCLUDE (person_id)"),
    ("event_project_ts_cov",
     "CREATE INDEX event_project_ts_cov ON tracking_event (project_id, timestamp) INCLUDE (person_id)"),
]  # fmt: skip
REPLACED = ["event_project_name_ts"]


ROLLUP = """
CREATE TABLE bench_person_day AS
SELECT e.project_id, e.person_id, (e.timestamp AT TIME ZONE p.timezone)::date AS day,
       min(e.timestamp) AS first_ts, max(e.timestamp) AS last_ts, count(*) AS events
FROM tracking_event e JOIN tracking_project p ON p.id = e.project_id
GROUP BY 1, 2, 3
"""
ROLLUP_INDEXES = [
    "CREATE INDEX bench_person_day_window ON bench_person_day (project_id, day) INCLUDE (person_id, first_ts, last_ts)",
    "CREATE UNIQUE INDEX bench_person_day_person ON bench_person_day (project_id, person_id, day)",
]
# What ingestion would run per batch (values: project, person ids, days, first and last timestamps, counts).
ROLLUP_UPSERT = """
INSERT INTO bench_person_day AS d (project_id, person_id, day, first_ts, last_ts, events)
SELECT %s, v.person_id, v.day, v.first_ts, v.last_ts, v.events
FROM unnest(%s::bigint[], %s::date[], %s::timestamptz[], %s::timestamptz[], %s::int[]) AS v(person_id, day, first_ts, last_ts, events)
ON CONFLICT (project_id, person_id, day) DO UPDATE SET
    first_ts = least(d.first_ts, EXCLUDED.first_ts), last_ts = greatest(d.last_ts, EXCLUDED.last_ts),
    events = d.events + EXCLUDED.events
"""


class PrototypeCompiler(Compiler):
    def did_sequence(self, steps: list[dict], within_days: int, window: dict | None) -> tuple[str, list]:
        """The engine's did_sequence; only the filter selecting candidate events differs (see 3.)."""
        from datetime import timedelta

        compiled = [self.event_sql(step) for step in steps]
        flags = [f"({sql}) AS m{i}" for i, (sql, _) in enumerate(compiled)]
        params = [v for _, p in compiled for v in p]
        plain = all(
            set(step) == {"name"} or (set(step) == {"name", "where"} and not step["where"]) for step in steps
        )
        if plain:
            any_step, any_params = "e.name = ANY(%s)", [sorted({step["name"] for step in steps})]
        else:
            any_step, any_params = " OR ".join(f"({sql})" for sql, _ in compiled), list(params)
        frm, frm_params = self.events_from(any_step, any_params, window)
        sql = f"SELECT e.person_id, e.timestamp AS ts, {', '.join(flags)} {frm}"
        all_params = [*params, *frm_params]
        sql = f"SELECT *, CASE WHEN m0 THEN ts END AS s0 FROM ({sql}) l"
        for i in range(1, len(steps)):
            sql = (
                f"SELECT *, CASE WHEN m{i} THEN max(s{i - 1}) OVER (PARTITION BY person_id ORDER BY ts"
                f" RANGE BETWEEN UNBOUNDED PRECEDING AND '1 microsecond'::interval PRECEDING) END AS s{i}"
                f" FROM ({sql}) l{i}"
            )
        last = len(steps) - 1
        sql = f"SELECT person_id FROM ({sql}) f WHERE s{last} IS NOT NULL AND ts - s{last} <= %s"
        return sql, [*all_params, timedelta(days=within_days)]

    def c_active_days(self, node: dict) -> tuple[str, list]:
        from segments.compiler import window_bounds

        start, end = window_bounds(node.get("window"), now=self.ctx.now, tz=self.ctx.tz)
        sql, params = "", []
        if start is not None:
            start_day = start.astimezone(self.ctx.tz).date()
            sql += " AND d.day >= %s AND (d.day > %s OR d.last_ts >= %s)"
            params += [start_day, start_day, start]
        if end is not None:
            end_day = end.astimezone(self.ctx.tz).date()
            sql += " AND d.day <= %s AND (d.day < %s OR d.first_ts < %s)"
            params += [end_day, end_day, end]
        r_sql, r_params = self.restrict("d.person_id")
        count = node["count"]
        return self.counted(
            f"SELECT d.person_id FROM bench_person_day d WHERE d.project_id = %s{sql}{r_sql} GROUP BY d.person_id",
            [self.ctx.project_id, *params, *r_params], "count(*) {cmp} %s", [count["value"]],
            count["operator"], count["value"],
        )  # fmt: skip


def compile_prototype(definition: dict, *, project, now, person_ids=None):
    """Like segments.compiler.compile_definition, with the prototype compiler."""
    import zoneinfo

    from segments.compiler import Query

    tz = zoneinfo.ZoneInfo(project.timezone or "UTC")
    ctx = _Context(project.pk, tz, now, person_ids)
    where, params = PrototypeCompiler(ctx).group(definition)
    restrict, restrict_params = "", []
    if person_ids is not None:
        restrict, restrict_params = " AND p.id = ANY(%s::bigint[])", [person_ids]
    sql = (
        "SELECT p.id FROM tracking_person p LEFT JOIN tracking_company c ON c.id = p.company_id"
        f" WHERE p.project_id = %s{restrict} AND ({where})"
    )
    return Query(sql, [project.pk, *restrict_params, *params])


def apply_indexes(url: str) -> list[str]:
    """Create the prototype's indexes (dropping the ones they replace); returns lines describing them."""
    import time

    import psycopg

    lines = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for name, statement in INDEXES:
            t0 = time.perf_counter()
            conn.execute(statement)
            size = conn.execute("SELECT pg_size_pretty(pg_relation_size(%s::regclass))", [name]).fetchone()[0]
            lines.append(f"  {name}: {size}, built in {time.perf_counter() - t0:.1f} s")
        for name in REPLACED:
            size = conn.execute("SELECT pg_size_pretty(pg_relation_size(%s::regclass))", [name]).fetchone()[0]
            conn.execute(f'DROP INDEX "{name}"')
            lines.append(f"  dropped {name} ({size}): the covering index has the same key")
        t0 = time.perf_counter()
        conn.execute("DROP TABLE IF EXISTS bench_person_day")
        conn.execute(ROLLUP)
        for statement in ROLLUP_INDEXES:
            conn.execute(statement)
        rows, size = conn.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('bench_person_day')) FROM bench_person_day"
        ).fetchone()
        lines.append(
            f"  person_day rollup: {rows:,} rows, {size} with its indexes, built in {time.perf_counter() - t0:.1f} s"
        )
        conn.execute("VACUUM (ANALYZE) tracking_event, bench_person_day")
    return lines


def time_rollup_upsert(url: str, project_id: int, person_ids: list[int], now) -> float:
    """One batch's worth of rollup maintenance (what ingestion would add per batch), in seconds."""
    import time

    import psycopg

    n = len(person_ids)
    day = now.date()
    best = float("inf")
    with psycopg.connect(url) as conn:
        for _ in range(5):  # the first run also pays for the new connection's catalog lookups
            t0 = time.perf_counter()
            conn.execute(ROLLUP_UPSERT, [project_id, person_ids, [day] * n, [now] * n, [now] * n, [3] * n])
            conn.commit()
            best = min(best, time.perf_counter() - t0)
    return best
