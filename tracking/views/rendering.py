"""Rendering shared by the data pages: the project's time zone, and htmx fragments."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from tracking.models import Project
from tracking.selectors.overview import project_zone


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request that will swap part of a page.

    A history restore (the user went back to a page htmx had pushed) needs the
    whole page, although htmx sends it with HX-Request too.
    """
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    project: Project,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render `template`, or its `fragment` partial for htmx, with times in the project's zone."""
    name = f"{template}#{fragment}" if fragment and wants_fragment(request) else template
    with timezone.override(project_zone(project)):
        response = render(request, name, {"project": project, **context}, status=status)
    # The same URL answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
