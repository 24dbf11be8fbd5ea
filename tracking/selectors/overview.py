"""The overview page: activity per day, totals and the top lists, aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.utils import timezone

from tracking import elements as chain
from tracking.eventstore import explore
from tracking.eventstore.summary import ClickedTarget
from tracking.models import Person, Project, Session
from tracking.selectors.events import event_exists
from tracking.traffic.filtering import (
    Excluded,
    TrafficFilter,
    excluded_counts,
    excluded_persons_sql,
    person_filter_q,
)

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
    event_id: str | None = None  # the uuid of one of its events


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

    summary = explore.activity_summary(
        project.pk,
        since=since,
        zone=zone,
        excluded=excluded_persons_sql(project=project, traffic=traffic),
        top=TOP,
    )
    series = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        events, persons = summary.per_day.get(day, (0, 0))
        series.append(Day(day=day, events=events, persons=persons))

    sessions = Session.objects.filter(
        counted, project_id=project.pk, started_at__gte=since
    )  # session_project_started
    browsers = sessions.values("browser").annotate(count=Count("*")).order_by("-count", "browser")
    countries = sessions.values("country").annotate(count=Count("*")).order_by("-count", "country")

    return Overview(
        has_events=True,
        days=series,
        events=summary.events,
        active_persons=summary.persons,
        sessions=sessions.count(),
        persons_total=Person.objects.filter(person_filter_q("id", project=project, traffic=traffic))
        .filter(project_id=project.pk)
        .count(),
        traffic=traffic,
        excluded=excluded_counts(project=project, start=since),
        top_pages=_ranked(summary.pages, empty_label="(no path)"),
        top_elements=_elements_ranked(summary.clicks),
        browsers=_ranked(list(browsers.values_list("browser", "count")[:8])),
        countries=_ranked(list(countries.values_list("country", "count")[:8])),
    )


def _elements_ranked(clicks: list[ClickedTarget]) -> list[Ranked]:
    top = max((click.count for click in clicks), default=0) or 1
    ranked = []
    for click in clicks:
        decoded = chain.decode(chain.RS + click.target + chain.RS) if click.target else []
        element = decoded[0] if decoded else {}
        ranked.append(
            Ranked(
                label=chain.describe(element) if element else "(unknown element)",
                detail=element.get("text") or click.text or "",
                count=click.count,
                share=click.count / top,
                event_id=str(click.example) if click.example else None,
            )
        )
    return ranked
