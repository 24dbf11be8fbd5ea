"""Trends as a background job: what identifies a trend, how it is computed and shown.

The key of a trend is its checked query with the days of its range resolved (a
rolling "last 30 days" names its days, so the next day asks again), the
project's time zone (its days are the buckets) and, for the page, which persons
are listed beside it. Events, memberships and action definitions move the
project's data version instead.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from analysis.trend_form import TrendParamError, trend_query_from_json
from analysis.trends import TrendQuery, TrendResult, chart_labels, trend_compute, trend_persons
from jobs.kinds import JobKind, register
from jobs.services import Answer, job_request
from tracking.models import Project, User
from web.charts import PALETTE, Series, line_chart

KIND = "trends"
LABEL = "Trend"
TEMPLATE = "analysis/trends.html"


def trend_params(query: TrendQuery, *, people: bool = False, people_for: str | None = None) -> dict:
    """What the job runs with: the query, and whether (and for which breakdown value) to list persons."""
    return {**query.to_json(), "people": people, "people_for": people_for if people else None}


def trends_request(
    *,
    project: Project,
    query: TrendQuery,
    people: bool = False,
    people_for: str | None = None,
    user: User | None = None,
    wait: float = 0.0,
    watch: bool = False,
    refresh: bool = False,
    stale: str = "recompute",
) -> Answer:
    """The trend of a checked query: cached, or from the job computing it (see `job_request`)."""
    params = trend_params(query, people=people, people_for=people_for)
    return job_request(
        project=project,
        kind=KIND,
        params=params,
        key_material={
            "query": params,
            "days": [query.date_from.isoformat(), query.date_to.isoformat()],
            "zone": str(project.zone),  # buckets are the project's days: a new time zone moves them
        },
        user=user,
        wait=wait,
        watch=watch,
        refresh=refresh,
        stale=stale,
    )


def _run(project: Project, params: dict) -> TrendResult:
    query = trend_query_from_json(project=project, params=params)
    result = trend_compute(project=project, query=query)
    if params.get("people"):
        result.people_for = params.get("people_for") if query.breakdown else None
        result.people = trend_persons(project=project, query=query, breakdown_value=result.people_for)
    return result


def page_querystring(query: TrendQuery) -> str:
    """The explorer page's query string for `query` (what a link from its result keeps)."""
    params: dict[str, str] = {"date_from": query.date_from.isoformat(), "date_to": query.date_to.isoformat()}
    params.update({"action": str(query.action.pk)} if query.action else {"event": query.event or ""})
    params["interval"] = query.interval
    if query.breakdown:
        params["breakdown"] = str(query.breakdown)
    if query.filters:
        params["filters"] = json.dumps(list(query.filters), ensure_ascii=False)
    params.update({name: "on" for name, on in query.traffic.to_json().items() if on})
    return urlencode(params)


def chart(result: TrendResult) -> str:
    if result.query.breakdown is None:
        series = [Series("Events", result.counts), Series("Unique persons", result.persons)]
    else:
        series = [Series(s.label, s.counts) for s in result.series[: len(PALETTE)]]
    return line_chart(
        chart_labels(result), series, title=f"{result.query.subject} per {result.query.interval}"
    )


def result_context(result: TrendResult) -> dict:
    """What the page's `result` partial shows of a computed trend."""
    return {
        "result": result,
        "query": result.query,
        "chart": chart(result),
        "buckets": list(zip(result.labels, result.counts, result.persons, strict=True)),
        "persons": result.people or [],
        "persons_for": result.people_for,
        "page_query": page_querystring(result.query),
    }


def _render(request: HttpRequest, project: Project, params: dict, result: TrendResult, view: str) -> str:
    context = {"project": project, **result_context(result)}
    with timezone.override(project.zone):
        return render_to_string(f"{TEMPLATE}#result", context, request=request)


def register_kinds() -> None:
    register(
        JobKind(
            name=KIND,
            label=LABEL,
            run=_run,
            to_json=lambda result: result.to_json(),
            reported=(TrendParamError,),
            render=_render,
        )
    )
