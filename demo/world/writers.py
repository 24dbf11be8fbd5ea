"""Writing generated batches with binary COPY: companies, persons, distinct ids, sessions; events through the store.

Rows go in set by set, in an order that satisfies the foreign keys (companies
before persons before their ids and sessions). Persons and companies get
their ids from the tables' own sequences, a block per batch, so seeding never
collides with events ingested meanwhile. Times arrive as float epoch seconds
UUIDs as bytes and JSON as text; the dumpers below write them straight into
PostgreSQL's binary format without building datetime, UUID or dict objects.

`BackgroundWriter` runs the same writes in threads with their own
connections, so PostgreSQL stores batches while Python generates the next.
"""

from __future__ import annotations

import queue
import struct
import threading
from collections.abc import Callable, Iterable

import orjson
from django.db import connection, transaction
from psycopg import adapt, pq

from demo.world.records import Batch, EventRow, SessionRow
from tracking.eventstore.bulk import events_analyze, events_copy
from tracking.ingest.landing import landing, url_path

_PG_EPOCH = 946_684_800.0  # 2000-01-01 in Unix time: PostgreSQL's binary timestamps count from there
_INT8 = struct.Struct(">q")


class _EpochSecondsDumper(adapt.Dumper):
    """float epoch seconds -> timestamptz (microseconds since 2000-01-01)."""

    format = pq.Format.BINARY
    oid = 1184

    def dump(self, obj: float) -> bytes:
        return _INT8.pack(round((obj - _PG_EPOCH) * 1_000_000))


class _UuidBytesDumper(adapt.Dumper):
    format = pq.Format.BINARY
    oid = 2950

    def dump(self, obj: bytes) -> bytes:
        return obj


class _JsonbTextDumper(adapt.Dumper):
    """JSON already serialised (a str: orjson's bytes keep a 4 kB buffer each, too much to hold by the thousand)."""

    format = pq.Format.BINARY
    oid = 3802

    def dump(self, obj: str) -> bytes:
        return b"\x01" + obj.encode()  # jsonb binary format: a version byte, then the JSON text


SESSION_COLUMNS = (
    ("project_id", "int8"),
    ("session_key", "text"),
    ("person_id", "int8"),
    ("started_at", "timestamptz"),
    ("ended_at", "timestamptz"),
    ("entry_url", "text"),
    ("exit_url", "text"),
    ("referrer", "text"),
    ("event_count", "int4"),
    ("pageview_count", "int4"),
    ("autocapture_count", "int4"),
    ("rageclick_count", "int4"),
    ("dead_click_count", "int4"),
    ("browser", "text"),
    ("browser_version", "text"),
    ("os", "text"),
    ("os_version", "text"),
    ("device_type", "text"),
    ("country", "text"),
    ("region", "text"),
    ("city", "text"),
    ("has_recording", "bool"),
    ("entry_path", "text"),
    ("exit_path", "text"),
    ("utm_source", "text"),
    ("utm_medium", "text"),
    ("utm_campaign", "text"),
    ("utm_term", "text"),
    ("utm_content", "text"),
    ("referrer_domain", "text"),
)
PERSON_COLUMNS = (
    ("id", "int8"),
    ("project_id", "int8"),
    ("properties", "jsonb"),
    ("company_id", "int8"),
    ("is_identified", "bool"),
    ("first_seen", "timestamptz"),
    ("last_seen", "timestamptz"),
    ("created_at", "timestamptz"),
)
PERSON_TRAIT_COLUMNS = (
    ("project_id", "int8"),
    ("person_id", "int8"),
    ("key", "text"),
    ("value", "jsonb"),
    ("at", "timestamptz"),
    ("once", "bool"),
)
COMPANY_TRAIT_COLUMNS = (
    ("project_id", "int8"),
    ("company_id", "int8"),
    ("key", "text"),
    ("value", "jsonb"),
    ("at", "timestamptz"),
)
DISTINCT_ID_COLUMNS = (("project_id", "int8"), ("distinct_id", "text"), ("person_id", "int8"))
COMPANY_COLUMNS = (
    ("id", "int8"),
    ("project_id", "int8"),
    ("key", "text"),
    ("properties", "jsonb"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)


def _session_row(project: int, s: SessionRow, person_id: int) -> tuple:
    # the landing facts as ingestion reads them from the entry URL and referrer
    facts = landing(s.entry_url, s.referrer)
    return (
        project, s.session_key, person_id, s.started_at, s.ended_at, s.entry_url, s.exit_url, s.referrer,
        s.event_count, s.pageview_count, s.autocapture_count, s.rageclick_count, s.dead_click_count,
        s.browser, s.browser_version, s.os, s.os_version, s.device_type, s.country, s.region, s.city, False,
        facts.entry_path, url_path(s.exit_url), facts.utm_source, facts.utm_medium, facts.utm_campaign,
        facts.utm_term, facts.utm_content, facts.referrer_domain,
    )  # fmt: skip


def _event_row(project: int, e: EventRow, person_id: int) -> tuple:
    # received a moment after it happened: the snippet sends its queue every few seconds
    received = e[5] + 0.4 + e[0][15] / 64
    return (project, e[0], person_id, e[2], e[3], e[4], e[5], received, e[6], e[7], e[8], e[9], e[10], e[11])


class CopyWriter:
    """Writes batches for one project on the current thread's connection (inside the caller's transaction)."""

    def __init__(self, project_id: int) -> None:
        self.project_id = project_id
        self.events = 0
        self.persons = 0
        self.sessions = 0
        self.companies = 0

    def _copy(self, cursor, table: str, columns: tuple[tuple[str, str], ...], rows: Iterable[tuple]) -> None:
        names = ", ".join(name for name, _ in columns)
        statement = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"  # constant identifiers only
        with cursor.copy(statement) as copy:
            copy.set_types([kind for _, kind in columns])
            write = copy.write_row
            for row in rows:
                write(row)

    def _reserve(self, cursor, table: str, count: int) -> list[int]:
        if not count:
            return []
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        return [row[0] for row in cursor.fetchall()]

    def write(self, batch: Batch) -> None:
        project = self.project_id
        with connection.cursor() as django_cursor:
            cursor = django_cursor.cursor
            for dumper in (_EpochSecondsDumper, _UuidBytesDumper, _JsonbTextDumper):
                cursor.adapters.register_dumper(None, dumper)

            company_ids = dict(
                zip(
                    (c.index for c in batch.companies),
                    self._reserve(cursor, "tracking_company", len(batch.companies)),
                    strict=True,
                )
            )
            self._copy(
                cursor,
                "tracking_company",
                COMPANY_COLUMNS,
                (
                    (
                        company_ids[c.index],
                        project,
                        c.key,
                        orjson.dumps(c.properties).decode(),
                        c.created_at,
                        c.updated_at,
                    )
                    for c in batch.companies
                ),
            )
            person_ids = dict(
                zip(
                    (p.index for p in batch.persons),
                    self._reserve(cursor, "tracking_person", len(batch.persons)),
                    strict=True,
                )
            )
            self._copy(
                cursor,
                "tracking_person",
                PERSON_COLUMNS,
                (
                    (
                        person_ids[p.index],
                        project,
                        orjson.dumps(p.properties).decode(),
                        company_ids.get(p.company) if p.company is not None else None,
                        p.is_identified,
                        p.first_seen,
                        p.last_seen,
                        p.first_seen + 1.0,  # created when its first batch arrived
                    )
                    for p in batch.persons
                ),
            )
            self._copy(
                cursor,
                "tracking_companytrait",
                COMPANY_TRAIT_COLUMNS,
                (
                    (project, company_ids[c.index], key, orjson.dumps(value).decode(), at)
                    for c in batch.companies
                    for at, traits in c.traits
                    for key, value in traits.items()
                ),
            )
            self._copy(
                cursor,
                "tracking_persontrait",
                PERSON_TRAIT_COLUMNS,
                (
                    (project, person_ids[p.index], key, orjson.dumps(value).decode(), at, once)
                    for p in batch.persons
                    for at, key, value, once in p.traits
                ),
            )
            self._copy(
                cursor,
                "tracking_persondistinctid",
                DISTINCT_ID_COLUMNS,
                ((project, did, person_ids[p.index]) for p in batch.persons for did in p.distinct_ids),
            )
            self._copy(
                cursor,
                "tracking_session",
                SESSION_COLUMNS,
                (_session_row(project, s, person_ids[s.person]) for s in batch.sessions),
            )
            events_copy(cursor, (_event_row(project, e, person_ids[e[1]]) for e in batch.events))
        self.companies += len(batch.companies)
        self.persons += len(batch.persons)
        self.sessions += len(batch.sessions)
        self.events += len(batch.events)


def tables_analyze() -> None:
    """Fresh planner statistics after a bulk load (autovacuum would get there, later)."""
    events_analyze()
    with connection.cursor() as cursor:
        for table in (
            "tracking_session",
            "tracking_person",
            "tracking_persondistinctid",
            "tracking_company",
            "tracking_persontrait",
            "tracking_companytrait",
        ):
            cursor.execute(f"ANALYZE {table}")  # constant identifiers only


_DONE = object()


class _Worker(threading.Thread):
    """One writing connection: takes batches until told it is done, then waits for commit or rollback."""

    def __init__(self, owner: BackgroundWriter, number: int) -> None:
        super().__init__(name=f"demo-world-writer-{number}", daemon=True)
        self.owner = owner
        self.writer = CopyWriter(owner.project_id)
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.ready = threading.Event()  # done writing (or failed)
        self.error: BaseException | None = None

    def run(self) -> None:
        finished = False
        try:
            with transaction.atomic():
                while True:
                    item = self.queue.get()
                    if item is _DONE:
                        finished = True
                        break
                    self.writer.write(item)
                    self.owner.written()
                self.ready.set()
                # every connection commits only when all of them wrote everything
                self.owner.decided.wait()
                if not self.owner.commit:
                    transaction.set_rollback(True)
        except BaseException as error:  # handed to the main thread
            self.error = error
            self.ready.set()
            # keep taking batches so that the producer never blocks on a dead consumer
            while not finished:
                finished = self.queue.get() is _DONE
        finally:
            connection.close()


class BackgroundWriter:
    """`CopyWriter`s in threads, each with its own connection, so storing overlaps generating.

    With two connections PostgreSQL uses both cores: index maintenance, not
    Python, bounds a bulk load. Batches are self-contained (whole units), so
    they can go to any connection. All connections commit together at
    `close()`, or roll back on `abort()` or on any failure, which `put` or
    `close` raises again.
    """

    def __init__(
        self, project_id: int, *, connections: int = 2, on_written: Callable[[CopyWriter], None] | None = None
    ) -> None:
        self.project_id = project_id
        self.on_written = on_written
        self.decided = threading.Event()
        self.commit = False
        self.lock = threading.Lock()
        self.workers = [_Worker(self, number) for number in range(connections)]
        self.totals = CopyWriter(project_id)  # counts only
        self.turn = 0
        for worker in self.workers:
            worker.start()

    def written(self) -> None:
        with self.lock:
            for name in ("events", "persons", "sessions", "companies"):
                setattr(self.totals, name, sum(getattr(w.writer, name) for w in self.workers))
            if self.on_written is not None:
                self.on_written(self.totals)

    def _raise_failure(self) -> None:
        for worker in self.workers:
            if worker.error is not None:
                raise worker.error

    def put(self, batch: Batch) -> None:
        self._raise_failure()
        # the next idle connection, else wait for the one whose turn it is
        for offset in range(len(self.workers)):
            worker = self.workers[(self.turn + offset) % len(self.workers)]
            if worker.queue.empty():
                break
        else:
            worker = self.workers[self.turn % len(self.workers)]
        self.turn += 1
        worker.queue.put(batch)

    def _finish(self, commit: bool) -> None:
        for worker in self.workers:
            worker.queue.put(_DONE)
        for worker in self.workers:
            worker.ready.wait()
        self.commit = commit and all(worker.error is None for worker in self.workers)
        self.decided.set()
        for worker in self.workers:
            worker.join()

    def close(self) -> None:
        """Commit everything (or raise the failure, everything rolled back), then refresh statistics."""
        self._finish(commit=True)
        self._raise_failure()
        tables_analyze()

    def abort(self) -> None:
        self._finish(commit=False)
