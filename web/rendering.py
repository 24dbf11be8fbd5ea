"""Rendering shared by the pages: whole pages or their htmx fragments, with times in the project's zone."""

from __future__ import annotations

from typing import Protocol
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers


class Zoned(Protocol):
    """What rendering needs of a project: the time zone its pages show times in."""

    @property
    def zone(self) -> ZoneInfo: ...


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request that will swap part of a page.

    A history restore (the user went back to a page htmx had pushed) needs the
    whole page, although htmx sends it with HX-Request too.
    """
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def htmx_target(request: HttpRequest) -> str | None:
    """The id of the element an htmx request will swap, when it asks for part of a page."""
    if not wants_fragment(request):
        return None
    return request.htmx.target or None


def render_page(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    project: Zoned,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render `template`, or its `fragment` partial for htmx, with times in the project's zone."""
    name = f"{template}#{fragment}" if fragment and wants_fragment(request) else template
    with timezone.override(project.zone):
        response = render(request, name, {"project": project, **context}, status=status)
    # The same URL answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
