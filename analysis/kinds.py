"""The four kinds of analysis, side by side: how each is checked, computed and shown.

Saved analyses, the dashboard and the REST API go through `analysis_run`, so an
analysis means the same wherever it is opened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from analysis.compare import compare_compute, compare_params
from analysis.funnels import funnel_compute, funnel_params
from analysis.paths import paths_compute, paths_params
from analysis.retention import retention_compute, retention_params
from tracking.models import Project


@dataclass(frozen=True)
class Kind:
    label: str
    parse: Callable[..., Any]
    compute: Callable[..., Any]
    page: str  # the URL name of the kind's page
    template: str  # the page's template; its `result` partial renders a result


KINDS: dict[str, Kind] = {
    "compare": Kind(
        "Segment comparison", compare_params, compare_compute, "analysis_compare", "analysis/compare.html"
    ),
    "funnel": Kind("Funnel", funnel_params, funnel_compute, "analysis_funnels", "analysis/funnels.html"),
    "retention": Kind(
        "Retention", retention_params, retention_compute, "analysis_retention", "analysis/retention.html"
    ),
    "paths": Kind("Paths", paths_params, paths_compute, "analysis_paths", "analysis/paths.html"),
}


def analysis_params(*, project: Project, kind: str, params: Any) -> Any:
    """The checked query of an analysis kind; ParamError names each bad field."""
    return KINDS[kind].parse(params, project=project)


def analysis_run(*, project: Project, kind: str, params: Any) -> Any:
    """Check and compute an analysis; the result has `to_json()` and renders in the kind's `result` partial."""
    query = analysis_params(project=project, kind=kind, params=params)
    return KINDS[kind].compute(project=project, query=query)
