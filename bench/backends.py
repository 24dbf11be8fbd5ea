"""Where a benchmark run keeps its events: PostgreSQL (`tracking_event`) or ClickHouse through chDB.

`--backend clickhouse` points CLICKHOUSE_URL at a fresh chDB directory inside
the run's scratch folder before Django starts, so the product's own code reads
and writes events in ClickHouse (in this process) while persons, sessions,
companies, segments and the daily rollup stay in the scratch PostgreSQL.

Loading: the generators write event rows in PostgreSQL's COPY text format,
which is also ClickHouse's TabSeparated (`\\t`, `\\n`, `\\\\` escapes). On
ClickHouse the rows go to a file and in with one `INSERT … SELECT FROM file()`
(chDB parses it on both cores; a 10M-row list of dicts through
`tracking.eventstore.bulk.events_copy` would not fit in memory, and JSON is
several times slower to parse), then `OPTIMIZE … FINAL` leaves one part per
month as a server's background merges would. The daily rollup that ingestion
keeps (`tracking_personday`) is computed in ClickHouse and copied into
PostgreSQL.

DuckDB baselines read the rows back from the backend that holds them (COPY TO
on PostgreSQL, a Parquet file from chDB), so every engine sees the same rows.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

BACKENDS = ("postgres", "clickhouse")

# The event file's columns in tracking.eventstore.bulk.EVENT_COLUMNS order; times
# are ISO 8601 with an offset (best_effort parsing), uuids 32 hex digits
EVENT_FILE_STRUCTURE = (
    "project_id UInt64, uuid UUID, person_id Int64, distinct_id String, session_key String, name String,"
    " timestamp DateTime64(6, 'UTC'), received_at DateTime64(6, 'UTC'), url String, path String,"
    " el_text String, href String, elements_chain String, properties String"
)
EVENT_FILE_COLUMNS = (
    "project_id, uuid, person_id, distinct_id, session_key, name, timestamp, received_at, url, path,"
    " el_text, href, elements_chain, properties"
)


def add_argument(parser) -> None:
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="postgres",
        help="where events live: PostgreSQL, or ClickHouse through chDB in this process (bench/backends.py)",
    )


def configure(backend: str, folder: Path) -> None:
    """Before Django starts: ClickHouse in a chDB directory under `folder`, or no CLICKHOUSE_URL at all."""
    if backend == "clickhouse":
        os.environ["CLICKHOUSE_URL"] = f"chdb://{(folder / 'chdb').resolve()}"
    else:
        os.environ.pop("CLICKHOUSE_URL", None)


def clickhouse_migrate() -> None:
    from tracking.eventstore.clickhouse.client import client
    from tracking.eventstore.clickhouse.schema import migrate

    migrate(client())


def clickhouse_insert_file(path: Path) -> dict:
    """Insert an event file (COPY text format) and merge the parts; returns timings and the row count."""
    from tracking.eventstore.clickhouse.client import Params, client

    ch = client()
    timings: dict = {}
    t0 = time.perf_counter()
    p = Params()
    ch.command(
        f"INSERT INTO {ch.table('events')} ({EVENT_FILE_COLUMNS})"
        f" SELECT * FROM file({p.add(str(path), 'String')}, 'TSV', {p.add(EVENT_FILE_STRUCTURE, 'String')})"
        " SETTINGS date_time_input_format = 'best_effort'",
        p,
    )
    timings["insert_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    ch.command(f"OPTIMIZE TABLE {ch.table('events')} FINAL")
    timings["optimize_s"] = time.perf_counter() - t1
    timings["rows"] = ch.query(f"SELECT count() FROM {ch.table('events')}")[0][0]
    timings["bytes"] = ch.query(
        "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = {db:String} AND table = 'events'",
        {"db": ch.database},
    )[0][0]
    return timings


def clickhouse_rollup_to_postgres(url: str, project_id: int, zone: str, work: Path) -> int:
    """Fill tracking_personday from the events in ClickHouse, as ingestion would have; returns the rows copied."""
    import psycopg

    from tracking.eventstore.clickhouse.client import Params, client

    ch = client()
    p = Params()
    out = work / "personday.tsv"
    tz = p.add(zone, "String")
    # The output file is named in the text: INTO OUTFILE takes a literal only
    ch.command(
        f"SELECT project_id, person_id, toDate(timestamp, {tz}), count(), min(timestamp), max(timestamp)"
        f" FROM {ch.table('events')} WHERE project_id = {p.add(project_id, 'UInt64')} GROUP BY 1, 2, 3"
        f" INTO OUTFILE '{_plain_path(out)}' TRUNCATE FORMAT TSV",
        p,
    )
    copied = 0
    with psycopg.connect(url) as conn:
        conn.execute("SET TimeZone = 'UTC'")  # the file's times are UTC without an offset
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY tracking_personday (project_id, person_id, day, events, first_at, last_at) FROM STDIN"
            ) as copy,
            open(out, "rb") as fh,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        copied = conn.execute(
            "SELECT count(*) FROM tracking_personday WHERE project_id = %s", [project_id]
        ).fetchone()[0]
    out.unlink()
    return copied


def clickhouse_export_parquet(project_id: int, columns: str, path: Path) -> None:
    """Write one project's stored events (`columns`: ClickHouse expressions with aliases) to a Parquet file."""
    from tracking.eventstore.clickhouse.client import Params, client

    ch = client()
    p = Params()
    ch.command(
        f"SELECT {columns} FROM {ch.table('events')} WHERE project_id = {p.add(project_id, 'UInt64')}"
        f" INTO OUTFILE '{_plain_path(path)}' TRUNCATE FORMAT Parquet",
        p,
    )


def _plain_path(path: Path) -> str:
    text = str(path.resolve())
    if not set(text) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-."):
        raise ValueError(f"a scratch path with unexpected characters: {text!r}")
    return text


def drop_event_indexes(conn) -> list[str]:
    """Drop tracking_event's secondary indexes and unique constraints; returns the statements that recreate them."""
    recreate = []
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'tracking_event'::regclass AND contype = 'u'"
    ).fetchall()
    for name, definition in constraints:
        conn.execute(f'ALTER TABLE tracking_event DROP CONSTRAINT "{name}"')
        recreate.append(f'ALTER TABLE tracking_event ADD CONSTRAINT "{name}" {definition}')
    indexes = conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = 'tracking_event'::regclass AND NOT x.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)"
    ).fetchall()
    for name, definition in indexes:
        conn.execute(f'DROP INDEX "{name}"')
        recreate.append(definition)
    return recreate


def postgres_insert_file(url: str, path: Path, project_id: int) -> dict:
    """COPY an event file into tracking_event as a bulk load would: secondary indexes dropped
    and rebuilt, the project's daily rollups built once (the product's own rebuild), then VACUUM
    ANALYZE. Returns timings."""
    import psycopg

    from bench.harness import vacuum_settled
    from tracking.ingest.rollup import person_days_rebuild

    timings: dict = {}
    t0 = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        dropped = drop_event_indexes(conn)
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY tracking_event ({EVENT_FILE_COLUMNS}) FROM STDIN") as copy,
            open(path, "rb") as fh,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        conn.commit()
        timings["copy_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '1GB'")
        for statement in dropped:
            conn.execute(statement)
        conn.commit()
        timings["index_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        conn.autocommit = True
        person_days_rebuild(project_id)
        timings["rollup_s"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        vacuum_settled(
            conn,
            [
                "tracking_event",
                "tracking_person",
                "tracking_session",
                "tracking_personday",
                "tracking_personeventday",
            ],
        )
        timings["vacuum_s"] = time.perf_counter() - t3
        timings["rows"] = conn.execute("SELECT count(*) FROM tracking_event").fetchone()[0]
    return timings


def postgres_analyze(url: str) -> float:
    """VACUUM ANALYZE what stays in PostgreSQL after a bulk load; without statistics its plans go wrong."""
    import psycopg

    from bench.harness import vacuum_settled

    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        vacuum_settled(conn, ["tracking_person", "tracking_session", "tracking_personday"])
    return time.perf_counter() - t0


def cpu_meter(db):
    """A started harness.CpuMeter over this process (Django, chDB, DuckDB) and the scratch PostgreSQL."""
    from bench.harness import CpuMeter

    meter = CpuMeter()
    meter.add("this process", lambda: [os.getpid()])
    meter.add("postgres", db.server_pids)
    meter.start()
    return meter


def cpu_report(meter) -> None:
    """How busy the machine was meanwhile: on a shared 2-core machine a busy neighbour halves any figure."""
    meter.stop()
    cores = os.cpu_count() or 1
    print(
        f"cpu while timing ({meter.wall:.0f} s wall, {cores} cores, load average {os.getloadavg()[0]:.1f}):"
    )
    for line in meter.report(cores):
        print(line)
