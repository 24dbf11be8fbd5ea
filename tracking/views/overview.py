"""The overview page: what the snippet collected over the last 30 days."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tracking.decorators import project_view
from tracking.models import Project
from tracking.selectors.overview import overview_get
from tracking.traffic.filtering import TrafficFilter
from web.charts import Series, line_chart
from web.rendering import render_page

DAYS = 30


@project_view
@require_GET
def overview(request: HttpRequest, project: Project) -> HttpResponse:
    data = overview_get(project=project, days=DAYS, traffic=TrafficFilter.from_request(request.GET))
    labels = [f"{d.day:%b} {d.day.day}" for d in data.days]
    charts = {}
    if data.has_events:
        charts = {
            "events": line_chart(
                labels, [Series("Events", [d.events for d in data.days])], title="Events per day"
            ),
            "persons": line_chart(
                labels,
                [Series("Active persons", [d.persons for d in data.days])],
                title="Active persons per day",
            ),
        }
    return render_page(
        request, "tracking/overview.html", {"overview": data, "charts": charts, "days": DAYS}, project=project
    )
