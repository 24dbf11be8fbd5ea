"""Reads of membership history for the pages and the API: who was in a segment at a moment,
a person's periods, which traits an as-of answer had to take at their current value.

The answers come from `segments.history`: the stored periods where they are exact
(`stored_covers`), else the definition evaluated as of the moment. Evaluations made
for a web request run under the preview's statement timeout, so a heavy definition
answers "took too long" instead of holding a worker.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.db import DatabaseError
from django.db.models import Min, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from segments.compiler import CompileError, compile_definition, effective_definition
from segments.definition import walk_conditions
from segments.history import stored_covers
from segments.models import Segment, SegmentMembership, SegmentSizeSnapshot
from segments.selectors.sizes import PREVIEW_TIMEOUT_MS, TimedOut, bounded_read, definition_check
from tracking.models import Person, Project

SAMPLE = 10
FALLBACK_TIMEOUT_MS = 2000  # counting the traits that fell back is a note on a page: never worth a wait


_PLUS_READ_AS_SPACE = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


class AsOfError(ValueError):
    """An `as_of` that cannot be read, or that lies in the future; the message says which."""


def as_of_parse(raw: str, *, project: Project, now: datetime | None = None) -> datetime:
    """An ISO 8601 moment: a datetime with an offset, a naive one (read in the project's
    time zone), or a bare date (its midnight in the project's time zone). Not after `now`."""
    # an unescaped "+" of an offset in a query string arrives as a space
    raw = _PLUS_READ_AS_SPACE.sub(r"\1+\2", (raw or "").strip())
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            moment = datetime.combine(day, datetime.min.time()) if day is not None else None
    except ValueError:  # well formed but impossible, e.g. 2026-02-30
        moment = None
    if moment is None:
        raise AsOfError("Give an ISO 8601 date or datetime, e.g. 2026-10-03 or 2026-10-03T14:00:00+02:00.")
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=project.zone)
    if moment > (now or timezone.now()):
        raise AsOfError("This moment is in the future: history only reaches up to now.")
    return moment


def end_of_day(day: date, *, project: Project, now: datetime | None = None) -> datetime:
    """The boundary at the end of `day` (midnight before the next), or now for today: "members on" a day."""
    boundary = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=project.zone)
    return min(boundary, now or timezone.now())


# -- who was in ----------------------------------------------------------------------------------------


@dataclass
class MembersThen:
    """Who was in a segment at `at`, and where the answer came from ("history" or "evaluated")."""

    at: datetime
    source: str
    person_ids: list[int] = field(default_factory=list)  # when evaluated
    periods: QuerySet[SegmentMembership] | None = None  # when read from the stored history
    timed_out: bool = False
    error: str = ""
    project_id: int = 0

    @cached_property
    def count(self) -> int:
        return self.periods.count() if self.periods is not None else len(self.person_ids)

    def first_persons(self, limit: int) -> list[Person]:
        if self.periods is not None:
            return [m.person for m in self.periods[:limit]]
        return persons_by_id(project_id=self.project_id, person_ids=self.person_ids[:limit])


def _evaluate(
    definition: dict,
    *,
    project: Project,
    at: datetime,
    segment_id: int | None,
    person_ids: list[int] | None = None,
) -> list[int]:
    """Ids matching `definition` as of `at`, under the preview's statement timeout (raises TimedOut)."""
    query = compile_definition(
        definition, project=project, now=at, person_ids=person_ids, segment_id=segment_id, as_of=True
    )
    rows = bounded_read(query.sql, query.params, timeout_ms=PREVIEW_TIMEOUT_MS)
    return sorted(row[0] for row in rows)


def periods_at(*, segment: Segment, at: datetime) -> QuerySet[SegmentMembership]:
    """The stored periods covering `at`, by person, kept a query so a page of a large segment
    reads one page (membership_segment_entered)."""
    return (
        SegmentMembership.objects.filter(segment=segment, entered_at__lte=at)
        .exclude(exited_at__lte=at)
        .select_related("person")
        .prefetch_related("person__distinct_ids")
        .order_by("person_id")
    )


def members_then(*, segment: Segment, at: datetime) -> MembersThen:
    """Who was in the segment at `at`: the stored periods where `stored_covers` says they are exact,
    else the definition as of `at`, evaluated under the preview's statement timeout."""
    if stored_covers(segment, at):
        return MembersThen(at=at, source="history", periods=periods_at(segment=segment, at=at))
    then = MembersThen(at=at, source="evaluated", project_id=segment.project_id)
    try:
        then.person_ids = _evaluate(
            effective_definition(segment), project=segment.project, at=at, segment_id=segment.pk
        )
    except TimedOut:
        then.timed_out = True
    except (CompileError, DatabaseError) as error:
        then.error = str(error).splitlines()[0]
    return then


def persons_by_id(*, project_id: int, person_ids: list[int]) -> list[Person]:
    """The persons, in the order of `person_ids`, with their distinct ids."""
    found = Person.objects.filter(project_id=project_id, pk__in=person_ids).prefetch_related("distinct_ids")
    by_id = {p.pk: p for p in found}
    return [by_id[pk] for pk in person_ids if pk in by_id]


@dataclass
class SegmentThen:
    segment: Segment
    source: str
    entered_at: datetime | None = None  # of the stored period covering the moment, when read from it


def person_segments_then(
    *, project: Project, person_id: int, at: datetime
) -> tuple[list[SegmentThen], list[Segment]]:
    """The segments the person was in at `at`, and those whose answer could not be had in time.

    Stored periods answer where `stored_covers` says they are exact (static segments
    always); the others are evaluated as of `at` for this one person.
    """
    segments = list(
        Segment.objects.filter(project=project).select_related("project", "model").order_by("name", "pk")
    )
    stored = [segment for segment in segments if stored_covers(segment, at)]
    # one read of the person's periods covering `at` in every segment the history answers for
    entered = dict(
        SegmentMembership.objects.filter(
            project=project, person_id=person_id, segment__in=stored, entered_at__lte=at
        )
        .exclude(exited_at__lte=at)
        .values_list("segment_id", "entered_at")
    )
    inside, unknown = [], []
    for segment in segments:
        if segment in stored:
            if segment.pk in entered:
                inside.append(SegmentThen(segment=segment, source="history", entered_at=entered[segment.pk]))
            continue
        try:
            found = _evaluate(
                effective_definition(segment),
                project=project,
                at=at,
                segment_id=segment.pk,
                person_ids=[person_id],
            )
        except (TimedOut, CompileError, DatabaseError):
            unknown.append(segment)
            continue
        if found:
            inside.append(SegmentThen(segment=segment, source="evaluated"))
    return inside, unknown


# -- a person's timeline -------------------------------------------------------------------------------


@dataclass
class Period:
    entered_at: datetime
    exited_at: datetime | None
    reconstructed: bool
    entered_day: date  # for a reconstructed period: the day during which they met the definition
    exited_day: date | None
    exit_reconstructed: bool = False  # the exit too was found at a day boundary
    before_history: bool = False  # already in on the first day the reconstructed history covers


@dataclass
class SegmentTimeline:
    segment: Segment
    periods: list[Period]  # latest first

    @property
    def current(self) -> bool:
        return bool(self.periods) and self.periods[0].exited_at is None


def _day_of(moment: datetime, *, reconstructed: bool, project: Project) -> date:
    """The day a change happened. A reconstructed change stamped at a day boundary happened
    during the day that ends there (segments.history)."""
    if reconstructed:
        moment = moment - timedelta(microseconds=1)
    return moment.astimezone(project.zone).date()


def person_timeline(
    *, project: Project, person_id: int, limit: int = 500
) -> tuple[list[SegmentTimeline], bool]:
    """Every segment the person has been in with its periods: current ones first, then by latest exit.

    Second value: whether periods beyond `limit` were left out. Reads the person's
    periods through the membership's person foreign-key index.
    """
    rows = list(
        SegmentMembership.objects.filter(project=project, person_id=person_id)
        .select_related("segment")
        .order_by("-entered_at", "-pk")[: limit + 1]
    )
    by_segment: dict[int, SegmentTimeline] = {}
    for m in rows[:limit]:
        timeline = by_segment.setdefault(m.segment_id, SegmentTimeline(segment=m.segment, periods=[]))
        # an exit at `now` (left since the last boundary) is live, not a boundary
        exit_rebuilt = m.reconstructed and m.exited_at is not None and _on_boundary(m.exited_at, project)
        timeline.periods.append(
            Period(
                entered_at=m.entered_at,
                exited_at=m.exited_at,
                reconstructed=m.reconstructed,
                entered_day=_day_of(m.entered_at, reconstructed=m.reconstructed, project=project),
                exited_day=_day_of(m.exited_at, reconstructed=exit_rebuilt, project=project)
                if m.exited_at
                else None,
                exit_reconstructed=exit_rebuilt,
                before_history=m.reconstructed
                and m.segment.history_from is not None
                and m.entered_at.astimezone(project.zone).date() <= m.segment.history_from,
            )
        )
    timelines = sorted(
        by_segment.values(),
        key=lambda t: (
            not t.current,
            -(t.periods[0].exited_at or t.periods[0].entered_at).timestamp(),
            t.segment.name,
        ),
    )
    return timelines, len(rows) > limit


def _on_boundary(moment: datetime, project: Project) -> bool:
    local = moment.astimezone(project.zone)
    return local.hour == local.minute == local.second == local.microsecond == 0


# -- size history --------------------------------------------------------------------------------------


def history_points(*, segment: Segment) -> list[SegmentSizeSnapshot]:
    """Every daily snapshot of the segment, oldest first (snapshot_segment_date)."""
    return list(SegmentSizeSnapshot.objects.filter(segment=segment).order_by("date"))


def first_snapshot_day(*, segment: Segment) -> date | None:
    return SegmentSizeSnapshot.objects.filter(segment=segment).aggregate(first=Min("date"))["first"]


# -- traits taken at their current value --------------------------------------------------------------


@dataclass
class TraitFallback:
    subject: str  # "person" or "company"
    key: str
    count: (
        int | None
    )  # persons (companies) with a current value and no history of it; None: not counted in time


def trait_keys(
    definition: dict, *, project: Project, seen: frozenset[int] = frozenset()
) -> set[tuple[str, str]]:
    """The (subject, key) pairs of the person and company conditions, nested dynamic segments included."""
    keys: set[tuple[str, str]] = set()
    for node in walk_conditions(definition):
        if node.get("type") in ("person", "company"):
            keys.add((node["type"], node["property"]))
        elif node.get("type") == "segment" and node.get("segment") not in seen:
            inner = (
                Segment.objects.filter(pk=node["segment"], project=project).select_related("model").first()
            )
            if inner is not None and inner.is_dynamic:
                keys |= trait_keys(effective_definition(inner), project=project, seen=seen | {inner.pk})
    return keys


def trait_fallbacks(
    definition: dict, project: Project, *, segment_id: int | None = None
) -> list[TraitFallback]:
    """For each trait the definition reads, how many persons (companies) hold a current value that
    no stored `$set`/`$set_once`/`$groupidentify` explains: as of any moment, the compiler takes
    their current value. Only traits with at least one such person (company) are listed.

    Relies on person_trait_key / company_trait_key (project_id, key, subject, at) for the NOT EXISTS.
    """
    seen = frozenset({segment_id}) if segment_id else frozenset()
    found = []
    for subject, key in sorted(trait_keys(definition, project=project, seen=seen)):
        table, history, column = (
            ("tracking_person", "tracking_persontrait", "person_id")
            if subject == "person"
            else ("tracking_company", "tracking_companytrait", "company_id")
        )
        try:
            rows = bounded_read(
                f"SELECT count(*) FROM {table} s WHERE s.project_id = %s AND s.properties ? %s"  # noqa: S608 - table names from the code above
                f" AND NOT EXISTS (SELECT 1 FROM {history} t WHERE t.project_id = %s AND t.key = %s AND t.{column} = s.id)",
                [project.pk, key, project.pk, key],
                timeout_ms=FALLBACK_TIMEOUT_MS,
            )
        except TimedOut:  # a page must not wait for it: name the trait, uncounted
            found.append(TraitFallback(subject=subject, key=key, count=None))
            continue
        if rows[0][0]:
            found.append(TraitFallback(subject=subject, key=key, count=rows[0][0]))
    return found


# -- preview as of a moment ---------------------------------------------------------------------------


@dataclass
class PreviewThen:
    at: datetime
    count: int | None = None
    sample: list[Person] = field(default_factory=list)
    elapsed_ms: int = 0
    error: str = ""
    error_path: str = ""
    timed_out: bool = False


def definition_preview_at(
    *, project: Project, definition: object, at: datetime, sample: int = SAMPLE
) -> PreviewThen:
    """How many persons a definition selected as of `at`, and a few of them (the lowest ids)."""
    normalised = definition_check(project=project, definition=definition)
    if not isinstance(normalised, dict):
        return PreviewThen(at=at, error=normalised.error, error_path=normalised.error_path)
    started = time.monotonic()
    try:
        query = compile_definition(normalised, project=project, now=at, as_of=True)
        # the count of all rows rides along with the first few: one evaluation
        rows = bounded_read(
            f"SELECT count(*) OVER (), m.id FROM ({query.sql}) m(id) ORDER BY m.id LIMIT %s",  # noqa: S608 - the compiler's constant SQL; values are parameters
            [*query.params, sample],
            timeout_ms=PREVIEW_TIMEOUT_MS,
        )
    except TimedOut:
        return PreviewThen(at=at, timed_out=True, elapsed_ms=PREVIEW_TIMEOUT_MS)
    except CompileError as error:
        return PreviewThen(at=at, error=str(error), error_path="definition")
    except DatabaseError as error:
        return PreviewThen(at=at, error=f"the database could not evaluate it: {str(error).splitlines()[0]}")
    elapsed = int((time.monotonic() - started) * 1000)
    ids = [row[1] for row in rows]
    return PreviewThen(
        at=at,
        count=rows[0][0] if rows else 0,
        sample=persons_by_id(project_id=project.pk, person_ids=ids),
        elapsed_ms=elapsed,
    )
