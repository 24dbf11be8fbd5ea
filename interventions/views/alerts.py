"""Segment alerts: the list tab, create, edit and delete; each shows when it last fired and by how much."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import forms, selectors, services
from interventions.models import SegmentAlert
from interventions.views.common import delete_confirm_page, get_object
from tracking.decorators import project_view
from tracking.models import Project
from web.confirm import confirmed
from web.rendering import render_page


@project_view
@require_GET
def alert_list(request: HttpRequest, project: Project) -> HttpResponse:
    return render_page(
        request,
        "interventions/alerts.html",
        {"alerts": selectors.alert_list(project=project)},
        project=project,
    )


@project_view
@require_http_methods(["GET", "POST"])
def alert_new(request: HttpRequest, project: Project) -> HttpResponse:
    return _form_page(request, project, None)


@project_view
@require_http_methods(["GET", "POST"])
def alert_edit(request: HttpRequest, project: Project, alert_id: int) -> HttpResponse:
    return _form_page(request, project, get_object(SegmentAlert, project, alert_id))


def _form_page(request: HttpRequest, project: Project, alert: SegmentAlert | None) -> HttpResponse:
    if request.method == "POST":
        form = forms.AlertForm(request.POST, project=project)
        if form.is_valid():
            try:
                saved = services.alert_save(project=project, data=form.data_for_service(), alert=alert)
            except ValidationError as error:
                forms.apply_intervention_errors(form, error)
            else:
                messages.success(request, f"Saved the alert on “{saved.segment.name}”.")
                return redirect("alerts", project_id=project.pk)
    else:
        initial = forms.alert_initial(alert) if alert else {}
        if alert is None and request.GET.get("segment", "").isdecimal():
            initial["segment"] = int(request.GET["segment"])
        form = forms.AlertForm(project=project, initial=initial)
    return render_page(
        request, "interventions/alert_form.html", {"alert": alert, "form": form}, project=project
    )


@project_view
@require_POST
def alert_delete(request: HttpRequest, project: Project, alert_id: int) -> HttpResponse:
    alert = get_object(SegmentAlert, project, alert_id)
    name = alert.segment.name
    if not confirmed(request):
        return delete_confirm_page(
            request,
            project=project,
            what=f"the alert on “{name}”",
            consequences=["Its checks stop, and nobody is told when the segment moves."],
            cancel_url=reverse("alerts", args=[project.pk]),
        )
    services.intervention_delete(obj=alert)
    messages.success(request, f"Deleted the alert on “{name}”.")
    return redirect("alerts", project_id=project.pk)
