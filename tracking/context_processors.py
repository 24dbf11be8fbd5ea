from __future__ import annotations

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict:
    """The current project (set by @project_view) and the user's projects for the switcher."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    from tracking.selectors import project_list

    return {"current_project": getattr(request, "project", None), "user_projects": project_list(user=user)}
