"""Pages whose content arrives with later parts of the product loop."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tracking.decorators import project_view
from tracking.models import Project

UPCOMING: dict[str, tuple[str, str]] = {}


def _upcoming(section: str):
    title, description = UPCOMING[section]

    @project_view
    def view(request: HttpRequest, project: Project) -> HttpResponse:
        return render(
            request,
            "tracking/upcoming.html",
            {"project": project, "title": title, "description": description, "section": section},
        )

    view.__name__ = f"{section}_upcoming"
    return view


upcoming_views = {section: _upcoming(section) for section in UPCOMING}
