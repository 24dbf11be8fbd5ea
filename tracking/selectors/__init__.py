"""Reads for tenancy. Every project lookup that serves a request goes through here."""

from __future__ import annotations

from django.http import Http404

from tracking.models import Membership, Project, User


def project_list(*, user: User):
    return (
        Project.objects.for_user(user).select_related("organization").order_by("organization__name", "name")
    )


def project_get_for_user(*, user: User, project_id: int) -> Project:
    """The project if the user is a member of its organization; 404 otherwise (never 403: no leak)."""
    project = project_list(user=user).filter(pk=project_id).first()
    if project is None:
        raise Http404("No such project")
    return project


def membership_for(*, user: User, project: Project) -> Membership | None:
    return Membership.objects.filter(user=user, organization_id=project.organization_id).first()
