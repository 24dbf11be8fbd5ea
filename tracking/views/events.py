"""The live events page: newest first, filtered by name, polled by htmx for what arrives."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tracking.decorators import project_view
from tracking.eventstore.stored import START
from tracking.filters import LiveEventsFilter, error_summary
from tracking.models import Project
from tracking.selectors.events import (
    EventCursor,
    event_exists,
    event_list,
    event_list_newer,
    event_names,
    event_rows,
)
from web.rendering import render_page, wants_fragment

PAGE = 100
TEMPLATE = "tracking/events.html"


@project_view
@require_GET
def events(request: HttpRequest, project: Project) -> HttpResponse:
    form = LiveEventsFilter(request.GET)
    if not form.is_valid():
        context = {
            "form": form,
            "error": error_summary(form),
            "names": event_names(project=project),
            "rows": [],
        }
        return render_page(request, TEMPLATE, context, project=project, fragment="feed", status=400)
    name = form.cleaned_data["event"] or None
    since = form.cleaned_data["since"]

    if since is not None and wants_fragment(request):
        # A poll: only what arrived after the newest event on the page, or nothing to swap.
        newer = event_list_newer(project=project, since=since, name=name, limit=PAGE)
        if not newer:
            return HttpResponse(status=204)
        context = {
            "rows": event_rows(project=project, events=newer),
            "name": name,
            "newest": EventCursor.of(newer[0]).encode(),
        }
        return render_page(request, TEMPLATE, context, project=project, fragment="new_rows")

    before: EventCursor | None = form.cleaned_data["before"]
    found = event_list(project=project, name=name, cursor=before, limit=PAGE + 1)
    page = found[:PAGE]
    context = {
        "form": form,
        "name": name,
        "names": event_names(project=project),
        "rows": event_rows(project=project, events=page),
        "live": before is None,
        "newest": (EventCursor.of(page[0]) if page else since or START).encode(),
        "older": EventCursor.of(page[-1]).encode() if len(found) > PAGE else None,
        "has_any": bool(page) or event_exists(project=project),
    }
    return render_page(request, TEMPLATE, context, project=project, fragment="feed")
