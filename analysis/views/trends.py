"""The events explorer: an event or action over time, broken down and filtered.

The page renders at once: with the trend when it is cached (or computed within
a moment), else with the progress of the job computing it, which swaps the
result in when done.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.views.decorators.http import require_GET

from analysis.trend_form import BREAKDOWN_CHOICES, TrendForm
from analysis.trend_jobs import TEMPLATE, result_context, trends_request
from analysis.trends import INTERVALS, TrendQuery
from analysis.views.common import freshness
from tracking.decorators import project_view
from tracking.models import Project
from tracking.properties import OPERATORS
from tracking.selectors.actions import action_list
from tracking.selectors.events import event_names
from tracking.traffic.filtering import TrafficFilter, excluded_counts
from web.rendering import render_page

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
        zone = project.zone
        start = datetime.combine(query.date_from, time(), tzinfo=zone)
        end = datetime.combine(query.date_to + timedelta(days=1), time(), tzinfo=zone)
        context.update(
            _picked(query),
            query=query,
            traffic=query.traffic,
            excluded=excluded_counts(project=project, start=start, end=end),
        )
        context.update(_answer(request, project, query))
    else:
        context.update(_typed(request.GET))
    # Invalid parameters render the page with the errors beside the form (htmx swaps 200s only).
    return render_page(request, TEMPLATE, context, project=project, fragment="results")


def _answer(request: HttpRequest, project: Project, query: TrendQuery) -> dict:
    """The trend to show at once (cached, or computed within a moment), or the job to poll for it.

    A cached trend computed before newer data arrived is shown with a Refresh
    link; `refresh=1` computes it again.
    """
    answer = trends_request(
        project=project,
        query=query,
        people=True,
        people_for=request.GET.get("persons") if query.breakdown else None,
        user=request.user,
        wait=settings.ANALYSIS_PAGE_WAIT_SECONDS,
        watch=True,
        refresh=request.GET.get("refresh") == "1",
        stale="show",
    )
    if answer.waiting:
        return answer.panel()
    return {**result_context(answer.result()), **freshness(request, answer)}


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
