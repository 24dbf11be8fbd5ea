"""Reads for analysis: metrics, saved analyses, and segment members as SQL for the computations."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from analysis.models import Metric, SavedAnalysis
from segments.models import Segment
from segments.selectors import member_people_sql
from tracking.models import Project


def metric_list(*, project: Project) -> QuerySet[Metric]:
    return Metric.objects.filter(project=project).order_by("name", "pk")


def metric_get(*, project: Project, metric_id: int) -> Metric:
    """The metric if it belongs to the project; 404 otherwise."""
    metric = Metric.objects.filter(project=project, pk=metric_id).first()
    if metric is None:
        raise Http404("No such metric")
    return metric


def saved_analysis_list(*, project: Project) -> QuerySet[SavedAnalysis]:
    return (
        SavedAnalysis.objects.filter(project=project)
        .select_related("created_by")
        .order_by("created_at", "pk")
    )


def saved_analysis_get(*, project: Project, saved_id: int) -> SavedAnalysis:
    saved = SavedAnalysis.objects.filter(project=project, pk=saved_id).first()
    if saved is None:
        raise Http404("No such saved analysis")
    return saved


def members_sql(segment: Segment) -> tuple[str, list]:
    """`SELECT person_id` of the segment's current members (open periods: exited_at IS NULL);
    a company segment stands for the people of its companies.

    Built from segments' own selector, so analyses count members exactly as the
    segment pages do (segments.selectors.member_people_sql).
    """
    return member_people_sql(segment=segment)


def tagged_members_sql(segments: list[Segment]) -> tuple[str, list]:
    """`SELECT segment_id, person_id` of the current members of several segments (a person may repeat)."""
    parts, params = [], []
    for segment in segments:
        sql, more = members_sql(segment)
        parts.append(f"SELECT %s::bigint AS segment_id, m.person_id FROM ({sql}) m")  # noqa: S608 - constant SQL, values as %s parameters
        params += [segment.pk, *more]
    if not parts:
        return "SELECT NULL::bigint AS segment_id, NULL::bigint AS person_id WHERE false", []
    return " UNION ALL ".join(parts), params
