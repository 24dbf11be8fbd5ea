from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def public_base_url(request: HttpRequest) -> str:
    """Where browsers reach this Sightline: SITE_URL when configured, else the request's own origin."""
    return settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")
