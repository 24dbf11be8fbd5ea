"""Trends, the events explorer: counts and unique persons of an event or action over time, broken down.

The event store answers each question (tracking.eventstore.analysis: one
statement on PostgreSQL, grouped by `date_trunc` in the project's time zone;
per-person counts from ClickHouse finished in PostgreSQL otherwise); nothing
loads events into Python. A breakdown keeps the top values by
event count and folds the rest into one "other" series. Pages and the API ask
for a trend through its job (`analysis.trend_jobs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from tracking.eventstore import analysis as eventstore
from tracking.models import Action, Person, Project
from tracking.traffic.filtering import EVERYONE, TrafficFilter, excluded_persons_sql

INTERVALS = ("hour", "day", "week")
SESSION_BREAKDOWNS = ("browser", "os", "device_type", "country")
BREAKDOWNS = (*SESSION_BREAKDOWNS, "path", "person", "company", "event")
PROPERTY_BREAKDOWNS = ("person", "company", "event")
TOP_VALUES = 10
MAX_BUCKETS = 800
_STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}


@dataclass(frozen=True)
class Breakdown:
    kind: str
    prop: str = ""  # the property name for person, company and event breakdowns

    def __str__(self) -> str:
        return f"{self.kind}:{self.prop}" if self.prop else self.kind

    @property
    def label(self) -> str:
        names = {"device_type": "device", "os": "OS", "path": "URL path"}
        if self.prop:
            return f"{self.kind} property “{self.prop}”"
        return names.get(self.kind, self.kind)


@dataclass(frozen=True)
class TrendQuery:
    """What to count. Exactly one of `event` and `action`; dates are inclusive, in the project's zone."""

    date_from: date
    date_to: date
    interval: str = "day"
    event: str | None = None
    action: Action | None = None
    breakdown: Breakdown | None = None
    filters: tuple[dict, ...] = ()
    # everyone unless asked: the explorer's form asks to leave bots and internal users out
    traffic: TrafficFilter = EVERYONE

    @property
    def subject(self) -> str:
        return self.action.name if self.action else (self.event or "")

    def to_json(self) -> dict:
        """The query as parameters (`analysis.trend_form.trend_query_from_json` reads them back)."""
        return {
            "event": self.event,
            "action": self.action.pk if self.action else None,
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "interval": self.interval,
            "breakdown": str(self.breakdown) if self.breakdown else None,
            "filters": list(self.filters),
            **self.traffic.to_json(),
        }


@dataclass
class TrendSeries:
    breakdown_value: str | None
    counts: list[int]
    persons: list[int]
    total: int = 0
    total_persons: int = 0
    other: bool = False

    @property
    def label(self) -> str:
        if self.other:
            return "Other values"
        if self.breakdown_value is None:
            return "All"
        return self.breakdown_value or "(none)"


@dataclass
class TrendResult:
    query: TrendQuery
    buckets: list[datetime]
    series: list[TrendSeries] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    persons: list[int] = field(default_factory=list)
    total: int = 0
    total_persons: int = 0
    # the persons behind it, most events first, when asked for (the page shows them; the API does not)
    people: list[tuple[Person, int]] | None = None
    people_for: str | None = None  # … of this breakdown value only

    @property
    def labels(self) -> list[str]:
        return [bucket_label(b, self.query.interval) for b in self.buckets]

    def to_json(self) -> dict:
        """The result as `GET …/trends/` answers it (docs/actions.md)."""
        out = {
            **self.query.to_json(),
            "labels": self.labels,
            "total": self.total,
            "total_persons": self.total_persons,
            "counts": self.counts,
            "persons": self.persons,
            "series": [
                {
                    "breakdown_value": series.breakdown_value,
                    "other": series.other,
                    "label": series.label,
                    "counts": series.counts,
                    "persons": series.persons,
                    "total": series.total,
                    "total_persons": series.total_persons,
                }
                for series in self.series
            ],
        }
        if self.people is not None:
            out["people"] = [{"person": person.pk, "events": count} for person, count in self.people]
            out["people_for"] = self.people_for
        return out


def bucket_label(bucket: datetime, interval: str) -> str:
    return bucket.strftime("%Y-%m-%dT%H:00") if interval == "hour" else bucket.strftime("%Y-%m-%d")


def chart_labels(result: TrendResult) -> list[str]:
    """Short x-axis labels: `Nov 3` per day or week, `14:00` per hour (`Nov 3` at midnight)."""
    if result.query.interval == "hour":
        return [b.strftime("%b %-d") if b.hour == 0 else b.strftime("%H:00") for b in result.buckets]
    return [b.strftime("%b %-d") for b in result.buckets]


def default_range(*, project: Project, days: int = 30, now: datetime | None = None) -> tuple[date, date]:
    """The last `days` days, today included, in the project's time zone."""
    today = (now or timezone.now()).astimezone(project.zone).date()
    return today - timedelta(days=days - 1), today


def bucket_starts(date_from: date, date_to: date, interval: str) -> list[datetime]:
    """Local (naive) bucket starts covering [date_from, date_to], as `date_trunc` names them."""
    start = datetime.combine(date_from, time())
    if interval == "week":
        start -= timedelta(days=start.weekday())  # date_trunc('week') starts on Monday
    end = datetime.combine(date_to + timedelta(days=1), time())
    out = []
    while start < end:
        out.append(start)
        start += _STEP[interval]
    return out


def _bounds(query: TrendQuery, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(query.date_from, time(), tzinfo=zone)
    end = datetime.combine(query.date_to + timedelta(days=1), time(), tzinfo=zone)
    return start, end


def _question(project: Project, query: TrendQuery) -> dict:
    """The event store's arguments for the rows of the question: range, event or action, filters, traffic."""
    start, end = _bounds(query, project.zone)
    breakdown = query.breakdown
    return dict(
        project_id=project.pk,
        start=start,
        end=end,
        event=query.event if query.action is None else None,
        action_steps=query.action.steps if query.action is not None else None,
        filters=[dict(f) for f in query.filters],
        breakdown=(breakdown.kind, breakdown.prop) if breakdown else None,
        excluded=excluded_persons_sql(project=project, traffic=query.traffic),
    )


def trend_compute(*, project: Project, query: TrendQuery) -> TrendResult:
    """Counts and unique persons per bucket and per breakdown value (top values + other)."""
    zone = project.zone
    buckets = bucket_starts(query.date_from, query.date_to, query.interval)
    index = {b: i for i, b in enumerate(buckets)}
    # per bucket and value, per value (series totals, where persons are not a sum of
    # buckets), per bucket (all values) and overall
    rows = eventstore.trend_rows(
        **_question(project, query), zone=str(zone), interval=query.interval, top_values=TOP_VALUES
    )

    n = len(buckets)
    result = TrendResult(query=query, buckets=buckets, counts=[0] * n, persons=[0] * n)
    by_key: dict[tuple[bool, str | None], TrendSeries] = {}

    def series_for(is_top: bool, shown: str | None) -> TrendSeries:
        key = (is_top, shown)
        if key not in by_key:
            value = (shown if is_top else None) if query.breakdown else None
            by_key[key] = TrendSeries(
                breakdown_value=value,
                counts=[0] * n,
                persons=[0] * n,
                other=bool(query.breakdown) and not is_top,
            )
        return by_key[key]

    for bucket, is_top, shown, count, persons, no_bucket, no_value in rows:
        if no_bucket and no_value:
            result.total, result.total_persons = count, persons
        elif no_value:
            if bucket in index:
                result.counts[index[bucket]], result.persons[index[bucket]] = count, persons
        elif no_bucket:
            series = series_for(is_top, shown)
            series.total, series.total_persons = count, persons
        elif bucket in index:
            series = series_for(is_top, shown)
            series.counts[index[bucket]], series.persons[index[bucket]] = count, persons
    if query.breakdown is None and not by_key:
        series_for(True, "")  # nothing matched: still one (all-zero) series to draw
    result.series = sorted(by_key.values(), key=lambda s: (s.other, -s.total, s.breakdown_value or ""))
    return result


def trend_persons(
    *, project: Project, query: TrendQuery, breakdown_value: str | None = None, limit: int = 25
) -> list[tuple[Person, int]]:
    """The persons behind a trend (optionally one breakdown value), most events first."""
    counts = eventstore.trend_person_counts(
        **_question(project, query), breakdown_value=breakdown_value, limit=limit
    )
    persons = Person.objects.filter(project_id=project.pk, pk__in=[pid for pid, _ in counts]).in_bulk()
    return [(persons[pid], count) for pid, count in counts if pid in persons]
