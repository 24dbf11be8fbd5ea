"""Every URL pattern of the project, and how to point each one at a project's objects.

The isolation sweep walks the resolver rather than a hand-written list, so a
new URL is swept the day it is added — or the sweep fails, naming the URL
argument it does not know how to fill.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver

# Prefixes the sweep does not visit, and why. Each must still match some URL
# (a test checks), so this list cannot silently go stale.
SKIPPED_PREFIXES: dict[str, str] = {
    "admin/": "Django's admin: staff only, guarded by Django's own permissions, not scoped to a project",
    "i/v1/": "public ingestion, authenticated by the public key in the body (test_ingest_fuzz.py, tests/ingest/)",
    "health/": "operational figures for monitoring; per-project lag only for staff or the health token (tests/ingest/test_queue_health.py)",
    "demo/": "the demo site's own pages: fixed content, no project data",
    "login/": "public account page",
    "logout/": "public account page",
    "password-reset/": "public account pages (token in the URL, no project)",
    "signup/": "public account page",
    "invite/": "invitation link for someone not yet a member: a secret token, no project in the URL",
    # The PostHog- and Segment-compatible endpoints: public too, keyed by the public key
    # in the body, query or Basic header (test_ingest_fuzz.py, tests/ingest/test_compat_*.py).
    **dict.fromkeys(
        ("e/", "i/v0/", "capture", "batch", "track", "v1/", "decide", "flags", "s/", "array/"),
        "PostHog- and Segment-compatible ingestion, authenticated by the public key (test_ingest_fuzz.py)",
    ),
}

# Not in the resolver at all: WhiteNoise serves these before URL routing.
OUTSIDE_THE_RESOLVER: dict[str, str] = {"static/": "static files (CSS, JS bundles): no project data"}

# Pages that belong to the logged-in user rather than to a project: no project or
# object in the URL to swap. They are checked for leaks instead (see the sweep).
UNSCOPED: dict[str, str] = {
    "": "home: sends the user to one of their own projects",
    "projects/new/": "creates a project in one of the user's own organizations",
    "api/v1/projects/": "lists the caller's own projects",
    "api/v1/schema/": "the OpenAPI schema: public documentation, no data",
}

# URL argument -> the kind of object in the world it names (its primary key).
OBJECT_ARGUMENTS: dict[str, str] = {
    "person_id": "person",
    "company_id": "company",
    "action_id": "action",
    "segment_id": "segment",
    "model_id": "segmentation_model",
    "persona_id": "persona",
    "metric_id": "metric",
    "saved_id": "saved_analysis",
    "job_id": "job",
    "recording_id": "recording",
    "rule_id": "retention_rule",
    "nudge_id": "nudge",
    "survey_id": "survey",
    "flag_id": "flag",
    "webhook_id": "webhook",
    "delivery_id": "webhook_delivery",
    "alert_id": "alert",
    "sync_id": "segment_sync",
    "run_id": "segment_sync_run",
    "invitation_id": "invitation",
    "key_id": "api_key",
}
# URL argument -> (kind, attribute) for arguments that are not a primary key.
ATTRIBUTE_ARGUMENTS: dict[str, tuple[str, str]] = {
    "seq": ("recording_chunk", "seq"),
    "number": ("segment_version", "number"),
}
# `object_id` names an object of the collection just before it in the route.
COLLECTIONS: dict[str, str] = {
    "nudges": "nudge",
    "surveys": "survey",
    "flags": "flag",
    "webhooks": "webhook",
    "alerts": "alert",
    "syncs": "segment_sync",
}
# The value a missing object of any kind has.
MISSING = 999_999_999

_ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>")


class UnknownArgument(LookupError):
    pass


@dataclass(frozen=True)
class Route:
    route: str  # as Django joins it, e.g. "p/<int:project_id>/segments/<int:segment_id>/"
    name: str | None

    @property
    def arguments(self) -> list[str]:
        return _ARGUMENT.findall(self.route)

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    @property
    def object_arguments(self) -> list[str]:
        return [a for a in self.arguments if a != "project_id"]

    def kind_of(self, argument: str) -> str | None:
        if argument in OBJECT_ARGUMENTS:
            return OBJECT_ARGUMENTS[argument]
        if argument in ATTRIBUTE_ARGUMENTS:
            return ATTRIBUTE_ARGUMENTS[argument][0]
        if argument == "object_id":
            before = re.search(r"([\w-]+)/<(?:\w+:)?object_id>", self.route)
            return COLLECTIONS.get(before.group(1)) if before else None
        return None

    def unknown_arguments(self) -> list[str]:
        return [a for a in self.object_arguments if self.kind_of(a) is None]

    def url(self, *, project_id: int, world: Mapping[str, models.Model] | None) -> str:
        """The route with `project_id`, and each object argument taken from `world` (None: a missing object)."""
        values: dict[str, object] = {"project_id": project_id}
        unknown = self.unknown_arguments()
        if unknown:
            raise UnknownArgument(f"{self.route}: no object for {', '.join(unknown)}")
        for argument in self.object_arguments:
            if world is None:
                values[argument] = MISSING
                continue
            obj = world[self.kind_of(argument)]
            attribute = ATTRIBUTE_ARGUMENTS.get(argument, ("", "pk"))[1]
            values[argument] = getattr(obj, attribute)
        return "/" + _ARGUMENT.sub(lambda m: str(values[m.group(1)]), self.route)


def _walk(patterns: list, prefix: str = "") -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield Route(prefix + str(pattern.pattern), pattern.name)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


def skip_reason(route: Route) -> str | None:
    for prefix, reason in SKIPPED_PREFIXES.items():
        if route.route.startswith(prefix):
            return reason
    return None


def swept_routes() -> list[Route]:
    """Every route the sweep visits: not skipped, not unscoped."""
    return [r for r in all_routes() if skip_reason(r) is None and r.route not in UNSCOPED]
