"""Template helpers of the data pages: optional links, durations, element labels, JSON."""

from __future__ import annotations

import json

from django import template
from django.urls import NoReverseMatch, reverse

from tracking import elements as chain
from tracking.models import Project
from tracking.selectors.install import install_check_get

register = template.Library()


@register.simple_tag
def url_if_exists(name: str, *args: object) -> str:
    """`{% url %}` for a page that may not be part of this installation yet; "" when it is not."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.filter
def duration(seconds: int | float | None) -> str:
    """12s, 3m 04s, 2h 05m."""
    if seconds is None:
        return ""
    total = max(int(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


@register.filter
def element_label(elements_chain: str) -> str:
    """`button#buy.btn` for the clicked element of a stored chain."""
    elements = chain.decode(elements_chain) if elements_chain else []
    return chain.describe(elements[0]) if elements else ""


@register.filter
def pretty_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def percent(share: float) -> str:
    """A 0-1 share as a CSS width, never below a visible sliver."""
    return f"{max(share * 100, 1.5):.1f}%"


@register.inclusion_tag("tracking/settings/install_check.html#status")
def install_check(project: Project) -> dict:
    """The live install check, for the settings page (its view knows nothing of ingestion)."""
    return {"project": project, "check": install_check_get(project=project), "zone": project.zone}


@register.filter
def property_value(value: object) -> str:
    """A property as JSON would write it: true, null, {"a": 1}; strings and numbers as they are."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
