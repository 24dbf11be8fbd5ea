"""The events explorer: an event or action over time, broken down and filtered."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.http import require_GET

from tracking.decorators import project_view
from tracking.forms.actions import BREAKDOWN_CHOICES, TrendForm
from tracking.models import Project
from tracking.properties import OPERATORS
from tracking.selectors.actions import action_list
from tracking.selectors.events import event_names
from tracking.selectors.trends import (
    INTERVALS,
    TrendQuery,
    TrendResult,
    chart_labels,
    trend_compute,
    trend_persons,
)
from tracking.traffic.filtering import TrafficFilter, excluded_counts
from web.charts import PALETTE, Series, line_chart
from web.rendering import render_page

TEMPLATE = "tracking/trends/explorer.html"
DEFAULT_EVENT = "$pageview"


@project_view
@require_GET
def trends(request: HttpRequest, project: Project) -> HttpResponse:
    form = TrendForm(request.GET, project=project, default_event=DEFAULT_EVENT)
    context: dict = {
        "form": form,
        "names": event_names(project=project),
        "actions": action_list(project=project),
        "intervals": INTERVALS,
        "breakdowns": BREAKDOWN_CHOICES,
        "operators": OPERATORS,
        "traffic": TrafficFilter.from_request(request.GET),
        "excluded": excluded_counts(project=project),
    }
    if form.is_valid():
        query = form.query()
        result = trend_compute(project=project, query=query)
        zone = project.zone
        start = datetime.combine(query.date_from, time(), tzinfo=zone)
        end = datetime.combine(query.date_to + timedelta(days=1), time(), tzinfo=zone)
        persons_for = request.GET.get("persons") if query.breakdown else None
        context.update(
            _picked(query),
            query=query,
            result=result,
            chart=_chart(result),
            buckets=list(zip(result.labels, result.counts, result.persons, strict=True)),
            persons=trend_persons(project=project, query=query, breakdown_value=persons_for),
            persons_for=persons_for,
            traffic=query.traffic,
            excluded=excluded_counts(project=project, start=start, end=end),
        )
    else:
        context.update(_typed(request.GET))
    # Invalid parameters render the page with the errors beside the form (htmx swaps 200s only).
    return render_page(request, TEMPLATE, context, project=project, fragment="results")


def _picked(query: TrendQuery) -> dict:
    """What the form shows as chosen, from a valid query (defaults filled in)."""
    return {
        "subject_value": f"a:{query.action.pk}" if query.action else f"e:{query.event}",
        "subject_event": query.event,
        "subject_action_id": query.action.pk if query.action else None,
        "date_from": query.date_from.isoformat(),
        "date_to": query.date_to.isoformat(),
        "interval": query.interval,
        "breakdown_kind": query.breakdown.kind if query.breakdown else "",
        "breakdown_property": query.breakdown.prop if query.breakdown else "",
    }


def _typed(data: QueryDict) -> dict:
    """What the form shows after invalid input: what was typed, so it can be corrected."""
    kind, _, prop = (data.get("breakdown") or "").partition(":")
    return {
        "subject_value": data.get("subject", ""),
        "date_from": data.get("date_from", ""),
        "date_to": data.get("date_to", ""),
        "interval": data.get("interval", "day"),
        "breakdown_kind": kind,
        "breakdown_property": prop or data.get("breakdown_property", ""),
    }


def _chart(result: TrendResult) -> str:
    if result.query.breakdown is None:
        series = [Series("Events", result.counts), Series("Unique persons", result.persons)]
    else:
        series = [Series(s.label, s.counts) for s in result.series[: len(PALETTE)]]
    return line_chart(
        chart_labels(result), series, title=f"{result.query.subject} per {result.query.interval}"
    )
