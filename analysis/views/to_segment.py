"""Save a part of an analysis (a funnel step, a comparison group, a retention cell, a paths node) as a segment."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from analysis import forms, services
from analysis.kinds import KINDS
from analysis.reads import AnalysisTimeout
from analysis.segment_jobs import saved_segment, segment_save_request
from analysis.segment_sources import OTHER
from analysis.views.common import labelled, merged
from tracking.decorators import project_view
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter
from web.rendering import render_page


class SegmentNameForm(django_forms.Form):
    name = django_forms.CharField(
        max_length=200, help_text="What the segments list and the segment page call it."
    )


def part_from_query(kind: str, data: QueryDict) -> dict[str, Any]:
    """The part named by a page link's `part_*` fields, as the JSON the service takes."""
    if kind == "funnel":
        return {
            "step": data.get("part_step"),
            "outcome": data.get("part_outcome", "dropped"),
            "value": data.get("part_value") if "part_value" in data else None,
        }
    if kind == "compare":
        return {"group": data.get("part_group")}
    if kind == "retention":
        return {
            "cohort": data.get("part_cohort"),
            "group": data.get("part_group"),
            "period": data.get("part_period"),
        }
    path: list = list(data.getlist("part_path"))
    last = data.get("part_last", "")
    if last == "ended":
        path.append(None)
    elif last == "other":
        path.append(OTHER)
    return {"group": data.get("part_group"), "path": path}


def _source(project: Project, data: QueryDict) -> tuple[str, dict, dict, dict[str, list[str]]]:
    kind = data.get("source", "")
    if kind not in KINDS:
        raise ValidationError({"source": [f"must be one of {', '.join(KINDS)}"]})
    params, form_errors = forms.PARAMS_FROM_QUERY[kind](data)
    params.update(TrafficFilter.from_request(data).to_json())
    return kind, params, part_from_query(kind, data), form_errors


@project_view
@require_http_methods(["GET", "POST"])
def analysis_segment_new(request: HttpRequest, project: Project) -> HttpResponse:
    """What the part is, whether it stays live or is kept as a fixed list and why; a name; saving redirects."""
    context: dict[str, Any] = {"errors": [], "source": None}
    form = SegmentNameForm(request.POST or None)
    try:
        kind, params, part, form_errors = _source(project, request.GET)
        query, source = services.analysis_segment_source(project=project, kind=kind, params=params, part=part)
        if form_errors:
            raise ValidationError(form_errors)
    except ValidationError as error:
        context["errors"] = labelled(merged(error.message_dict))
        return render_page(
            request, "analysis/segment_new.html", {**context, "form": form}, project=project, status=400
        )
    except AnalysisTimeout as error:  # finding a paths node computes the tree
        context["errors"] = [("Analysis", str(error))]
        return render_page(
            request, "analysis/segment_new.html", {**context, "form": form}, project=project, status=503
        )
    if not request.POST:
        form = SegmentNameForm(initial={"name": source.default_name})
    context.update(
        source=source,
        back=services.origin_link(project=project, kind=kind, query=query),
        kind_label=KINDS[kind].label,
    )
    if request.method == "POST" and form.is_valid():
        try:
            if source.dynamic:
                segment = services.analysis_segment_create(
                    project=project, kind=kind, params=params, part=part, name=form.cleaned_data["name"],
                    created_by=request.user,
                )  # fmt: skip
            else:
                answer = segment_save_request(
                    project=project, kind=kind, params=query.to_json(), part=source.part,
                    name=form.cleaned_data["name"], user=request.user, wait=settings.ANALYSIS_PAGE_WAIT_SECONDS,
                )  # fmt: skip
                if answer.waiting:
                    # a large part: the page shows the job's progress, then a link to the segment
                    context.update(answer.panel())
                    return render_page(
                        request, "analysis/segment_new.html", {**context, "form": form}, project=project
                    )
                segment = saved_segment(project=project, answer=answer)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(
                        "name" if field == "name" else None, f"{forms.field_label(field)}: {problem}"
                    )
        except AnalysisTimeout as error:
            form.add_error(None, str(error))
        else:
            if segment.is_dynamic:
                messages.success(
                    request, f"“{segment.name}” is being computed; it stays live as events arrive."
                )
            else:
                messages.success(request, f"“{segment.name}” keeps these {segment.size:,} people.")
            return redirect("segment_detail", project_id=project.pk, segment_id=segment.pk)
    return render_page(request, "analysis/segment_new.html", {**context, "form": form}, project=project)
