"""Project settings, members and invitations, personal API keys, projects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from tracking.decorators import CURRENT_PROJECT_SESSION_KEY, project_view
from tracking.forms import ApiKeyForm, InvitationForm, ProjectCreateForm, ProjectSettingsForm
from tracking.models import Invitation, Project
from tracking.selectors import project_list
from tracking.services.accounts import (
    api_key_create,
    api_key_revoke,
    invitation_create,
    project_create,
    project_update,
)
from tracking.site import public_base_url
from web.confirm import confirm_page, confirmed
from web.forms import apply_service_errors


def snippet_for(request: HttpRequest, project: Project) -> str:
    host = public_base_url(request)
    return f'<script src="{host}/static/sightline.js" data-key="{project.public_key}" defer></script>'


@project_view
@require_http_methods(["GET", "POST"])
def project_settings(request: HttpRequest, project: Project) -> HttpResponse:
    can_manage = request.membership.can_manage
    form = ProjectSettingsForm(request.POST or None, instance=project)
    if request.method == "POST":
        if not can_manage:
            messages.error(request, "Only owners and admins can change project settings.")
            return redirect("project_settings", project_id=project.pk)
        if form.is_valid():
            try:
                project_update(
                    project=project, **{name: form.cleaned_data[name] for name in form.changed_data}
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "Project settings saved.")
                return redirect("project_settings", project_id=project.pk)
    return render(
        request,
        "tracking/settings/project.html",
        {
            "project": project,
            "form": form,
            "snippet": snippet_for(request, project),
            "can_manage": can_manage,
        },
    )


@project_view
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, project: Project) -> HttpResponse:
    organization = project.organization
    form = InvitationForm(request.POST or None)
    invite_url = None
    if request.method == "POST":
        if not request.membership.can_manage:
            messages.error(request, "Only owners and admins can invite teammates.")
            return redirect("members", project_id=project.pk)
        if form.is_valid():
            try:
                sent = invitation_create(
                    organization=organization,
                    invited_by=request.user,
                    base_url=public_base_url(request),
                    **form.cleaned_data,
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                invite_url = sent.url
                messages.success(request, f"Invitation sent to {sent.invitation.email}.")
                form = InvitationForm()
    return render(
        request,
        "tracking/settings/members.html",
        {
            "project": project,
            "form": form,
            "invite_url": invite_url,
            "memberships": organization.memberships.select_related("user").order_by("user__email"),
            "invitations": organization.invitations.pending().order_by("-created_at"),
            "can_manage": request.membership.can_manage,
        },
    )


@project_view(manage=True)
@require_POST
def invitation_revoke(request: HttpRequest, project: Project, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id, organization=project.organization)
    invitation.delete()
    messages.success(request, f"Invitation for {invitation.email} withdrawn.")
    return redirect("members", project_id=project.pk)


@project_view
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest, project: Project) -> HttpResponse:
    form = ApiKeyForm(request.POST or None)
    minted = None
    if request.method == "POST" and form.is_valid():
        minted = api_key_create(user=request.user, label=form.cleaned_data["label"])
        form = ApiKeyForm()
    keys = request.user.api_keys.order_by("-created_at")
    return render(
        request,
        "tracking/settings/api_keys.html",
        {"project": project, "form": form, "minted": minted, "keys": keys},
    )


@project_view
@require_POST
def api_key_revoke_view(request: HttpRequest, project: Project, key_id: int) -> HttpResponse:
    key = request.user.api_keys.filter(pk=key_id).first()
    if key is None:
        raise Http404("No such key")
    if not confirmed(request):
        return confirm_page(
            request,
            project=project,
            title=f"Revoke the key “{key.label}”?",
            consequences=[
                f"Every request that uses {key.prefix}… gets 401 from now on; scripts and integrations "
                "holding it stop working. A revoked key cannot be brought back: you would create a new one."
            ],
            button="Revoke key",
            cancel_url=reverse("api_keys", args=[project.pk]),
        )
    api_key_revoke(key=key)
    messages.success(request, f"Key “{key.label}” revoked. Requests using it now get 401.")
    return redirect("api_keys", project_id=project.pk)


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    organizations = [
        m.organization for m in request.user.memberships.select_related("organization") if m.can_manage
    ]
    form = ProjectCreateForm(request.POST or None)
    if not organizations:
        messages.error(request, "Only organization owners and admins can create projects.")
        return redirect("home")
    if request.method == "POST" and form.is_valid():
        organization = organizations[0]
        chosen = request.POST.get("organization")
        if chosen:
            organization = next((o for o in organizations if str(o.pk) == chosen), None)
            if organization is None:
                raise Http404("No such organization")
        project = project_create(organization=organization, name=form.cleaned_data["name"])
        messages.success(
            request, f"Project “{project.name}” created. Install its snippet to start collecting."
        )
        return redirect("project_settings", project_id=project.pk)
    # The page keeps the app's sidebar around the project one came from.
    projects = project_list(user=request.user)
    request.project = (
        projects.filter(pk=request.session.get(CURRENT_PROJECT_SESSION_KEY)).first() or projects.first()
    )
    return render(
        request, "tracking/settings/project_new.html", {"form": form, "organizations": organizations}
    )
