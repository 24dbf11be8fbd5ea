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
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

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


def register_kinds() -> None:
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
