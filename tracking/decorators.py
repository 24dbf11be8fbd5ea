"""View decorators for project-scoped pages."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from tracking.selectors import membership_for, project_get_for_user

CURRENT_PROJECT_SESSION_KEY = "current_project_id"


def project_view(view=None, *, manage: bool = False):
    """Resolve `project_id` to a project the user belongs to (404 otherwise).

    Sets `request.project` and `request.membership`, and remembers the project
    as the user's current one. With `manage=True` only owners and admins pass.
    """

    def decorate(func):
        @login_required
        @wraps(func)
        def wrapper(request, project_id: int, *args, **kwargs):
            project = project_get_for_user(user=request.user, project_id=project_id)
            membership = membership_for(user=request.user, project=project)
            if manage and not membership.can_manage:
                raise PermissionDenied("Only owners and admins can change this.")
            request.project = project
            request.membership = membership
            if request.session.get(CURRENT_PROJECT_SESSION_KEY) != project.pk:
                request.session[CURRENT_PROJECT_SESSION_KEY] = project.pk
            return func(request, project, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
