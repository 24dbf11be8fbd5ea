"""Nudges: the list tab, the form with its live preview, status changes and deletion.

The form posts with `op`: `save`, `save_live` (create and go live) or `preview`
(re-render the preview from what is typed, saving nothing). With htmx the preview
swaps itself as the person types; without JavaScript “Update preview” posts the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import forms, services
from interventions.models import Nudge
from interventions.views.common import (
    delete_confirm_page,
    end_confirm_page,
    end_needs_confirming,
    form_context,
    get_object,
    render_list,
    status_change,
)
from tracking.decorators import project_view
from tracking.models import Project
from web.confirm import confirmed
from web.rendering import htmx_target, render_page

TEMPLATE = "interventions/nudge_form.html"
STATUS_DONE = {
    "live": "is live: eligible people see it on their next page.",
    "paused": "is paused: nobody sees it until you resume it.",
    "ended": "has ended. Its results stay available.",
}


@project_view
@require_GET
def nudge_list(request: HttpRequest, project: Project) -> HttpResponse:
    return render_list(request, project, "nudge")


@project_view
@require_http_methods(["GET", "POST"])
def nudge_new(request: HttpRequest, project: Project) -> HttpResponse:
    return _form_page(request, project, None)


@project_view
@require_http_methods(["GET", "POST"])
def nudge_edit(request: HttpRequest, project: Project, nudge_id: int) -> HttpResponse:
    return _form_page(request, project, get_object(Nudge, project, nudge_id))


def _form_page(request: HttpRequest, project: Project, nudge: Nudge | None) -> HttpResponse:
    if request.method == "GET":
        initial = forms.nudge_initial(nudge) if nudge else {}
        form = forms.NudgeForm(project=project, initial=initial)
        return _render(request, project, nudge, form, forms.nudge_preview(initial))
    op = request.POST.get("op", "save")
    form = forms.NudgeForm(request.POST, project=project)
    preview = forms.nudge_preview(request.POST)
    if op == "preview":
        if htmx_target(request) == "nudge-preview":
            return render_page(request, TEMPLATE, {"preview": preview}, project=project, fragment="preview")
        return _render(request, project, nudge, form, preview)
    with timezone.override(project.zone):
        valid = form.is_valid()
    if valid:
        data = form.data_for_service()
        if op == "save_live":
            data["status"] = "live"
        try:
            saved = services.nudge_save(project=project, data=data, nudge=nudge, user=request.user)
        except ValidationError as error:
            forms.apply_intervention_errors(form, error)
            if nudge is not None:
                nudge.refresh_from_db()
        else:
            live = " It is live." if saved.status == "live" else ""
            messages.success(request, f"Saved the nudge “{saved.name}”.{live}")
            return redirect("nudge_edit", project_id=project.pk, nudge_id=saved.pk)
    return _render(request, project, nudge, form, preview)


def _render(
    request: HttpRequest,
    project: Project,
    nudge: Nudge | None,
    form: forms.NudgeForm,
    preview: forms.NudgePreview,
) -> HttpResponse:
    context = {"nudge": nudge, "form": form, "preview": preview, **form_context(project)}
    return render_page(request, TEMPLATE, context, project=project)


@project_view
@require_POST
def nudge_status(request: HttpRequest, project: Project, nudge_id: int) -> HttpResponse:
    """Go live, pause or end."""
    nudge = get_object(Nudge, project, nudge_id)
    if end_needs_confirming(request, nudge):
        return end_confirm_page(
            request,
            project=project,
            obj=nudge,
            kind="nudge",
            cancel_url=reverse("nudge_edit", args=[project.pk, nudge.pk]),
        )
    status_change(
        request,
        obj=nudge,
        save=lambda data: services.nudge_save(project=project, data=data, nudge=nudge),
        done=STATUS_DONE,
    )
    return redirect("nudge_edit", project_id=project.pk, nudge_id=nudge.pk)


@project_view
@require_POST
def nudge_delete(request: HttpRequest, project: Project, nudge_id: int) -> HttpResponse:
    nudge = get_object(Nudge, project, nudge_id)
    if not confirmed(request):
        return delete_confirm_page(
            request,
            project=project,
            what=f"the nudge “{nudge.name}”",
            consequences=["Nobody sees it any more, and its exposures and results are deleted with it."],
            cancel_url=reverse("nudge_edit", args=[project.pk, nudge.pk]),
        )
    services.intervention_delete(obj=nudge)
    messages.success(request, f"Deleted the nudge “{nudge.name}”.")
    return redirect("interventions", project_id=project.pk)
