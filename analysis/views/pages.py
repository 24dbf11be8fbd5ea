"""The analysis hub and its four tools: compare, funnels, retention, paths (GET forms, results in place)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from analysis import filter_rows, forms
from analysis.funnels import (
    BREAKDOWN_LABELS,
    BREAKDOWN_TYPES,
    MAX_STEPS,
    FunnelQuery,
)
from analysis.jobs import dropped_context, dropped_request
from analysis.kinds import analysis_params
from analysis.metrics import KIND_HELP
from analysis.params import UNITS, ParamError
from analysis.paths import DIRECTIONS, STEP_KINDS
from analysis.retention import MAX_PERIODS, PERIODS
from analysis.selectors import metric_list, saved_analysis_list
from analysis.views.common import analysis_page, labelled, merged
from segments.selectors.discovery import event_property_keys
from tracking.decorators import project_view
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter
from web.rendering import render_page

DROPPED_PAGE = 100


@project_view
@require_GET
def analysis(request: HttpRequest, project: Project) -> HttpResponse:
    """The hub: what each tool answers, the project's metrics and saved analyses."""
    context = {
        "metrics": list(metric_list(project=project)),
        "saved": list(saved_analysis_list(project=project)),
        "kind_help": KIND_HELP,
    }
    return render_page(request, "analysis/hub.html", context, project=project)


@project_view
@require_GET
def compare(request: HttpRequest, project: Project) -> HttpResponse:
    context = {
        "metrics": list(metric_list(project=project)),
        "chosen_metric": request.GET.get("metric", ""),
        "reference": request.GET.get("reference", ""),
    }
    return analysis_page(request, project, kind="compare", context=context)


def _event_keys(project: Project, subjects: list[str]) -> list[str]:
    """Property keys of the steps' events, for the filter rows' suggestions."""
    keys: dict[str, None] = {}
    for subject in dict.fromkeys(subjects):
        if subject.startswith("e:") and subject[2:]:
            keys.update((s.value, None) for s in event_property_keys(project=project, event=subject[2:]))
    return list(keys)


@project_view
@require_GET
def funnels(request: HttpRequest, project: Project) -> HttpResponse:
    rows = forms.funnel_step_rows(request.GET if request.GET else None, None)
    context = {
        "step_rows": rows,
        "operator_choices": filter_rows.OPERATORS,
        "event_keys": _event_keys(project, [subject for subject, _ in rows]),
        "subjects": forms.subject_choices(project=project, selected=[s for s, _ in rows]),
        "units": list(UNITS),
        "within_value": request.GET.get("within_value", "14"),
        "within_unit": request.GET.get("within_unit", "days"),
        "breakdown_choices": [(b, BREAKDOWN_LABELS[b]) for b in BREAKDOWN_TYPES],
        "breakdown": request.GET.get("breakdown", ""),
        "breakdown_property": request.GET.get("breakdown_property", ""),
        "breakdown_segments": {int(v) for v in request.GET.getlist("breakdown_segments") if v.isdecimal()},
        "max_steps": MAX_STEPS,
    }
    return analysis_page(request, project, kind="funnel", context=context)


@project_view
@require_GET
def retention(request: HttpRequest, project: Project) -> HttpResponse:
    context = {
        "subjects": forms.subject_choices(project=project, selected=[request.GET.get("event", "")]),
        "event": request.GET.get("event", ""),
        "event_where": request.GET.get("event_where", ""),
        "periods_choices": list(PERIODS),
        "period": request.GET.get("period", "week"),
        "periods": request.GET.get("periods", "8"),
        "max_periods": MAX_PERIODS,
    }
    return analysis_page(request, project, kind="retention", context=context, default_last_days="90")


@project_view
@require_GET
def paths(request: HttpRequest, project: Project) -> HttpResponse:
    context = {
        "subjects": forms.subject_choices(project=project, selected=[request.GET.get("start_event", "")]),
        "start_path": request.GET.get("start_path", ""),
        "start_event": request.GET.get("start_event", ""),
        "start_event_where": request.GET.get("start_event_where", ""),
        "directions": DIRECTIONS,
        "direction": request.GET.get("direction", "next"),
        "step_kinds": STEP_KINDS,
        "steps": request.GET.get("steps", "pageviews"),
    }
    return analysis_page(request, project, kind="paths", context=context)


@project_view
@require_GET
def funnel_dropped(request: HttpRequest, project: Project) -> HttpResponse:
    """Persons who reached a funnel step and went no further, with a link to watch their sessions."""
    params, form_errors = forms.funnel_params_from_query(request.GET)
    params.update(TrafficFilter.from_request(request.GET).to_json())  # the same people as the funnel counted
    context: dict = {"errors": [], "page": None, "query": None}
    try:
        query: FunnelQuery = analysis_params(project=project, kind="funnel", params=params)
        if form_errors:
            raise ParamError(form_errors)
        step = _int(request.GET.get("dropped_step"), "dropped_step")
        if not 1 <= step < len(query.steps):
            raise ParamError({"dropped_step": [f"must be between 1 and {len(query.steps) - 1}"]})
        number = max(_int(request.GET.get("page", "1"), "page"), 1)
        value = request.GET.get("dropped_value")
    except ParamError as error:
        context["errors"] = labelled(merged(form_errors, error.errors))
        return render_page(request, "analysis/dropped.html", context, project=project, fragment="persons")
    answer = dropped_request(
        project=project,
        query=query,
        step=step,
        value=value,
        limit=DROPPED_PAGE,
        offset=(number - 1) * DROPPED_PAGE,
        page_query=request.GET.urlencode(),
        user=request.user,
        wait=settings.ANALYSIS_PAGE_WAIT_SECONDS,
        watch=True,
    )
    if answer.waiting:
        context.update(answer.panel())
    else:
        shown = {
            "offset": (number - 1) * DROPPED_PAGE,
            "limit": DROPPED_PAGE,
            "page_query": request.GET.urlencode(),
        }
        context.update(dropped_context(shown, answer.result()))
    context.update(
        query=query,
        step=step,
        step_label=query.steps[step - 1].label,
        next_label=query.steps[step].label,
        value=value,
        funnel_query=forms.querystring("funnel", query.to_json()),
    )
    return render_page(request, "analysis/dropped.html", context, project=project, fragment="persons")


def _int(raw: str | None, field: str) -> int:
    try:
        return int(raw or "")
    except ValueError:
        raise ParamError({field: ["must be a whole number"]}) from None
