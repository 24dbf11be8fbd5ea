"""Pages whose content arrives with later parts of the product loop."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tracking.decorators import project_view
from tracking.models import Project

UPCOMING = {
    "analysis": ("Analysis", "Compare segments on the metric you want to move; funnels, retention and paths by segment."),
    "interventions": ("Interventions", "Feature flags, nudges, surveys and webhooks targeted at segments, with holdouts."),
}


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
