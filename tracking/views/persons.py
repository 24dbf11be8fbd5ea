"""Persons: the searchable list and one person's page (properties, sessions, timeline)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tracking.decorators import project_view
from tracking.filters import SearchFilter, TimelineFilter, error_summary
from tracking.models import Project
from tracking.selectors.events import EventCursor, event_list, event_rows
from tracking.selectors.persons import person_event_counts, person_get, person_list, person_sessions
from web.rendering import render_page

PERSONS_PER_PAGE = 50
TIMELINE_PAGE = 50
SESSIONS_SHOWN = 20


@project_view
@require_GET
def persons(request: HttpRequest, project: Project) -> HttpResponse:
    form = SearchFilter(request.GET)
    if not form.is_valid():
        context = {"form": form, "error": error_summary(form), "page_obj": None}
        return render_page(
            request, "tracking/persons.html", context, project=project, fragment="results", status=400
        )
    search = form.cleaned_data["q"]
    page_obj = Paginator(person_list(project=project, search=search), PERSONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    counts = person_event_counts(project=project, person_ids=[p.pk for p in page_obj])
    rows = [(person, counts.get(person.pk, 0)) for person in page_obj]
    context = {"form": form, "search": search, "page_obj": page_obj, "rows": rows}
    return render_page(request, "tracking/persons.html", context, project=project, fragment="results")


@project_view
@require_GET
def person_detail(request: HttpRequest, project: Project, person_id: int) -> HttpResponse:
    person = person_get(project=project, person_id=person_id)
    form = TimelineFilter(request.GET)
    status = 200
    before: EventCursor | None = None
    if form.is_valid():
        before = form.cleaned_data["before"]
    else:
        status = 400
    found = event_list(project=project, person_id=person.pk, cursor=before, limit=TIMELINE_PAGE + 1)
    page = found[:TIMELINE_PAGE]
    sessions = person_sessions(project=project, person=person)
    context = {
        "person": person,
        "error": error_summary(form) if status == 400 else "",
        "timeline": event_rows(project=project, events=page),
        "older": EventCursor.of(page[-1]).encode() if len(found) > TIMELINE_PAGE else None,
        "paged": before is not None,
        "sessions": sessions[:SESSIONS_SHOWN],
        "session_count": sessions.count(),
    }
    return render_page(
        request,
        "tracking/person_detail.html",
        context,
        project=project,
        fragment="timeline_rows",
        status=status,
    )
