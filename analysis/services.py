"""Writes for analysis: metrics, saved analyses and segments made from analyses, checked before they are stored."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from analysis import forms, reads
from analysis.kinds import KINDS, analysis_params
from analysis.metrics import validate_metric
from analysis.models import Metric, SavedAnalysis
from analysis.params import ParamError
from analysis.segment_sources import Source, resolved_params, source_resolve
from segments.models import Segment
from segments.services import segment_create, segment_from_people
from tracking.dataversion import data_changed
from tracking.models import Project
from web.sql import QueryTimedOut


def _name_taken(project: Project, name: str, *, exclude: int | None = None) -> bool:
    return Metric.objects.filter(project=project, name=name).exclude(pk=exclude).exists()


def _checked_definition(*, project: Project, kind: Any, definition: Any) -> dict:
    try:
        return validate_metric(kind=kind, definition=definition, project=project).definition
    except ParamError as error:
        raise ValidationError(error.errors) from None


@transaction.atomic
def metric_create(
    *, project: Project, name: str, kind: str, definition: Any, description: str = "", created_by=None
) -> Metric:
    """Save a metric after checking its definition (errors name the field: `definition.to.name`)."""
    name = (name or "").strip()
    checked = _checked_definition(project=project, kind=kind, definition=definition)
    if _name_taken(project, name):
        raise ValidationError({"name": ["A metric with this name already exists in this project."]})
    metric = Metric(
        project=project,
        name=name,
        kind=kind,
        definition=checked,
        description=description,
        created_by=created_by,
    )
    metric.full_clean()
    metric.save()
    return metric


@transaction.atomic
def metric_update(*, metric: Metric, **fields: Any) -> Metric:
    kind = fields.get("kind", metric.kind)
    if "definition" in fields or "kind" in fields:
        fields["definition"] = _checked_definition(
            project=metric.project, kind=kind, definition=fields.get("definition", metric.definition)
        )
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if _name_taken(metric.project, fields["name"], exclude=metric.pk):
            raise ValidationError({"name": ["A metric with this name already exists in this project."]})
    for key, value in fields.items():
        setattr(metric, key, value)
    metric.full_clean()
    metric.save()
    if "definition" in fields:
        data_changed(metric.project_id)  # comparisons of this metric cached before are stale
    return metric


def metric_delete(*, metric: Metric) -> None:
    """Delete a metric no saved comparison uses (those would stop working)."""
    users = [
        saved.name
        for saved in SavedAnalysis.objects.filter(project_id=metric.project_id, kind="compare")
        if saved.params.get("metric") == metric.pk
    ]
    if users:
        raise ValidationError(
            {"metric": [f"Used by saved analyses {', '.join(sorted(users))}; delete those first."]}
        )
    metric.delete()


def _checked_params(*, project: Project, kind: Any, params: Any) -> dict:
    if kind not in KINDS:
        raise ValidationError({"kind": [f"must be one of {', '.join(KINDS)}; got {kind!r}"]})
    try:
        return analysis_params(project=project, kind=kind, params=params).to_json()
    except ParamError as error:
        raise ValidationError(error.prefixed("params").errors) from None


@transaction.atomic
def saved_analysis_create(
    *, project: Project, name: str, kind: str, params: Any, created_by=None
) -> SavedAnalysis:
    """Save an analysis with its parameters as checked (defaults filled in, dates fixed)."""
    saved = SavedAnalysis(
        project=project,
        name=(name or "").strip(),
        kind=kind,
        params=_checked_params(project=project, kind=kind, params=params),
        created_by=created_by,
    )
    saved.full_clean()
    saved.save()
    return saved


@transaction.atomic
def saved_analysis_update(*, saved: SavedAnalysis, **fields: Any) -> SavedAnalysis:
    if "kind" in fields and fields["kind"] != saved.kind and "params" not in fields:
        raise ValidationError({"params": ["A different kind needs its own parameters."]})
    if "params" in fields:
        fields["params"] = _checked_params(
            project=saved.project, kind=fields.get("kind", saved.kind), params=fields["params"]
        )
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
    for key, value in fields.items():
        setattr(saved, key, value)
    saved.full_clean()
    saved.save()
    return saved


def saved_analysis_delete(*, saved: SavedAnalysis) -> None:
    saved.delete()


# -- segments from analyses ------------------------------------------------------------------


def analysis_segment_source(*, project: Project, kind: Any, params: Any, part: Any) -> tuple[Any, Source]:
    """The checked query and the part of it to keep; ValidationError names the field (`params.steps[1]`, `part.step`)."""
    if kind not in KINDS:
        raise ValidationError({"source": [f"must be one of {', '.join(KINDS)}; got {kind!r}"]})
    try:
        query = analysis_params(project=project, kind=kind, params=params)
    except ParamError as error:
        raise ValidationError(error.prefixed("params").errors) from None
    try:
        return query, source_resolve(project=project, kind=kind, query=query, part=part)
    except ParamError as error:
        raise ValidationError(error.errors) from None


def origin_link(*, project: Project, kind: str, query: Any) -> str:
    """The analysis page showing the same days as when the segment was made."""
    return f"{reverse(KINDS[kind].page, args=[project.pk])}?{forms.querystring(kind, resolved_params(query))}"


def _origin(*, project: Project, kind: str, query: Any, source: Source, kept: str) -> dict:
    return {
        "kind": kind,
        "label": source.label,
        "link": origin_link(project=project, kind=kind, query=query),
        "params": resolved_params(query),
        "part": source.part,
        "kept": kept,
        "reason": source.reason,
    }


def analysis_segment_create(
    *, project: Project, kind: Any, params: Any, part: Any, name: str = "", created_by=None
) -> Segment:
    """A segment of exactly the people an analysis shows for one part, its origin recorded.

    Dynamic when a definition says the part exactly (analysis.segment_sources):
    saved and versioned by segments.services.segment_create, computed in the
    background. Otherwise a static copy (`analysis_segment_copy`), which the pages
    and the API run as a job (analysis.segment_jobs).
    """
    query, source = analysis_segment_source(project=project, kind=kind, params=params, part=part)
    if source.definition is None:
        return analysis_segment_copy(
            project=project, kind=kind, params=params, part=part, name=name, created_by=created_by
        )
    origin = _origin(project=project, kind=kind, query=query, source=source, kept="dynamic")
    name = (name or "").strip() or source.default_name
    return segment_create(
        project=project, name=name, definition=source.definition, created_by=created_by, origin=origin
    )


def analysis_segment_copy(
    *, project: Project, kind: Any, params: Any, part: Any, name: str = "", created_by=None
) -> Segment:
    """A static segment of the people the part shows now, whether or not a definition could say it.

    The analysis's own statement selects them and one INSERT … SELECT keeps them
    (segments.services.segment_from_people); AnalysisTimeout when it runs past
    the time limit (a job's remaining time, inside a job).
    """
    query, source = analysis_segment_source(project=project, kind=kind, params=params, part=part)
    origin = _origin(project=project, kind=kind, query=query, source=source, kept="static")
    try:
        return segment_from_people(
            project=project,
            name=(name or "").strip() or source.default_name,
            people=source.people,
            origin=origin,
            created_by=created_by,
            timeout_ms=reads.TIMEOUT_MS,
            work_mem=reads.WORK_MEM,
        )
    except QueryTimedOut as error:
        raise reads.AnalysisTimeout from error
