"""Metrics: the list, a form to define one (fields follow the kind), edit and delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analysis import forms
from analysis.metrics import KIND_HELP, KINDS, metric_spec
from analysis.models import Metric, MetricKind
from analysis.params import ParamError
from analysis.selectors import metric_get, metric_list
from analysis.services import metric_create, metric_delete, metric_update
from tracking.decorators import project_view
from tracking.models import Project
from web.rendering import render_page


def _described(project: Project, metric: Metric) -> tuple[Metric, str]:
    try:
        spec = metric_spec(metric, project=project)
    except ParamError as error:
        return metric, f"no longer valid: {error}"
    return metric, f"Of {spec.population_label}: {spec.description}."


@project_view
@require_GET
def metrics(request: HttpRequest, project: Project) -> HttpResponse:
    rows = [_described(project, m) for m in metric_list(project=project)]
    return render_page(request, "analysis/metrics.html", {"rows": rows}, project=project)


def _form_page(request: HttpRequest, project: Project, metric: Metric | None) -> HttpResponse:
    if request.method == "POST":
        form = forms.MetricForm(request.POST)
        if form.is_valid():
            kind, definition, own_errors = form.definition()
            if own_errors:
                form.add_param_errors(
                    {f"definition.{k.removesuffix('_where')}.where": v for k, v in own_errors.items()}
                )
            else:
                fields = {"name": form.cleaned_data["name"], "description": form.cleaned_data["description"],
                          "kind": kind, "definition": definition}  # fmt: skip
                try:
                    if metric is None:
                        metric = metric_create(project=project, created_by=request.user, **fields)
                    else:
                        metric = metric_update(metric=metric, **fields)
                except ValidationError as error:
                    form.add_param_errors(error.message_dict)
                else:
                    messages.success(request, f"Saved the metric “{metric.name}”.")
                    return redirect("analysis_metrics", project.pk)
        kind = request.POST.get("kind", "")
    else:
        initial = forms.metric_initial(metric) if metric else {}
        kind = request.GET.get("kind") or initial.get("kind") or MetricKind.CONVERSION
        if kind not in KINDS:
            kind = MetricKind.CONVERSION
        form = forms.MetricForm(initial={**initial, "kind": kind})
    context = {
        "form": form,
        "metric": metric,
        "kind": kind,
        "kinds": [(k, MetricKind(k).label, KIND_HELP[k]) for k in KINDS],
        "kind_fields": forms.KIND_FIELDS.get(kind, ()),
        "subjects": forms.subject_choices(
            project=project,
            selected=[str(form[f].value() or "") for f in ("from_subject", "to_subject", "event_subject")],
        ),
    }
    return render_page(request, "analysis/metric_form.html", context, project=project, fragment="metric_form")


@project_view
@require_http_methods(["GET", "POST"])
def metric_new(request: HttpRequest, project: Project) -> HttpResponse:
    return _form_page(request, project, None)


@project_view
@require_http_methods(["GET", "POST"])
def metric_edit(request: HttpRequest, project: Project, metric_id: int) -> HttpResponse:
    return _form_page(request, project, metric_get(project=project, metric_id=metric_id))


@project_view
@require_POST
def metric_delete_view(request: HttpRequest, project: Project, metric_id: int) -> HttpResponse:
    metric = metric_get(project=project, metric_id=metric_id)
    try:
        metric_delete(metric=metric)
    except ValidationError as error:
        for message in error.message_dict.get("metric", []):
            messages.error(request, message)
    else:
        messages.success(request, f"Deleted the metric “{metric.name}”.")
    return redirect("analysis_metrics", project.pk)
