"""Shared pieces of project-scoped API views."""

from __future__ import annotations

from functools import cached_property

from rest_framework.views import APIView

from tracking.models import Project
from tracking.selectors import membership_for, project_get_for_user


class ProjectScopedMixin:
    """Resolve `project_id` from the URL to a project the caller is a member of, else 404."""

    kwargs: dict

    @cached_property
    def project(self) -> Project:
        return project_get_for_user(user=self.request.user, project_id=self.kwargs["project_id"])

    @cached_property
    def can_manage(self) -> bool:
        """The caller is an owner or admin of the project's organization (as `project_view(manage=True)` asks)."""
        membership = membership_for(user=self.request.user, project=self.project)
        return membership is not None and membership.can_manage

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # authentication first: 401 for unknown keys
        self.project  # noqa: B018 - a non-member gets 404 before any input is read


class ProjectAPIView(ProjectScopedMixin, APIView):
    pass
