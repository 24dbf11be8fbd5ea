"""The overview page: activity per day, totals and the top lists, aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Func, Max, TextField, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from tracking import elements as chain
from tracking.models import Event, Person, Project, Session
from tracking.selectors.events import event_exists
from tracking.traffic.filtering import Excluded, TrafficFilter, excluded_counts, person_filter_q

TOP = 10


@dataclass(frozen=True)
class Day:
    day: date
    events: int
    persons: int


@dataclass(frozen=True)
class Ranked:
    """One row of a top list; `share` is the count relative to the first row, for bars."""

    label: str
    count: int
    share: float
    detail: str = ""
    event_id: int | None = None


@dataclass
class Overview:
    has_events: bool
    days: list[Day] = field(default_factory=list)
    events: int = 0
    active_persons: int = 0
    sessions: int = 0
    persons_total: int = 0
    top_pages: list[Ranked] = field(default_factory=list)
    top_elements: list[Ranked] = field(default_factory=list)
    browsers: list[Ranked] = field(default_factory=list)
    countries: list[Ranked] = field(default_factory=list)
    traffic: TrafficFilter = field(default_factory=TrafficFilter)
    excluded: Excluded = field(default_factory=Excluded)


def _ranked(rows: list[tuple[str, int]], *, empty_label: str = "Unknown") -> list[Ranked]:
    top = max((count for _, count in rows), default=0) or 1
    return [Ranked(label=label or empty_label, count=count, share=count / top) for label, count in rows]


def overview_get(
    *, project: Project, days: int = 30, now: datetime | None = None, traffic: TrafficFilter | None = None
) -> Overview:
    """Activity of the last `days` days (today included) in the project's time zone.

    Bots and internal users are left out unless `traffic` lets them in.
    """
    traffic = traffic or TrafficFilter()
    counted = person_filter_q(project=project, traffic=traffic)
    if not event_exists(project=project):
        return Overview(has_events=False, persons_total=Person.objects.filter(project_id=project.pk).count())
    zone = project.zone
    now = now or timezone.now()
    first_day = now.astimezone(zone).date() - timedelta(days=days - 1)
    since = datetime.combine(first_day, time.min, tzinfo=zone)

    # The time range is all the BRIN index on timestamp needs to skip old blocks.
    recent = Event.objects.filter(counted, project_id=project.pk, timestamp__gte=since)
    per_day = {
        row["day"]: row
        for row in recent.annotate(day=TruncDate("timestamp", tzinfo=zone))
        .values("day")
        .annotate(events=Count("*"), persons=Count("person_id", distinct=True))
        .order_by()
    }
    series = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        row = per_day.get(day, {})
        series.append(Day(day=day, events=row.get("events", 0), persons=row.get("persons", 0)))
    totals = recent.aggregate(events=Count("*"), persons=Count("person_id", distinct=True))

    # event_project_name_ts serves both top lists: one name over a time range.
    pages = (
        recent.filter(name="$pageview")
        .values("path")
        .annotate(count=Count("*"))
        .order_by("-count", "path")
        .values_list("path", "count")[:TOP]
    )
    target = Func(
        F("elements_chain"), Value(chain.RS), Value(2), function="split_part", output_field=TextField()
    )
    clicks = (
        recent.filter(name="$autocapture")
        .annotate(target=target)
        .values("target")
        .annotate(count=Count("*"), example=Max("id"), text=Max("el_text"))
        .order_by("-count", "target")[:TOP]
    )

    sessions = Session.objects.filter(
        counted, project_id=project.pk, started_at__gte=since
    )  # session_project_started
    browsers = sessions.values("browser").annotate(count=Count("*")).order_by("-count", "browser")
    countries = sessions.values("country").annotate(count=Count("*")).order_by("-count", "country")

    return Overview(
        has_events=True,
        days=series,
        events=totals["events"],
        active_persons=totals["persons"],
        sessions=sessions.count(),
        persons_total=Person.objects.filter(person_filter_q("id", project=project, traffic=traffic))
        .filter(project_id=project.pk)
        .count(),
        traffic=traffic,
        excluded=excluded_counts(project=project, start=since),
        top_pages=_ranked(list(pages), empty_label="(no path)"),
        top_elements=_elements_ranked(list(clicks)),
        browsers=_ranked(list(browsers.values_list("browser", "count")[:8])),
        countries=_ranked(list(countries.values_list("country", "count")[:8])),
    )


def _elements_ranked(rows: list[dict]) -> list[Ranked]:
    top = max((row["count"] for row in rows), default=0) or 1
    ranked = []
    for row in rows:
        decoded = chain.decode(chain.RS + row["target"] + chain.RS) if row["target"] else []
        element = decoded[0] if decoded else {}
        ranked.append(
            Ranked(
                label=chain.describe(element) if element else "(unknown element)",
                detail=element.get("text") or row["text"] or "",
                count=row["count"],
                share=row["count"] / top,
                event_id=row["example"],
            )
        )
    return ranked
