from __future__ import annotations

from django.http import HttpRequest

from tracking.selectors import project_list


def navigation(request: HttpRequest) -> dict:
    """The current project (set by @project_view) and the user's projects for the switcher."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}

    return {
        "current_project": getattr(request, "project", None),
        "user_projects": project_list(user=user),
        "nav_section": nav_section(request.path),
    }


# Pages that live under another section's menu entry.
_SECTION_OF = {"companies": "persons", "members": "settings"}


def nav_section(path: str) -> str:
    """`/p/3/companies/7/` -> "persons": the sidebar entry a page belongs to."""
    parts = [p for p in path.split("/") if p]
    if len(parts) < 3 or parts[0] != "p":
        return ""
    return _SECTION_OF.get(parts[2], parts[2])
