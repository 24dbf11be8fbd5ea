"""Membership history over the stored events: reconstruct it, read it as of a moment.

A segment's live membership (segments.membership) starts when it is first
computed. Reconstruction fills in everything before: it evaluates the
definition as of each day boundary (midnight in the project's time zone) from
the first stored event, or SEGMENT_HISTORY_DAYS back, to the last boundary,
then as the live computation does now, and replaces the segment's periods and
daily snapshots with what it found. A reconstructed period enters (and exits)
at the boundary where it was first (and no longer) seen: "entered on the 3rd"
means met the definition at some moment of the 2nd. Entries and exits on day
`d` are those in (start of d, end of d], the convention record_snapshot keeps.

Day to day the evaluation is incremental: between two boundaries a person's
answer can change only when
- one of their events, sessions or trait writes falls in between (lag 0);
- one of them leaves a "last N days" window (an event N days before the
  range), or a first/last-seen threshold passes (first seen d days before);
- their company's traits change, or a static segment the definition names
  takes them in or out.
Those persons are found on the daily rollup, the trait history and the
memberships, and only they are evaluated again (the compiler's `person_ids`).
A rank condition is the exception: anyone's events can move anyone in or out of
a top 10%, so a definition with one is evaluated for everyone at every boundary.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from segments.compiler import compile_definition, compile_segment, effective_definition
from segments.definition import walk_conditions
from segments.history_candidates import candidates_by_step
from segments.membership import LOCK_NAMESPACE, MembershipChange, emit_after_commit, record_snapshot
from segments.models import Segment, SegmentSizeSnapshot
from segments.sweep import Unsupported, sweep_members, unsupported
from tracking.dataversion import data_changed
from tracking.eventstore.arrays import pg_array
from web import budget

NULL = "\\N"  # COPY's text format
FULL_SHARE = 0.3  # evaluate everyone when more than this share of persons may have changed
SWEEP = True  # every boundary in one pass where the definition allows (segments.sweep)


class HistoryStale(Exception):
    """The segment's definition changed while its history was rebuilt: a newer rebuild takes over."""


@dataclass
class Reconstruction:
    segment_id: int
    first_day: date | None = None
    days: int = 0
    evaluated: int = 0  # persons evaluated over all boundaries (the full evaluation counts everyone)
    full_evaluations: int = 0
    method: str = "stepwise"  # or "sweep": every boundary in one pass (segments.sweep)
    periods: int = 0
    size: int = 0
    elapsed_ms: int = 0
    sizes: list[tuple[date, int, int, int]] = field(default_factory=list)  # (day, size, entered, exited)


@dataclass
class Dependencies:
    """What makes a person's answer move between two moments, besides their own new events."""

    lags: set[int] = field(default_factory=lambda: {0})  # days: events this long ago leave a window
    static_segments: set[int] = field(default_factory=set)
    person_traits: bool = False
    company_traits: bool = False
    sessions: bool = False
    # anyone's answer can move with other people's events: a rank (a top 10%), or a company
    # segment's people and aggregates; every boundary then evaluates everyone
    everyone: bool = False


def dependencies(definition: dict, *, project_id: int, seen: frozenset[int] = frozenset()) -> Dependencies:
    deps = Dependencies()
    for node in walk_conditions(definition):
        kind = node["type"]
        window = node.get("window") or {}
        if "last_days" in window:
            deps.lags.add(int(window["last_days"]))
        if kind in ("first_seen", "last_seen"):
            deps.lags.add(int(node["value"]))
        elif kind == "first_time":
            deps.lags.add(int(node["within_last_days"]))
        elif kind in ("stopped", "restarted"):
            deps.lags |= {int(node["days"]), 2 * int(node["days"])}
        elif kind in ("device", "geo", "session"):
            deps.sessions = True
        elif kind == "rank":
            deps.everyone = True
        elif kind == "person":
            deps.person_traits = True
        elif kind == "company":
            deps.company_traits = True
        elif kind == "company_segment":
            deps.everyone = True
        elif kind == "segment" and node["segment"] not in seen:
            inner = Segment.objects.filter(pk=node["segment"], project_id=project_id).first()
            if inner is None:
                continue
            if not inner.is_dynamic:
                deps.static_segments.add(inner.pk)
                continue
            nested = dependencies(effective_definition(inner), project_id=project_id, seen=seen | {inner.pk})
            deps.lags |= nested.lags
            deps.static_segments |= nested.static_segments
            deps.person_traits |= nested.person_traits
            deps.company_traits |= nested.company_traits
            deps.sessions |= nested.sessions
            deps.everyone |= nested.everyone
    return deps


def _matching(segment: Segment, definition: dict, *, at: datetime, person_ids: list[int] | None) -> set[int]:
    query = compile_definition(
        definition, project=segment.project, now=at, person_ids=person_ids, segment_id=segment.pk, as_of=True
    )
    budget.check()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.SEGMENT_WORK_MEM])
        cursor.execute(query.sql, query.params)
        return {row[0] for row in cursor.fetchall()}


def first_activity(project) -> datetime | None:
    """When the project's stored history begins: its first person's first event."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(first_seen) FROM tracking_person WHERE project_id = %s", [project.pk])
        return cursor.fetchone()[0]


def boundaries(project, *, now: datetime, horizon_days: int) -> list[datetime]:
    """The day boundaries to evaluate at: midnight (project time) of each day from the first one to today."""
    first = first_activity(project)
    if first is None:
        return []
    tz = project.zone
    today = now.astimezone(tz).date()
    day = max(first.astimezone(tz).date(), today - timedelta(days=horizon_days))
    points = []
    while day <= today:
        points.append(datetime.combine(day, datetime.min.time(), tzinfo=tz))
        day += timedelta(days=1)
    return points


def reconstruct(
    segment: Segment, *, now: datetime | None = None, horizon_days: int | None = None
) -> Reconstruction:
    """Rebuild a dynamic segment's membership periods and daily sizes over its stored history."""
    started = time.monotonic()
    now = now or timezone.now()
    horizon = settings.SEGMENT_HISTORY_DAYS if horizon_days is None else horizon_days
    project = segment.project
    definition = effective_definition(segment)
    result = Reconstruction(segment_id=segment.pk)
    points = [b for b in boundaries(project, now=now, horizon_days=horizon) if b <= now]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tracking_person WHERE project_id = %s", [project.pk])
        persons = cursor.fetchone()[0]

    members: set[int] = set()
    open_since: dict[int, datetime] = {}
    closed: list[tuple[int, datetime, datetime]] = []
    steps = len(points)
    if (
        SWEEP
        and points
        and segment.subject == "person"
        and unsupported(definition, project=project, seen=frozenset({segment.pk})) is None
    ):
        try:
            masks = sweep_members(segment, definition, points)
        except Unsupported:  # a segment it names changed meanwhile: step by step
            pass
        else:
            result.method, result.evaluated = "sweep", persons * len(points)  # everyone at every boundary
            members, open_since, closed, result.sizes = _periods(masks, points, zone=project.zone)
            steps = 0
    deps = dependencies(definition, project_id=project.pk, seen=frozenset({segment.pk})) if steps else None
    changed = candidates_by_step(project, deps, points) if deps and not deps.everyone else None
    for k, point in enumerate(points[:steps]):
        budget.progress(k, steps + 1)
        if k == 0 or changed is None:
            found, scope = _matching(segment, definition, at=point, person_ids=None), None
            result.evaluated += persons
            result.full_evaluations += 1
        else:
            scope = sorted(changed[k])
            if deps.everyone or len(scope) > FULL_SHARE * persons:
                found = _matching(segment, definition, at=point, person_ids=None)
                scope = None
                result.full_evaluations += 1
            else:
                found = _matching(segment, definition, at=point, person_ids=scope) if scope else set()
            result.evaluated += persons if scope is None else len(scope)
        now_in = found if scope is None else (members - set(scope)) | found
        entered, exited = now_in - members, members - now_in
        for pid in entered:
            open_since[pid] = point
        for pid in exited:
            closed.append((pid, open_since.pop(pid), point))
        if k > 0:
            # the day that ends at this boundary
            result.sizes.append(
                (points[k - 1].astimezone(project.zone).date(), len(now_in), len(entered), len(exited))
            )
        members = now_in
    result.first_day = (
        points[0].astimezone(project.zone).date() if points else now.astimezone(project.zone).date()
    )
    result.days = max(len(points) - 1, 0)
    if steps:
        budget.progress(steps, steps + 1)
    result.periods = _store(segment, definition, now=now, last=points[-1] if points else None,
                            members=members, open_since=open_since, closed=closed, result=result)  # fmt: skip
    result.elapsed_ms = int((time.monotonic() - started) * 1000)
    return result


def _periods(
    masks: dict[int, int], points: list[datetime], *, zone
) -> tuple[
    set[int], dict[int, datetime], list[tuple[int, datetime, datetime]], list[tuple[date, int, int, int]]
]:
    """Membership periods and daily sizes from per-person masks of the boundaries at which each was in."""
    n = len(points)
    members: set[int] = set()
    open_since: dict[int, datetime] = {}
    closed: list[tuple[int, datetime, datetime]] = []
    entered, exited = [0] * (n + 1), [0] * (n + 1)
    for pid, mask in masks.items():
        while mask:
            lo = (mask & -mask).bit_length() - 1
            rest = mask >> lo
            length = (~rest & (rest + 1)).bit_length() - 1  # the run of ones from lo
            hi = lo + length  # the first boundary out
            entered[lo] += 1
            if hi >= n:
                members.add(pid)
                open_since[pid] = points[lo]
            else:
                exited[hi] += 1
                closed.append((pid, points[lo], points[hi]))
            mask = (rest >> length) << hi
    sizes, size = [], entered[0]
    for k in range(1, n):
        size += entered[k] - exited[k]
        sizes.append((points[k - 1].astimezone(zone).date(), size, entered[k], exited[k]))
    return members, open_since, closed, sizes


def _store(
    segment: Segment,
    definition: dict,
    *,
    now: datetime,
    last: datetime | None,
    members: set[int],
    open_since: dict[int, datetime],
    closed: list[tuple[int, datetime, datetime]],
    result: Reconstruction,
) -> int:
    """Swap the reconstructed history in, joined to what the live computation finds now, in one transaction."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, segment.pk])
            current = Segment.objects.select_related("project", "model").filter(pk=segment.pk).first()
            if current is None or effective_definition(current) != definition:
                raise HistoryStale(
                    "The segment changed while its history was rebuilt; a newer rebuild follows."
                )
            query = compile_segment(current, now=now)
            cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.SEGMENT_WORK_MEM])
            cursor.execute(query.sql, query.params)
            live = {row[0] for row in cursor.fetchall()}
            cursor.execute(
                "SELECT person_id FROM segments_segmentmembership WHERE segment_id = %s AND exited_at IS NULL",
                [segment.pk],
            )
            before = {row[0] for row in cursor.fetchall()}
            # when the live computation saw those who entered since the last boundary (only they need it)
            cursor.execute(
                "SELECT person_id, entered_at FROM segments_segmentmembership"
                " WHERE segment_id = %s AND exited_at IS NULL AND person_id = ANY(%s::bigint[])",
                [segment.pk, pg_array(sorted((live - members) & before))],
            )
            seen_at = dict(cursor.fetchall())
            rows: list[tuple[int, datetime, datetime | None, bool]] = [(p, a, b, True) for p, a, b in closed]
            for pid in members - live:  # left since the last boundary
                rows.append((pid, open_since[pid], now, True))
            for pid in live:
                if pid in members:
                    rows.append((pid, open_since[pid], None, True))
                else:  # entered since the last boundary: when the live computation saw it, if it did
                    seen = seen_at.get(pid)
                    rows.append(
                        (
                            pid,
                            seen if seen is not None and (last is None or seen > last) else now,
                            None,
                            False,
                        )
                    )
            cursor.execute("DELETE FROM segments_segmentmembership WHERE segment_id = %s", [segment.pk])
            buffer = io.StringIO()
            for pid, entered, exited, rebuilt in rows:
                ended = exited.isoformat() if exited else NULL
                buffer.write(
                    f"{segment.project_id}\t{segment.pk}\t{pid}\t{entered.isoformat()}\t{ended}\t{'t' if rebuilt else 'f'}\n"
                )
            with cursor.copy(
                "COPY segments_segmentmembership (project_id, segment_id, person_id, entered_at, exited_at, reconstructed)"
                " FROM STDIN"
            ) as copy:
                copy.write(buffer.getvalue())
            SegmentSizeSnapshot.objects.filter(segment_id=segment.pk).delete()
            SegmentSizeSnapshot.objects.bulk_create(
                SegmentSizeSnapshot(
                    project_id=segment.project_id,
                    segment_id=segment.pk,
                    date=day,
                    size=size,
                    entered=entered,
                    exited=exited,
                    reconstructed=True,
                )
                for day, size, entered, exited in result.sizes
            )
            record_snapshot(current, now=now, size=len(live))
            result.size = len(live)
            Segment.objects.filter(pk=segment.pk).update(
                history_from=result.first_day, history_built_at=now, size=len(live)
            )
            cursor.execute("ANALYZE segments_segmentmembership")
        change = MembershipChange(
            segment_id=segment.pk,
            entered=sorted(live - before),
            exited=sorted(before - live),
            size=len(live),
        )
        emit_after_commit([change], project_id=segment.project_id)
    data_changed(segment.project_id)
    return len(rows)


# -- reading the history ----------------------------------------------------------------------------


def is_boundary(project, at: datetime) -> bool:
    local = at.astimezone(project.zone)
    return local.hour == local.minute == local.second == local.microsecond == 0


def stored_covers(segment: Segment, at: datetime) -> bool:
    """Whether the stored periods say exactly who was in at `at`."""
    if not segment.is_dynamic:
        return True
    if segment.history_built_at is None or segment.history_from is None:
        return False
    if at >= segment.history_built_at:
        return True
    return (
        is_boundary(segment.project, at)
        and at.astimezone(segment.project.zone).date() >= segment.history_from
    )
