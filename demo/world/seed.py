"""Seeding a project with the demo world: generate unit by unit, write in COPY batches, report progress.

The world is a pure function of (persons, days, seed, until): the same
options give the same rows (apart from database ids) however they are
chunked. Nothing is held for the whole world — units are generated,
gathered into batches of about `BATCH_EVENTS` events and written — so memory
stays flat from a thousand events to tens of millions.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction

from demo.world.behaviour import UnitSimulation
from demo.world.catalog import HOST
from demo.world.engagement import DAY, Period
from demo.world.records import Batch
from demo.world.world import Population
from demo.world.writers import BackgroundWriter, CopyWriter, tables_analyze
from tracking.eventstore.bulk import project_has_events
from tracking.ingest.rollup import person_days_rebuild
from tracking.models import IngestSource, Person, Project

BATCH_EVENTS = 25_000
MAX_DAYS = 700  # ingestion refuses events older than two years; so does the world


class ProjectNotEmpty(ValueError):
    pass


@dataclass(frozen=True)
class WorldOptions:
    persons: int = 2000
    days: int = 60
    seed: int = 1
    until: datetime = datetime(2026, 1, 1, tzinfo=UTC)  # the world's "now"; callers pass one explicitly

    def __post_init__(self) -> None:
        if self.persons < 1:
            raise ValueError("persons must be at least 1")
        if not 1 <= self.days <= MAX_DAYS:
            raise ValueError(f"days must be between 1 and {MAX_DAYS}")
        if self.until.tzinfo is None:
            raise ValueError("until must be an aware datetime")

    @property
    def period(self) -> Period:
        end = self.until.timestamp()
        return Period(start=end - self.days * DAY, end=end)

    @property
    def salt(self) -> int:
        return int.from_bytes(hashlib.sha256(f"sightline-demo:{self.seed}".encode()).digest()[:6], "big")


def until_parse(text: str | None, *, today: date | None = None) -> datetime:
    """`--until`: a date (its midnight, UTC) or an ISO datetime; default today's midnight, UTC."""
    if not text:
        day = today or datetime.now(tz=UTC).date()
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--until must be a date (2026-11-29) or an ISO datetime, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class SeedReport:
    persons_generated: int = 0
    persons_total: int = 0
    persons: int = 0
    companies: int = 0
    sessions: int = 0
    events: int = 0
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


Progress = Callable[[SeedReport], None]


def world_batches(options: WorldOptions, *, batch_events: int = BATCH_EVENTS) -> Iterator[tuple[Batch, int]]:
    """Batches of whole units with at least `batch_events` events (the last may have fewer), and the persons so far."""
    period = options.period
    population = Population(seed=options.seed, persons=options.persons)
    batch = Batch()
    persons = 0
    for unit in population.units():
        batch.extend(UnitSimulation(unit, period, salt=options.salt).run())
        persons += len(unit.people)
        if len(batch.events) >= batch_events:
            yield batch, persons
            batch = Batch()
    if batch.persons:
        yield batch, persons


def project_is_empty(project: Project) -> bool:
    return not Person.objects.filter(project=project).exists() and not project_has_events(project.pk)


def world_seed(
    *,
    project: Project,
    options: WorldOptions,
    progress: Progress | None = None,
    background: bool | None = None,
) -> SeedReport:
    """Fill an empty project with the demo world; returns what was written.

    `background` writes from a thread with its own connection and transaction
    (faster: generation and storage overlap); by default it is used unless the
    caller is inside a transaction, whose uncommitted project the thread could
    not see.
    """
    if not project_is_empty(project):
        raise ProjectNotEmpty(f"project {project.pk} already has data; seed an empty project")
    if background is None:
        background = not connection.in_atomic_block
    report = SeedReport(persons_total=options.persons)
    started = time.monotonic()

    def written(writer: CopyWriter) -> None:
        report.persons, report.companies = writer.persons, writer.companies
        report.sessions, report.events = writer.sessions, writer.events
        report.seconds = time.monotonic() - started

    if not background:
        writer = CopyWriter(project.pk)
        with transaction.atomic():
            for batch, persons in world_batches(options):
                writer.write(batch)
                report.persons_generated = persons
                written(writer)
                if progress is not None:
                    progress(report)
            _source_record(project, options, report)
            person_days_rebuild(project.pk)
        if not connection.in_atomic_block:
            tables_analyze()
        written(writer)
        return report

    sink = BackgroundWriter(project.pk, on_written=written)
    try:
        for batch, persons in world_batches(options):
            sink.put(batch)
            report.persons_generated = persons
            report.seconds = time.monotonic() - started
            if progress is not None:
                progress(report)
    except BaseException:
        sink.abort()
        raise
    sink.close()
    written(sink.totals)
    _source_record(project, options, report)
    person_days_rebuild(project.pk)  # events were written with COPY, around ingestion's rollup
    return report


def _source_record(project: Project, options: WorldOptions, report: SeedReport) -> None:
    """The sending host, as ingestion counts it for the install check: the demo site sent these events."""
    if not report.events:
        return
    first, last = timeline_bounds(options)
    IngestSource.objects.update_or_create(
        project=project,
        host=HOST,
        defaults={"first_seen": first, "last_seen": last, "event_count": report.events},
    )


def timeline_bounds(options: WorldOptions) -> tuple[datetime, datetime]:
    """The first and last moment of the world, as datetimes (for messages)."""
    period = options.period
    return datetime.fromtimestamp(period.start, UTC), datetime.fromtimestamp(period.end, UTC) - timedelta(
        seconds=1
    )
