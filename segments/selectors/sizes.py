"""How many: the live size preview, size trends and weekly movement, models' group sizes.

Everything here only reads. The preview runs under a statement timeout, so an
expensive definition answers "took too long" instead of holding a web worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from psycopg import sql

from segments.compiler import CompileError, compile_definition
from segments.definition import DefinitionError, validate_definition
from segments.models import Segment, SegmentationModel, SegmentMembership, SegmentSizeSnapshot
from segments.selectors import segments_counted
from tracking.models import Company, Person, Project
from tracking.traffic.filtering import TrafficFilter, person_filter_q
from web.sql import QueryTimedOut, bounded_fetch

PREVIEW_TIMEOUT_MS = 5000
TREND_DAYS = 7
SPARK_DAYS = 30


class TimedOut(Exception):
    pass


def bounded_read(query: str | sql.Composed, params: list, *, timeout_ms: int) -> list[tuple]:
    """Run a read with a statement timeout (and the work_mem segment queries need); raise TimedOut."""
    try:
        return bounded_fetch(query, params, timeout_ms=timeout_ms, work_mem=settings.SEGMENT_WORK_MEM)
    except QueryTimedOut as error:
        raise TimedOut from error


# -- live preview ------------------------------------------------------------------------------


@dataclass
class Preview:
    """How many persons a definition selects now, or why it cannot say."""

    count: int | None = None
    total: int = 0
    elapsed_ms: int = 0
    error: str = ""
    error_path: str = ""
    timed_out: bool = False
    # editing a computed segment: who would enter and leave (segments.selectors.versions.ChangePreview)
    change: Any = None
    subject: str = "person"  # what is counted: people, or companies

    @property
    def share(self) -> float:
        return (self.count or 0) / self.total if self.total else 0.0

    @property
    def percent(self) -> str:
        share = self.share * 100
        return f"{share:.1f}%" if share < 10 else f"{share:.0f}%"


def definition_check(
    *, project: Project, definition: object, segment_id: int | None = None, subject: str = "person"
) -> dict | Preview:
    """The definition normalised, or a Preview saying what is wrong with it (no query runs)."""
    try:
        return validate_definition(definition, project_id=project.pk, segment_id=segment_id, subject=subject)
    except DefinitionError as error:
        return Preview(error=error.message, error_path=error.path)


def definition_preview(
    *, project: Project, definition: object, segment_id: int | None = None, now: datetime | None = None,
    timeout_ms: int = PREVIEW_TIMEOUT_MS, subject: str = "person",
) -> Preview:  # fmt: skip
    """Validate and count a definition the way a computation would, without storing anything.

    Inside a background job the job's time limit replaces `timeout_ms` (`web.sql.bounded_fetch`).
    A company definition (`subject` "company") counts companies.
    """
    normalised = definition_check(
        project=project, definition=definition, segment_id=segment_id, subject=subject
    )
    if isinstance(normalised, Preview):
        return normalised
    try:
        query = compile_definition(
            normalised, project=project, now=now or timezone.now(), segment_id=segment_id, subject=subject
        )
    except CompileError as error:
        return Preview(error=str(error))
    started = time.monotonic()
    try:
        rows = bounded_read(
            f"SELECT count(*) FROM ({query.sql}) matched",  # noqa: S608 - the compiler's constant SQL; values are parameters
            query.params,
            timeout_ms=timeout_ms,
        )
    except TimedOut:
        return Preview(timed_out=True, elapsed_ms=timeout_ms)
    except DatabaseError as error:
        return Preview(error=f"the database could not evaluate it: {str(error).splitlines()[0]}")
    elapsed = int((time.monotonic() - started) * 1000)
    everyone = Company if subject == "company" else Person
    total = everyone.objects.filter(project_id=project.pk).count()
    return Preview(count=rows[0][0], total=total, elapsed_ms=elapsed, subject=subject)


# -- size over time ----------------------------------------------------------------------------------


@dataclass
class SizeTrend:
    """A segment's size over the last days, from its daily snapshots (carried forward over quiet days)."""

    size: int
    days: list[date] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    entered: list[int] = field(default_factory=list)
    exited: list[int] = field(default_factory=list)
    week_ago: int | None = None
    known_from: int = 0  # index of the first day with a snapshot: before it the segment did not exist

    @property
    def known_labels(self) -> list[str]:
        return self.labels[self.known_from :]

    @property
    def known_sizes(self) -> list[int]:
        return self.sizes[self.known_from :]

    @property
    def change(self) -> int | None:
        return None if self.week_ago is None else self.size - self.week_ago

    @property
    def direction(self) -> str:
        """growing, stalling, shrinking — or new, when it is younger than a week."""
        if self.week_ago is None:
            return "new"
        change = self.size - self.week_ago
        if abs(change) < max(1.0, self.week_ago * 0.01):
            return "stalling"
        return "growing" if change > 0 else "shrinking"

    @property
    def arrow(self) -> str:
        return {"growing": "↑", "stalling": "→", "shrinking": "↓"}.get(self.direction, "")

    @property
    def change_percent(self) -> str:
        if not self.week_ago or self.change is None:
            return ""
        return f"{self.change / self.week_ago * 100:+.0f}%"

    @property
    def entered_week(self) -> int:
        return sum(self.entered[-TREND_DAYS:])

    @property
    def exited_week(self) -> int:
        return sum(self.exited[-TREND_DAYS:])

    @property
    def labels(self) -> list[str]:
        return [f"{d:%b} {d.day}" for d in self.days]


def size_trends(
    *, project: Project, segments: Iterable[Segment], days: int = SPARK_DAYS, now: datetime | None = None
) -> dict[int, SizeTrend]:
    """Daily sizes, entries and exits of the last `days` days (today included) for each segment.

    Two queries whatever the number of segments: the snapshots in the range, and
    for each segment the last snapshot before it (the size the range starts from).
    """
    found = {s.pk: s for s in segments}
    if not found:
        return {}
    today = (now or timezone.now()).astimezone(project.zone).date()
    first = today - timedelta(days=days - 1)
    snapshots: dict[int, dict[date, SegmentSizeSnapshot]] = {pk: {} for pk in found}
    for snap in SegmentSizeSnapshot.objects.filter(segment_id__in=found, date__gte=first, date__lte=today):
        snapshots[snap.segment_id][snap.date] = snap
    before = {
        snap.segment_id: snap.size
        for snap in SegmentSizeSnapshot.objects.filter(segment_id__in=found, date__lt=first)
        .order_by("segment_id", "-date")
        .distinct("segment_id")
    }
    week_start = today - timedelta(days=TREND_DAYS)
    trends = {}
    for pk, segment in found.items():
        trend = SizeTrend(size=segment.size)
        current: int | None = before.get(pk)
        if current is None:
            trend.known_from = days - 1  # at least today, whose size is the live one
        for offset in range(days):
            day = first + timedelta(days=offset)
            snap = snapshots[pk].get(day)
            if snap is not None:
                if current is None:
                    trend.known_from = min(trend.known_from, offset)
                current = snap.size
            if day == week_start:
                trend.week_ago = current
            trend.days.append(day)
            trend.sizes.append(current or 0)
            trend.entered.append(snap.entered if snap else 0)
            trend.exited.append(snap.exited if snap else 0)
        if trend.sizes:
            trend.sizes[-1] = segment.size  # the live size, even before today's snapshot
        trends[pk] = trend
    return trends


# -- models --------------------------------------------------------------------------------------


@dataclass
class ModelGroupRow:
    segment: Segment
    share: float

    @property
    def name(self) -> str:
        """The group's name without the model's prefix ("Lifecycle: New" -> "New")."""
        prefix = f"{self.segment.model.name}: " if self.segment.model_id else ""
        return self.segment.name.removeprefix(prefix) if prefix else self.segment.name


@dataclass
class ModelDistribution:
    model: SegmentationModel
    rows: list[ModelGroupRow]
    total: int

    @property
    def computing(self) -> bool:
        return any(row.segment.status in ("pending", "computing") for row in self.rows)


def model_distributions(*, models: Iterable[SegmentationModel]) -> list[ModelDistribution]:
    """Each model's groups in evaluation order (the remainder last) with their share of the model.

    Sizes are the counted ones (`counted_size`): bots and internal users are left out, as
    everywhere a segment's size is shown.
    """
    out = []
    for model in models:
        groups = sorted(model.groups.all(), key=lambda g: (g.is_model_remainder, g.model_position, g.pk))
        segments_counted(project=model.project, segments=groups)
        total = sum(g.counted_size for g in groups)
        out.append(
            ModelDistribution(
                model=model,
                rows=[
                    ModelGroupRow(segment=g, share=g.counted_size / total if total else 0.0) for g in groups
                ],
                total=total,
            )
        )
    return out


def recent_members(*, segment: Segment, limit: int = 5) -> list[SegmentMembership]:
    """The latest people to enter the segment, for a persona's examples (membership_segment_entered)."""
    return list(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True)
        .select_related("person")
        .prefetch_related("person__distinct_ids")
        .order_by("-entered_at", "-id")[:limit]
    )


def persons_total(*, project: Project) -> int:
    """Everyone but bots and internal users: the denominator of segment shares."""
    return (
        Person.objects.filter(project_id=project.pk)
        .filter(person_filter_q("id", project=project, traffic=TrafficFilter()))
        .count()
    )
