"""What the analysis pages share: reading the form, computing, rendering page or fragment."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from analysis import forms
from analysis.jobs import analysis_request
from analysis.kinds import KINDS, analysis_params
from analysis.params import ParamError, range_bounds
from analysis.selectors import metric_list
from jobs.models import JobStatus
from jobs.services import Answer
from segments.selectors import segment_list
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter, excluded_counts
from web.rendering import render_page


def merged(*error_maps: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for errors in error_maps:
        for field, messages in errors.items():
            out.setdefault(field, []).extend(messages)
    return out


def labelled(errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(field as people read it, message) pairs for the error list beside a form."""
    return [(forms.field_label(field), message) for field, messages in errors.items() for message in messages]


def base_context(project: Project, request: HttpRequest) -> dict[str, Any]:
    return {
        "segments": list(segment_list(project=project)),
        "chosen_segments": {int(v) for v in request.GET.getlist("segments") if v.isdecimal()},
        "range_choices": forms.RANGE_CHOICES,
        "last_days": request.GET.get("last_days", None),
        "date_from": request.GET.get("date_from", ""),
        "date_to": request.GET.get("date_to", ""),
    }


def analysis_page(
    request: HttpRequest,
    project: Project,
    *,
    kind: str,
    context: dict[str, Any],
    default_last_days: str = "30",
) -> HttpResponse:
    """Parse the query string into the kind's parameters, compute when asked, render page or fragment.

    A page opened without parameters shows the form only; invalid parameters
    render the form with the errors beside it (status 200, so htmx swaps it in).
    """
    params, form_errors = forms.PARAMS_FROM_QUERY[kind](request.GET)
    traffic = TrafficFilter.from_request(request.GET)
    params.update(traffic.to_json())
    context = {
        **base_context(project, request),
        **context,
        "kind": kind,
        "result": None,
        "errors": [],
        "traffic": traffic,
        "excluded": excluded_counts(project=project),
    }
    if context["last_days"] is None:
        context["last_days"] = default_last_days
    if request.GET:
        try:
            query = analysis_params(project=project, kind=kind, params=params)
        except ParamError as error:
            context["errors"] = labelled(merged(form_errors, error.errors))
        else:
            if form_errors:
                context["errors"] = labelled(form_errors)
            else:
                start, end = range_bounds(query.range, project)
                context["excluded"] = excluded_counts(project=project, start=start, end=end)
                context.update(query=query, saved_params=json.dumps(query.to_json()))
                context.update(_answer(request, project, kind, query))
    return render_page(request, KINDS[kind].template, context, project=project, fragment="body")


def _answer(request: HttpRequest, project: Project, kind: str, query) -> dict[str, Any]:
    """The result to show at once (cached, or computed within a moment), or the job to poll for it.

    A cached result computed before newer data arrived is shown with a Refresh
    link; `refresh=1` computes it again.
    """
    answer = analysis_request(
        project=project,
        kind=kind,
        query=query,
        user=request.user,
        wait=settings.ANALYSIS_PAGE_WAIT_SECONDS,
        watch=True,
        refresh=request.GET.get("refresh") == "1",
        stale="show",
    )
    if answer.waiting:
        return answer.panel()
    return {"result": answer.result(), **freshness(request, answer)}


def freshness(request: HttpRequest, answer: Answer) -> dict[str, Any]:
    """The "Computed N ago" line of a result that came from the cache (nothing for one just computed)."""
    if answer.cached is None or (answer.job is not None and answer.job.status == JobStatus.DONE):
        return {}
    return {
        "cached_at": answer.cached.computed_at,
        "stale": not answer.cached.fresh,
        "refresh_url": refresh_url(request),
    }


def refresh_url(request: HttpRequest) -> str:
    query = request.GET.copy()
    query["refresh"] = "1"
    return f"?{query.urlencode()}"


def metric_options(project: Project) -> list:
    return list(metric_list(project=project))
