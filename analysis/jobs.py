"""The four analyses as background jobs: what identifies a result, how one is computed and shown.

The key of a result is the checked query with everything it depends on
resolved: the days of a rolling range, and a comparison's metric definition
(a metric edited later must not serve the old answer). Events, memberships and
action definitions move the project's data version instead.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.utils import timezone

from analysis.funnels import funnel_dropped_persons
from analysis.kinds import KINDS, analysis_params, analysis_run
from analysis.params import ParamError
from analysis.reads import AnalysisTimeout
from jobs.kinds import JobKind, register
from jobs.services import Answer, job_request
from tracking.models import Project, User


def key_material(kind: str, query: Any) -> dict:
    material: dict = {
        "query": query.to_json(),
        "days": [str(query.range.date_from), str(query.range.date_to)],
    }
    if kind == "compare":
        material["metric"] = {"kind": query.metric.kind, "definition": query.metric.definition}
    return material


def analysis_request(
    *,
    project: Project,
    kind: str,
    query: Any,
    user: User | None = None,
    wait: float = 0.0,
    watch: bool = False,
    refresh: bool = False,
    stale: str = "recompute",
) -> Answer:
    """The result of a checked analysis query: cached, or from the job computing it (see `job_request`)."""
    return job_request(
        project=project,
        kind=kind,
        params=query.to_json(),
        key_material=key_material(kind, query),
        user=user,
        wait=wait,
        watch=watch,
        refresh=refresh,
        stale=stale,
    )


def _run(kind: str):
    def run(project: Project, params: dict) -> Any:
        return analysis_run(project=project, kind=kind, params=params)

    return run


def _render(kind: str):
    def render(request: HttpRequest, project: Project, params: dict, result: Any, view: str) -> str:
        context = {
            "project": project,
            "result": result,
            "kind": kind,
            "saved_params": json.dumps(params),
            "request": request,
            "compact": view == "card",
        }
        template = KINDS[kind].template
        with timezone.override(project.zone):
            html = render_to_string(f"{template}#result", context, request=request)
            if view == "page":
                html += render_to_string("analysis/dashboard.html#save_form", context, request=request)
        return html

    return render


DROPPED = "funnel_dropped"


def dropped_request(
    *,
    project: Project,
    query: Any,
    step: int,
    value: str | None,
    limit: int,
    offset: int,
    page_query: str,
    user: User | None = None,
    wait: float = 0.0,
    watch: bool = False,
) -> Answer:
    """One page of the persons who reached a funnel step and went no further: kept, or from its job.

    `page_query` is the page's own query string, for its pager links.
    """
    asked = {"step": step, "value": value, "limit": limit, "offset": offset}
    return job_request(
        project=project,
        kind=DROPPED,
        params={"funnel": query.to_json(), **asked, "page_query": page_query},
        key_material={**key_material("funnel", query), **asked},
        user=user,
        wait=wait,
        watch=watch,
    )


def dropped_context(params: dict, page: Any) -> dict:
    """What the persons list needs besides the page: its number, whether another follows, the pager's base."""
    number = params["offset"] // params["limit"] + 1
    return {
        "page": page,
        "number": number,
        "has_next": number * params["limit"] < page.total,
        "person_ids": ",".join(str(p.pk) for p, _ in page.persons),
        "page_query": QueryDict(params["page_query"]),
    }


def _run_dropped(project: Project, params: dict) -> Any:
    query = analysis_params(project=project, kind="funnel", params=params["funnel"])
    return funnel_dropped_persons(
        project=project,
        query=query,
        step=params["step"],
        value=params["value"],
        limit=params["limit"],
        offset=params["offset"],
    )


def _render_dropped(request: HttpRequest, project: Project, params: dict, page: Any, view: str) -> str:
    context = {"project": project, **dropped_context(params, page)}
    with timezone.override(project.zone):
        return render_to_string("analysis/dropped.html#persons_body", context, request=request)


def register_kinds() -> None:
    register(
        JobKind(
            name=DROPPED,
            label="Who dropped",
            run=_run_dropped,
            to_json=lambda page: {
                "total": page.total,
                "persons": [{"id": p.pk, "entered_at": at.isoformat()} for p, at in page.persons],
            },
            reported=(ParamError, AnalysisTimeout),
            render=_render_dropped,
        )
    )
    for name, kind in KINDS.items():
        register(
            JobKind(
                name=name,
                label=kind.label,
                run=_run(name),
                to_json=lambda result: result.to_json(),
                reported=(ParamError, AnalysisTimeout),
                render=_render(name),
            )
        )


def page_wait() -> float:
    return settings.ANALYSIS_PAGE_WAIT_SECONDS


__all__ = ["analysis_params", "analysis_request", "register_kinds"]
