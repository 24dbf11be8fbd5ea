"""Sign-up, invitations and the landing redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tracking.decorators import CURRENT_PROJECT_SESSION_KEY
from tracking.forms import InvitationSignupForm, SignupForm
from tracking.models import User
from tracking.selectors import project_list
from tracking.services.accounts import account_signup, invitation_accept, invitation_find
from web.forms import apply_service_errors


def home(request: HttpRequest) -> HttpResponse:
    """Send a logged-in user to their current project, everyone else to the login page."""
    if not request.user.is_authenticated:
        return redirect("login")
    projects = project_list(user=request.user)
    current = projects.filter(pk=request.session.get(CURRENT_PROJECT_SESSION_KEY)).first() or projects.first()
    if current is None:
        return render(request, "tracking/no_project.html")
    return redirect("overview", project_id=current.pk)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = account_signup(**form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            user = User.objects.get(email=form.cleaned_data["email"])
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, "Welcome to Sightline. Install the snippet below to start collecting.")
            return redirect("project_settings", project_id=project.pk)
    return render(request, "registration/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def invitation_view(request: HttpRequest, token: str) -> HttpResponse:
    """Accept an invitation: join directly when logged in as the invitee, else create the account."""
    invitation = invitation_find(token=token)
    if invitation is None:
        return render(
            request,
            "registration/invitation_invalid.html",
            {"reason": "This invitation link is not valid."},
            status=404,
        )
    if invitation.accepted_at is not None:
        return render(
            request,
            "registration/invitation_invalid.html",
            {"reason": "This invitation has already been used."},
            status=410,
        )
    if invitation.is_expired:
        return render(
            request,
            "registration/invitation_invalid.html",
            {"reason": "This invitation has expired. Ask the person who invited you to send a new one."},
            status=410,
        )

    existing = User.objects.filter(email__iexact=invitation.email).first()
    form = InvitationSignupForm(request.POST or None) if existing is None else None
    if request.method == "POST":
        user = request.user if request.user.is_authenticated else None
        if user is None and existing is None and form.is_valid():
            user = User.objects.create_user(
                email=invitation.email, password=form.cleaned_data["password"], name=form.cleaned_data["name"]
            )
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if user is not None:
            try:
                invitation_accept(invitation=invitation, user=user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, f"You joined {invitation.organization}.")
                return redirect("home")
    return render(
        request,
        "registration/invitation.html",
        {"invitation": invitation, "form": form, "existing": existing},
    )
