"""The DuckDB baseline of bench/analysis.py: the same rows, the same window-function SQL, the same numbers.

The rows are read back from the backend that holds them (bench/backends.py)
into an in-memory DuckDB: events (person_id, session_key, name, ts as a UTC
TIMESTAMP, url, path, el_text, properties), persons (id, properties,
first_seen), sessions (session_key, person_id, browser). Segment members are computed in
DuckDB from the persons and sessions (the bench's segments are person
properties and a browser), and checked against the product's memberships.

Each query has a twin here that mirrors the product's SQL (analysis.funnels,
analysis.metrics and analysis.compare, analysis.retention, analysis.paths):
funnels walk their steps with the same `max(s) OVER (… RANGE … 1 microsecond
PRECEDING)` chain, paths use lag/lead and GROUPING SETS. Each twin returns the
numbers the product shows, normalised by a `*_numbers` function of the
product's result, so equality is a plain `==`: step counts per breakdown value,
compare groups (n and successes, or n and the mean to 9 significant digits),
retention cohort sizes and cells, the paths tree. The generated data never has
two events of one person at the same microsecond, so the product's tie-breaks
(the row id on PostgreSQL) never decide anything and are left out here.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

from bench import backends

TOP_VALUES = 10  # analysis.funnels.query.TOP_VALUES


def ts(moment: datetime) -> str:
    """A UTC TIMESTAMP literal."""
    return f"TIMESTAMP '{moment.astimezone(_utc()).replace(tzinfo=None).isoformat(sep=' ')}'"


def _utc():
    from datetime import UTC

    return UTC


def interval(delta: timedelta) -> str:
    return f"INTERVAL '{int(delta.total_seconds() * 1_000_000)} microseconds'"


# -- loading ---------------------------------------------------------------------------------


def load(url: str, project_id: int, work: Path, backend: str, threads: int = 2):
    """Copy the project's rows out of the backend into an in-memory DuckDB; returns (db, seconds)."""
    import duckdb
    import psycopg

    t0 = time.perf_counter()
    events = work / "events.parquet"
    if backend == "clickhouse":
        backends.clickhouse_export_parquet(
            project_id,
            "person_id, session_key, toString(name) AS name, toUnixTimestamp64Micro(timestamp) AS ts_us,"
            " url, path, el_text, properties",
            events,
        )
    exports = {
        "persons": ("SELECT id, properties::text, (extract(epoch FROM first_seen) * 1000000)::bigint"
                    " FROM tracking_person WHERE project_id = %s",
                    {"id": "BIGINT", "properties": "VARCHAR", "first_us": "BIGINT"}),
        "sessions": ("SELECT session_key, person_id, browser FROM tracking_session WHERE project_id = %s",
                     {"session_key": "VARCHAR", "person_id": "BIGINT", "browser": "VARCHAR"}),
    }  # fmt: skip
    if backend == "postgres":
        exports["events"] = (
            "SELECT person_id, session_key, name, (extract(epoch FROM timestamp) * 1000000)::bigint, url, path,"
            " el_text, properties::text FROM tracking_event WHERE project_id = %s",
            {"person_id": "BIGINT", "session_key": "VARCHAR", "name": "VARCHAR", "ts_us": "BIGINT",
             "url": "VARCHAR", "path": "VARCHAR", "el_text": "VARCHAR", "properties": "VARCHAR"},
        )  # fmt: skip
    with psycopg.connect(url) as conn:
        for table, (select, _) in exports.items():
            query = select.replace("%s", str(int(project_id)))
            with open(work / f"{table}.csv", "wb") as fh, conn.cursor() as cursor:
                with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
                    for block in copy:
                        fh.write(block)
    db = duckdb.connect()
    db.execute(f"SET threads = {int(threads)}")
    for table, (_, columns) in exports.items():
        spec = ", ".join(f"'{k}': '{v}'" for k, v in columns.items())
        db.execute(f"CREATE TABLE {table}_raw AS SELECT * FROM read_csv('{work / (table + '.csv')}',"
                   f" header = false, columns = {{{spec}}}, quote = '\"', escape = '\"')")  # fmt: skip
        (work / f"{table}.csv").unlink()
    if backend == "clickhouse":
        db.execute(f"CREATE TABLE events_raw AS SELECT * FROM read_parquet('{events}')")
        events.unlink()
    db.execute("CREATE TABLE events AS SELECT person_id, session_key, name, make_timestamp(ts_us) AS ts, url, path,"
               " el_text, properties FROM events_raw ORDER BY ts")  # fmt: skip
    db.execute(
        "CREATE TABLE persons AS SELECT id, properties, make_timestamp(first_us) AS first_seen FROM persons_raw"
    )
    db.execute("CREATE TABLE sessions AS SELECT * FROM sessions_raw")
    for table in ("events", "persons", "sessions"):
        db.execute(f"DROP TABLE {table}_raw")
    return db, time.perf_counter() - t0


def members_create(db, segments: dict[int, str]) -> None:
    """`members (segment_id, person_id)` from DuckDB's own reading of each segment: `segments` maps id to kind."""
    parts = []
    for segment_id, kind in segments.items():
        if kind in ("pro", "enterprise"):
            parts.append(f"SELECT {int(segment_id)}::BIGINT AS segment_id, id AS person_id FROM persons"
                         f" WHERE json_extract_string(properties, '/plan') = '{kind}'")  # fmt: skip
        elif kind == "safari":
            parts.append(f"SELECT DISTINCT {int(segment_id)}::BIGINT, s.person_id FROM sessions s"
                         " WHERE s.browser = 'Safari'")  # fmt: skip
    db.execute("CREATE TABLE members AS " + " UNION ALL ".join(parts))


def members_equal(db, product: dict[int, set[int]]) -> bool:
    rows = db.execute("SELECT segment_id, list(person_id) FROM members GROUP BY segment_id").fetchall()
    ours = {segment_id: set(ids) for segment_id, ids in rows}
    return all(ours.get(k, set()) == v for k, v in product.items())


# -- funnels ---------------------------------------------------------------------------------


def levels_sql(conditions: list[str], within: timedelta, start: datetime, end: datetime) -> str:
    """Each entrant's furthest step, as analysis.funnels.statements.levels_sql computes it."""
    flags = ", ".join(f"({c}) AS m{i}" for i, c in enumerate(conditions))
    any_step = " OR ".join(f"m{i}" for i in range(len(conditions)))
    matched = (
        f"SELECT * FROM (SELECT person_id, ts, session_key, {flags} FROM events"
        f" WHERE ts >= {ts(start)} AND ts < {ts(end + within)}) x WHERE {any_step}"
    )
    chain = f"SELECT *, CASE WHEN m0 AND ts < {ts(end)} THEN ts END AS s0 FROM ev"
    for i in range(1, len(conditions)):
        chain = (
            f"SELECT *, CASE WHEN m{i} THEN max(s{i - 1}) OVER (PARTITION BY person_id ORDER BY ts"
            f" RANGE BETWEEN UNBOUNDED PRECEDING AND INTERVAL '1 microsecond' PRECEDING) END AS s{i}"
            f" FROM ({chain}) l{i}"
        )
    cases = " ".join(
        f"WHEN s{i} IS NOT NULL AND ts - s{i} <= {interval(within)} THEN {i + 1}"
        for i in range(len(conditions) - 1, 0, -1)
    )
    return (
        f"WITH ev AS MATERIALIZED ({matched})"
        f" SELECT person_id, max(CASE {cases} WHEN s0 IS NOT NULL THEN 1 ELSE 0 END) AS level,"
        " min(s0) AS entered_at, arg_min(session_key, ts) FILTER (WHERE s0 IS NOT NULL) AS session_key"
        f" FROM ({chain}) f GROUP BY person_id HAVING min(s0) IS NOT NULL"
    )


def funnel(
    db, conditions: list[str], within: timedelta, start: datetime, end: datetime, breakdown=None
) -> dict:
    """{row value: [reached step 1…n]}; "*" is everyone, "(other)" the values past the top ones."""
    n = len(conditions)
    counts = ", ".join(f"count(*) FILTER (WHERE level >= {k})" for k in range(1, n + 1))
    levels = levels_sql(conditions, within, start, end)
    out = {"*": list(db.execute(f"WITH pl AS ({levels}) SELECT {counts} FROM pl").fetchone())}
    if breakdown is None:
        return _nonzero(out)
    kind, prop = breakdown
    if kind == "segment":
        sql = (f"WITH pl AS ({levels}) SELECT m.segment_id::VARCHAR, {counts} FROM pl"
               " JOIN members m ON m.person_id = pl.person_id GROUP BY m.segment_id")  # fmt: skip
    elif kind == "person":
        sql = (f"WITH pl AS ({levels}) SELECT coalesce(json_extract_string(p.properties, '/{prop}'), ''), {counts}"
               " FROM pl JOIN persons p ON p.id = pl.person_id GROUP BY 1")  # fmt: skip
    else:
        sql = (f"WITH pl AS ({levels}) SELECT coalesce(s.{kind}, ''), {counts} FROM pl"
               " LEFT JOIN sessions s ON s.session_key = pl.session_key GROUP BY 1")  # fmt: skip
    rows = [(value, list(c)) for value, *c in db.execute(sql).fetchall()]
    if kind != "segment":
        # the top values by entrants (then value), the rest summed into one row: counts add up
        rows.sort(key=lambda r: (-r[1][0], r[0]))
        other = (
            [sum(col) for col in zip(*(c for _, c in rows[TOP_VALUES:]), strict=True)]
            if rows[TOP_VALUES:]
            else []
        )
        rows = rows[:TOP_VALUES] + ([("(other)", other)] if other else [])
    out.update(rows)
    return _nonzero(out)


def funnel_numbers(result) -> dict:
    out = {"*": [s.count for s in result.overall.steps]}
    for row in result.rows:
        out["(other)" if row.is_other else row.value] = [s.count for s in row.steps]
    return _nonzero(out)


def _nonzero(rows: dict) -> dict:
    return {k: [int(c) for c in v] for k, v in rows.items() if any(v)}


# -- compare ---------------------------------------------------------------------------------


def population_sql(kind: str, d: dict, start: datetime, end: datetime, now: datetime) -> str:
    """`SELECT person_id, y, mature` as analysis.metrics.population_sql, for the bench's metrics."""
    if kind == "conversion":
        within = d["within"]
        levels = levels_sql([f"name = '{d['from']}'", f"name = '{d['to']}'"], within, start, end)
        return (f"SELECT person_id, (level >= 2)::INT AS y, entered_at + {interval(within)} <= {ts(now)} AS mature"
                f" FROM ({levels}) f")  # fmt: skip
    if kind == "activation":
        window = timedelta(days=d["within_days"])
        return (
            f"SELECT p.id AS person_id, coalesce(bool_or(x.ts >= p.first_seen AND x.ts <= p.first_seen + {interval(window)}),"
            f" false)::INT AS y, p.first_seen + {interval(window)} <= {ts(now)} AS mature"
            f" FROM persons p LEFT JOIN (SELECT person_id, ts FROM events WHERE ts >= {ts(start)}"
            f" AND ts <= {ts(end + window)} AND name = '{d['event']}') x ON x.person_id = p.id"
            f" WHERE p.first_seen >= {ts(start)} AND p.first_seen < {ts(end)} GROUP BY p.id, p.first_seen"
        )  # fmt: skip
    if kind == "churn":
        quiet = interval(timedelta(days=d["days"]))
        return (
            f"SELECT l.person_id, (count(e.ts) = 0)::INT AS y, l.last_at + {quiet} <= {ts(now)} AS mature"
            f" FROM (SELECT person_id, max(ts) AS last_at FROM events WHERE ts >= {ts(start)} AND ts < {ts(end)}"
            " GROUP BY person_id) l"
            f" LEFT JOIN events e ON e.person_id = l.person_id AND e.ts > l.last_at AND e.ts <= l.last_at + {quiet}"
            " GROUP BY l.person_id, l.last_at"
        )  # fmt: skip
    if kind == "value":  # sum per active person
        number = f"TRY_CAST(json_extract_string(properties, '/{d['property']}') AS DOUBLE)"
        return (f"SELECT person_id, coalesce(sum({number}) FILTER (WHERE name = '{d['event']}'), 0) AS y,"
                f" true AS mature FROM events WHERE ts >= {ts(start)} AND ts < {ts(end)} GROUP BY person_id")  # fmt: skip
    # frequency of any event: events per day with any event (UTC days: the bench project's zone)
    return (
        "SELECT person_id, sum(matching) / count(*) AS y, true AS mature FROM ("
        f"SELECT person_id, CAST(ts AS DATE) AS day, count(*) AS matching FROM events"
        f" WHERE ts >= {ts(start)} AND ts < {ts(end)} GROUP BY 1, 2) d GROUP BY person_id"
    )


def compare(db, population: str, segment_ids: list[int], vs_rest: bool, is_rate: bool) -> tuple:
    """(still open, everyone's summary, each group's summary) as analysis.compare.compare_compute counts them."""
    flags = "".join(
        f", pop.person_id IN (SELECT person_id FROM members WHERE segment_id = {int(s)}) AS g{i}"
        for i, s in enumerate(segment_ids)
    )
    groups = ["g0", "NOT g0"] if vs_rest else [f"g{i}" for i in range(len(segment_ids))]
    aggregates = ["count(*) FILTER (WHERE NOT mature)", "count(*) FILTER (WHERE mature)",
                  "sum(y) FILTER (WHERE mature)", "avg(y) FILTER (WHERE mature)"]  # fmt: skip
    for flag in groups:
        aggregates += [f"count(*) FILTER (WHERE mature AND {flag})", f"sum(y) FILTER (WHERE mature AND {flag})",
                       f"avg(y) FILTER (WHERE mature AND {flag})"]  # fmt: skip
    row = db.execute(
        f"WITH pop AS ({population}), flagged AS (SELECT pop.*{flags} FROM pop) SELECT {', '.join(aggregates)} FROM flagged"
    ).fetchone()
    summaries = [_summary(is_rate, *row[1 + 3 * i : 4 + 3 * i]) for i in range(len(groups) + 1)]
    return int(row[0] or 0), summaries[0], summaries[1:]


def _summary(is_rate: bool, n, total, mean) -> tuple:
    n = int(n or 0)
    if is_rate:
        return (n, int(total or 0))
    return (n, None if mean is None else float(f"{float(mean):.9g}"))


def compare_numbers(result) -> tuple:
    def summary(g) -> tuple:
        if g.successes is not None:
            return (g.n, g.successes)
        return (g.n, None if g.value is None else float(f"{g.value:.9g}"))

    return result.still_open, summary(result.overall), [summary(g) for g in result.groups]


# -- retention -------------------------------------------------------------------------------


def retention(
    db, start: datetime, end: datetime, period: timedelta, periods: int, segment_ids: list[int]
) -> dict:
    """{(cohort, group, -1): size, (cohort, group, n): returned in period n}; group 0 is everyone."""
    per_us = int(period.total_seconds() * 1_000_000)
    unit = "week" if period == timedelta(weeks=1) else "day"
    ids = ", ".join(str(int(s)) for s in segment_ids) or "NULL"
    sql = f"""
        WITH cohort AS (
            SELECT id AS person_id, first_seen, CAST(date_trunc('{unit}', first_seen) AS DATE) AS cohort
            FROM persons WHERE first_seen >= {ts(start)} AND first_seen < {ts(end)}
        ),
        returned AS (
            SELECT DISTINCT c.person_id, (epoch_us(e.ts) - epoch_us(c.first_seen)) // {per_us} AS period
            FROM cohort c JOIN events e ON e.person_id = c.person_id
                AND e.ts >= c.first_seen AND e.ts < c.first_seen + {interval(period * periods)}
        ),
        tagged AS (
            SELECT 0::BIGINT AS grp, person_id, cohort FROM cohort
            UNION ALL SELECT m.segment_id, c.person_id, c.cohort FROM cohort c
            JOIN members m ON m.person_id = c.person_id AND m.segment_id IN ({ids})
        )
        SELECT t.cohort, t.grp, -1, count(*) FROM tagged t GROUP BY t.cohort, t.grp
        UNION ALL
        SELECT t.cohort, t.grp, r.period, count(*) FROM tagged t JOIN returned r ON r.person_id = t.person_id
        GROUP BY t.cohort, t.grp, r.period
    """
    return {
        (cohort, int(grp), int(n)): int(count)
        for cohort, grp, n, count in db.execute(sql).fetchall()
        if count
    }


def retention_numbers(result) -> dict:
    out = {}
    for row in result.rows:
        grp = row.segment_id or 0
        if row.size:
            out[(row.cohort, grp, -1)] = row.size
        for cell in row.cells:
            if cell.count:
                out[(row.cohort, grp, cell.period)] = cell.count
    return out


# -- paths -----------------------------------------------------------------------------------

_LABEL = (
    "CASE WHEN e.name = '$pageview' THEN coalesce(nullif(e.path, ''), e.url)"
    " WHEN e.name = '$autocapture' AND e.el_text <> '' THEN 'click “' || left(e.el_text, 60) || '”'"
    " ELSE e.name END"
)


def paths_next_pageviews(db, start_path: str, start: datetime, end: datetime, segment_ids: list[int]) -> list:
    """The three page views after each person's first view of `start_path` in the range, as analysis.paths."""
    anchor = f"(e.name = '$pageview' AND e.path = '{start_path}')"
    ids = ", ".join(str(int(s)) for s in segment_ids) or "NULL"
    sql = f"""
        WITH anchors AS MATERIALIZED (
            SELECT e.person_id, arg_min(e.session_key, e.ts) AS session_key, min(e.ts) AS ts
            FROM events e WHERE e.ts >= {ts(start)} AND e.ts < {ts(end)} AND {anchor}
            GROUP BY e.person_id
        ),
        ev AS (
            SELECT e.person_id, e.ts, {_LABEL} AS label, {anchor} AS is_start, e.ts = a.ts AS is_anchor
            FROM anchors a
            JOIN events e ON e.person_id = a.person_id AND e.session_key = a.session_key
                AND e.ts >= {ts(start)} AND e.ts < {ts(end)} AND e.ts >= a.ts
            WHERE (e.name = '$pageview' OR {anchor})
        ),
        marked AS (
            SELECT ev.*, lag(label) OVER w AS prev_label, lag(is_start) OVER w AS prev_start
            FROM ev WINDOW w AS (PARTITION BY person_id ORDER BY ts)
        ),
        kept AS (
            SELECT * FROM marked
            WHERE prev_label IS DISTINCT FROM label OR (is_start AND NOT coalesce(prev_start, false))
        ),
        stepped AS (
            SELECT person_id, is_anchor,
                   lead(label, 1) OVER w AS s1, lead(label, 2) OVER w AS s2, lead(label, 3) OVER w AS s3
            FROM kept WINDOW w AS (PARTITION BY person_id ORDER BY ts)
        ),
        firsts AS (SELECT person_id, s1, s2, s3 FROM stepped WHERE is_anchor),
        tagged AS (
            SELECT 0::BIGINT AS grp, f.* FROM firsts f
            UNION ALL SELECT m.segment_id, f.* FROM firsts f
            JOIN members m ON m.person_id = f.person_id AND m.segment_id IN ({ids})
        )
        SELECT grp, s1, s2, s3, GROUPING(s1, s2, s3), count(*)
        FROM tagged
        GROUP BY GROUPING SETS ((grp), (grp, s1), (grp, s1, s2), (grp, s1, s2, s3))
    """
    return db.execute(sql).fetchall()


def paths_tree(records: list, segments: list) -> list:
    """The groups' trees from the grouped counts, assembled as analysis.paths.paths_compute does."""
    from analysis.paths import PathGroup, _children

    per_group: dict[int, dict[tuple, int]] = {}
    totals: dict[int, int] = {}
    for grp, s1, s2, s3, grouping, count in records:
        depth = {7: 0, 3: 1, 1: 2, 0: 3}[grouping]
        if depth == 0:
            totals[grp] = count
            continue
        key = (s1, s2, s3)[:depth]
        if any(part is None for part in key[:-1]):
            continue
        per_group.setdefault(grp, {})[key] = count
    groups = [("Everyone", None, 0)] + [(s.name, s.pk, s.pk) for s in segments]
    return [
        PathGroup(label, segment_id, totals.get(grp, 0),
                  _children(per_group.get(grp, {}), (), totals.get(grp, 0), 0, "(session ends)")).to_json()
        for label, segment_id, grp in groups
    ]  # fmt: skip


def paths_numbers(result) -> list:
    return [g.to_json() for g in result.groups]
