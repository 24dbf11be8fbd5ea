"""Segmentation models: the list, creating a lifecycle or a custom model, and a model's page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from segments.forms import CustomModelForm, LifecycleForm
from segments.lifecycle import custom_model_create, lifecycle_model_create
from segments.models import SegmentationModel
from segments.selectors.sizes import model_distributions, size_trends
from segments.views.common import get_model, short_name
from tracking.decorators import project_view
from tracking.models import Project
from tracking.selectors.events import event_names
from web.charts import Series, bar_chart, line_chart
from web.forms import apply_service_errors
from web.rendering import htmx_target, render_page


@project_view
@require_GET
def model_list(request: HttpRequest, project: Project) -> HttpResponse:
    models = model_distributions(
        models=SegmentationModel.objects.filter(project=project).prefetch_related("groups").order_by("name")
    )
    return render_page(request, "segments/models.html", {"models": models}, project=project)


@project_view
@require_GET
def model_detail(request: HttpRequest, project: Project, model_id: int) -> HttpResponse:
    model = get_model(project, model_id)
    distribution = model_distributions(models=[model])[0]
    busy = distribution.computing
    context: dict = {"model": model, "distribution": distribution, "busy": busy}
    if htmx_target(request) == "model-status":
        response = render_page(
            request, "segments/model_detail.html", context, project=project, fragment="status"
        )
        if not busy and request.GET.get("poll"):
            response["HX-Refresh"] = "true"
        return response
    groups = [row.segment for row in distribution.rows]
    names = [short_name(g) for g in groups]
    trends = size_trends(project=project, segments=groups, days=30)
    start = min((t.known_from for t in trends.values()), default=0)
    labels = trends[groups[0].pk].labels[start:] if groups else []
    context.update(
        names=dict(zip([g.pk for g in groups], names, strict=True)),
        distribution_chart=bar_chart(
            names, [g.counted_size for g in groups], title=f"{model.name}: people per group"
        ),
        movement_chart=line_chart(
            labels,
            [Series(name, trends[g.pk].sizes[start:]) for g, name in zip(groups, names, strict=True)],
            title=f"{model.name}: group sizes per day",
        ),
        trends=trends,
    )
    return render_page(request, "segments/model_detail.html", context, project=project)


@project_view
@require_http_methods(["GET", "POST"])
def lifecycle_new(request: HttpRequest, project: Project) -> HttpResponse:
    """New / activated / power / at risk / dormant, from the team's core action and day counts."""
    form = LifecycleForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            model = lifecycle_model_create(
                project=project,
                name=form.cleaned_data["name"],
                parameters=form.parameters(),
                created_by=request.user,
            )
        except ValidationError as error:
            core = "event_action" if form.cleaned_data["event_source"] == "action" else "event_name"
            apply_service_errors(form, error, field_for={"core_event": core}.get)
        else:
            messages.success(request, f"Model “{model.name}” created; its groups are being computed.")
            return redirect("segment_model_detail", project_id=project.pk, model_id=model.pk)
    context = {"form": form, "event_names": event_names(project=project)}
    return render_page(request, "segments/model_lifecycle_new.html", context, project=project)


@project_view
@require_http_methods(["GET", "POST"])
def custom_new(request: HttpRequest, project: Project) -> HttpResponse:
    """Ordered groups, first match wins; "Add a group" posts the form back with one more row."""
    form = CustomModelForm(request.POST or None, project=project)
    if request.method == "POST" and request.POST.get("op") == "add_group":
        # the same entries, unvalidated, with one more empty row
        form = CustomModelForm(project=project, rows=form.rows + 1, initial=request.POST.dict())
        return _render_custom(request, project, form)
    if request.method == "POST" and form.is_valid():
        groups = form.groups()
        if not form.errors:
            try:
                model = custom_model_create(
                    project=project,
                    name=form.cleaned_data["name"],
                    groups=groups,
                    remainder_name=form.cleaned_data["remainder_name"],
                    created_by=request.user,
                )
            except ValidationError as error:

                def on_row(key: str, message: str) -> bool:
                    row = form.row_of(key)
                    if row is None:
                        return False
                    form.add_error(row, message if row == key else f"{key}: {message}")
                    return True

                apply_service_errors(form, error, place=on_row)
            else:
                messages.success(request, f"Model “{model.name}” created; its groups are being computed.")
                return redirect("segment_model_detail", project_id=project.pk, model_id=model.pk)
    return _render_custom(request, project, form)


def _render_custom(request: HttpRequest, project: Project, form: CustomModelForm) -> HttpResponse:
    return render_page(request, "segments/model_custom_new.html", {"form": form}, project=project)
