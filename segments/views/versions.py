"""A segment's versions: every saved definition with who saved it and what changed, and restoring one."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from segments import services
from segments.selectors.versions import versions_of
from segments.views.common import get_segment
from tracking.decorators import project_view
from tracking.models import Project
from web.rendering import render_page


@project_view
@require_GET
def segment_versions(request: HttpRequest, project: Project, segment_id: int) -> HttpResponse:
    segment = get_segment(project, segment_id)
    context = {"segment": segment, "versions": versions_of(segment) if segment.is_dynamic else []}
    return render_page(request, "segments/versions.html", context, project=project)


@project_view
@require_POST
def segment_version_restore(
    request: HttpRequest, project: Project, segment_id: int, number: int
) -> HttpResponse:
    segment = get_segment(project, segment_id)
    if not segment.is_dynamic:
        messages.error(
            request, "A static segment's members are a fixed list: it has no definition to restore."
        )
        return redirect("segment_detail", project_id=project.pk, segment_id=segment.pk)
    try:
        services.segment_version_restore(segment=segment, number=number, user=request.user)
    except ValidationError as error:
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
        return redirect("segment_versions", project_id=project.pk, segment_id=segment.pk)
    messages.success(
        request, f"Version {number} restored as the current definition. The segment is being recomputed."
    )
    return redirect("segment_detail", project_id=project.pk, segment_id=segment.pk)
