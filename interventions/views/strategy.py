"""Strategy: the outcomes the team wants to move, and which segment gets which treatment.

A segment earns its keep by changing a message, a flow or a gate for its people;
one that changes none is reporting only, and groups of a model that get exactly
the same treatment could be merged without anyone noticing.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from analysis.metrics import metric_spec
from analysis.params import ParamError
from analysis.selectors import metric_list
from interventions.selectors.strategy import strategy
from tracking.decorators import project_view
from tracking.models import Project
from web.rendering import render_page


@project_view
@require_GET
def strategy_page(request: HttpRequest, project: Project) -> HttpResponse:
    context = {"strategy": strategy(project=project), "metrics": _metrics(project)}
    return render_page(request, "interventions/strategy.html", context, project=project)


def _metrics(project: Project) -> list[tuple[object, str]]:
    """The project's target metrics (defined under Analysis) in words."""
    rows = []
    for metric in metric_list(project=project):
        try:
            spec = metric_spec(metric, project=project)
        except ParamError as error:
            rows.append((metric, f"No longer valid: {error}"))
        else:
            rows.append((metric, f"Of {spec.population_label}: {spec.description}."))
    return rows
