"""The install check: whether the snippet's events are arriving, polled from the settings page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tracking.decorators import project_view
from tracking.models import Project
from tracking.selectors.install import install_check_get
from web.rendering import render_page


@project_view
@require_GET
def install_check(request: HttpRequest, project: Project) -> HttpResponse:
    context = {"check": install_check_get(project=project), "zone": project.zone}
    return render_page(
        request, "tracking/settings/install_check.html", context, project=project, fragment="status"
    )
