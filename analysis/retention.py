"""Retention table: cohorts by first-seen week (or day), rows split by segment.

A person belongs to the cohort of the week (or day, in the project's time zone)
in which they were first seen. Period N is measured from each person's own first
moment: [first seen + N periods, first seen + N+1 periods). A cell is the share of
the cohort who did the return event (any event, or a chosen one) in period N,
so period 0 of "any event" is always 100%. A cell is *in progress* while some
member's period N has not ended yet; in-progress cells are shown but left out
of the per-segment averages.

Rows are split by segment (current members); "Everyone" is the whole cohort.
The cohorts come from tracking_person (its first_seen index), the return
periods from each person's events, and the event store counts them per cohort,
group and period (tracking.eventstore.analysis.retention_counts_sql): one
statement on PostgreSQL; on ClickHouse, counted where the events are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from analysis.events import EventSpec, parse_event
from analysis.params import TRAFFIC_FIELDS, Checker, DateRange, ParamError, range_bounds
from analysis.reads import fetch_all, limited
from analysis.selectors import tagged_members_sql
from segments.models import Segment
from tracking.eventstore.analysis import retention_counts_sql, retention_returns_sql
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter, person_filter_sql

PERIODS = {"day": timedelta(days=1), "week": timedelta(weeks=1)}
MAX_PERIODS = 26
MAX_COHORTS = 60


@dataclass
class RetentionQuery:
    range: DateRange
    period: str = "week"
    periods: int = 8
    event: EventSpec | None = None
    segments: list[Segment] = field(default_factory=list)
    traffic: TrafficFilter = field(default_factory=TrafficFilter)

    def to_json(self) -> dict:
        return {
            **self.range.to_json(),
            "period": self.period,
            "periods": self.periods,
            "event": self.event.to_json() if self.event else None,
            "segments": [s.pk for s in self.segments],
            **self.traffic.to_json(),
        }

    @property
    def event_label(self) -> str:
        return self.event.label if self.event else "any event"


def retention_params(data: Any, *, project: Project) -> RetentionQuery:
    if not isinstance(data, dict):
        raise ParamError({"non_field_errors": ["send an object of parameters"]})
    checker = Checker(project=project)
    checker.unknown_keys(
        data, ("date_from", "date_to", "last_days", "period", "periods", "event", "segments", *TRAFFIC_FIELDS)
    )
    period = checker.choice(data.get("period", "week"), "period", tuple(PERIODS))
    periods = checker.integer(data.get("periods", 8), "periods", minimum=1, maximum=MAX_PERIODS)
    event = parse_event(data["event"], "event", checker) if data.get("event") not in (None, "") else None
    segments = checker.segments(data.get("segments"), "segments")
    date_range = checker.date_range(data, default_days=90)
    if date_range and period:
        cohorts = date_range.days if period == "day" else (date_range.days + 6) // 7 + 1
        if cohorts > MAX_COHORTS:
            checker.error("date_from", f"at most {MAX_COHORTS} cohorts: shorten the range or use weeks")
    traffic = checker.traffic(data)
    checker.done()
    assert date_range is not None and period is not None and periods is not None
    return RetentionQuery(
        range=date_range, period=period, periods=periods, event=event, segments=segments, traffic=traffic
    )


@dataclass
class Cell:
    period: int
    count: int
    rate: float | None
    complete: bool  # every member's period has ended
    started: bool = True  # some member's period has begun (else there is nothing to show yet)

    def to_json(self) -> dict:
        return {"period": self.period, "count": self.count, "rate": self.rate if self.started else None,
                "complete": self.complete}  # fmt: skip


@dataclass
class CohortRow:
    cohort: date
    group: str
    segment_id: int | None
    size: int
    cells: list[Cell]

    def to_json(self) -> dict:
        return {
            "cohort": self.cohort.isoformat(),
            "group": self.group,
            "segment": self.segment_id,
            "size": self.size,
            "cells": [c.to_json() for c in self.cells],
        }


@dataclass
class Curve:
    """A group's retention per period over the cohorts whose period is complete (weighted by cohort size)."""

    group: str
    segment_id: int | None
    rates: list[float | None]
    sizes: list[int]

    def to_json(self) -> dict:
        return {"group": self.group, "segment": self.segment_id, "rates": self.rates, "persons": self.sizes}


@dataclass
class RetentionResult:
    query: RetentionQuery
    cohorts: list[date]
    rows: list[CohortRow]
    curves: list[Curve]

    @property
    def period_labels(self) -> list[str]:
        unit = self.query.period.capitalize()
        return [f"{unit} {n}" for n in range(self.query.periods)]

    @property
    def by_cohort(self) -> list[tuple[date, list[CohortRow]]]:
        return [(c, [r for r in self.rows if r.cohort == c]) for c in self.cohorts]

    def to_json(self) -> dict:
        return {
            "query": self.query.to_json(),
            "membership": "current members of each segment",
            "periods": self.period_labels,
            "rows": [r.to_json() for r in self.rows],
            "average": [c.to_json() for c in self.curves],
        }


def cohort_starts(query: RetentionQuery) -> list[date]:
    start = query.range.date_from
    if query.period == "week":
        start -= timedelta(days=start.weekday())  # date_trunc('week') starts on Monday
    step = 7 if query.period == "week" else 1
    out = []
    while start <= query.range.date_to:
        out.append(start)
        start += timedelta(days=step)
    return out


def cohort_sql(*, project: Project, query: RetentionQuery) -> tuple[str, list]:
    """`person_id, first_seen, cohort`: the persons first seen in the range, by tracking_person's first_seen index."""
    start, end = range_bounds(query.range, project)
    counted, counted_params = person_filter_sql("p.id", project=project, traffic=query.traffic)
    sql = (
        "SELECT p.id AS person_id, p.first_seen, date_trunc(%s, p.first_seen AT TIME ZONE %s)::date AS cohort"  # noqa: S608 - constants and %s parameters only
        f" FROM tracking_person p WHERE p.project_id = %s AND p.first_seen >= %s AND p.first_seen < %s AND {counted}"
    )
    return sql, [query.period, str(project.zone), project.pk, start, end, *counted_params]


def cohort_ctes_sql(*, project: Project, query: RetentionQuery) -> tuple[str, list]:
    """Two CTEs: `cohort (person_id, first_seen, cohort)` and `returned (person_id, period)`.

    The returns come from the event store (tracking.eventstore.analysis.retention_returns_sql),
    MATERIALIZED over their own copy of the cohort's query so that they can run
    in parallel workers (tracking.eventstore.postgres.analysis_retention.counts_sql).
    """
    cohort, cohort_params = cohort_sql(project=project, query=query)
    returns, returns_params = retention_returns_sql(
        project_id=project.pk,
        cohort=(cohort, cohort_params),
        step=query.event.step() if query.event else None,
        period=PERIODS[query.period],
        periods=query.periods,
    )
    return (
        f"cohort AS ({cohort}), returned AS MATERIALIZED (WITH cohort AS ({cohort}) {returns})",
        [*cohort_params, *cohort_params, *returns_params],
    )


def retention_compute(
    *, project: Project, query: RetentionQuery, now: datetime | None = None
) -> RetentionResult:
    now = now or timezone.now()
    zone = project.zone
    start, end = range_bounds(query.range, project)
    period = PERIODS[query.period]
    with limited():  # PostgreSQL's event store reads the cohort and its days while it builds the counts
        members, member_params = tagged_members_sql(query.segments)
        counts, params = retention_counts_sql(
            project_id=project.pk,
            cohort=cohort_sql(project=project, query=query),
            groups=(f"SELECT m.segment_id AS group_id, m.person_id FROM ({members}) m", member_params),  # noqa: S608 - constant SQL, values as %s parameters
            step=query.event.step() if query.event else None,
            period=period,
            periods=query.periods,
        )
        records = fetch_all(f"SELECT c.cohort, c.group_id, c.period, c.persons FROM ({counts}) c", params)  # noqa: S608 - constant SQL, values as %s parameters

    sizes: dict[tuple[date, int], int] = {}
    returned: dict[tuple[date, int, int], int] = {}
    for cohort, grp, n, count in records:
        if n < 0:
            sizes[(cohort, grp)] = count
        else:
            returned[(cohort, grp, n)] = count
    cohorts = cohort_starts(query)
    groups: list[tuple[str, int | None, int]] = [("Everyone", None, 0)] + [
        (s.name, s.pk, s.pk) for s in query.segments
    ]
    unit = timedelta(days=7 if query.period == "week" else 1)
    rows: list[CohortRow] = []
    for cohort in cohorts:
        # the last member of the cohort was first seen before the cohort (or the range) ended
        cohort_start = max(datetime.combine(cohort, datetime.min.time(), tzinfo=zone), start)
        cohort_end = min(cohort_start + unit, end)
        for label, segment_id, grp in groups:
            size = sizes.get((cohort, grp), 0)
            cells = [
                Cell(
                    period=n,
                    count=returned.get((cohort, grp, n), 0),
                    rate=returned.get((cohort, grp, n), 0) / size if size else None,
                    complete=cohort_end + period * (n + 1) <= now,
                    started=cohort_start + period * n <= now,
                )
                for n in range(query.periods)
            ]
            rows.append(CohortRow(cohort=cohort, group=label, segment_id=segment_id, size=size, cells=cells))
    curves = []
    for label, segment_id, _ in groups:
        rates, persons = [], []
        for n in range(query.periods):
            done = [r for r in rows if r.segment_id == segment_id and r.cells[n].complete and r.size]
            total = sum(r.size for r in done)
            persons.append(total)
            rates.append(sum(r.cells[n].count for r in done) / total if total else None)
        curves.append(Curve(group=label, segment_id=segment_id, rates=rates, sizes=persons))
    return RetentionResult(query=query, cohorts=cohorts, rows=rows, curves=curves)
