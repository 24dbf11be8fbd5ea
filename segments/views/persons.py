"""A person's segments, for the person page (loaded into it with htmx) or on their own page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from segments import selectors
from tracking.decorators import project_view
from tracking.models import Project
from tracking.selectors.persons import person_get
from web.rendering import render_page

HISTORY = 50


@project_view
@require_GET
def person_segments(request: HttpRequest, project: Project, person_id: int) -> HttpResponse:
    person = person_get(project=project, person_id=person_id)
    history = list(selectors.person_segment_history(project=project, person_id=person.pk)[: HISTORY + 1])
    context = {
        "person": person,
        "current": list(selectors.person_segment_list(project=project, person_id=person.pk)),
        "history": history[:HISTORY],
        "more_history": len(history) > HISTORY,
    }
    return render_page(request, "segments/person_segments.html", context, project=project, fragment="section")
