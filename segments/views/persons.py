"""A person's segments timeline: each segment they have been in, when they entered and left; for the person page (loaded into it with htmx) or on their own page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from segments.selectors.history import person_timeline
from tracking.decorators import project_view
from tracking.models import Project
from tracking.selectors.persons import person_get
from web.rendering import render_page

PERIODS = 500


@project_view
@require_GET
def person_segments(request: HttpRequest, project: Project, person_id: int) -> HttpResponse:
    person = person_get(project=project, person_id=person_id)
    timelines, more = person_timeline(project=project, person_id=person.pk, limit=PERIODS)
    context = {
        "person": person,
        "timelines": timelines,
        "current": [t for t in timelines if t.current],
        "more_history": more,
    }
    return render_page(request, "segments/person_segments.html", context, project=project, fragment="section")
