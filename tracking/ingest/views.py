"""`POST /i/v1/batch` — see docs/wire-protocol.md."""

from __future__ import annotations

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tracking.ingest.body import read_json
from tracking.ingest.health import queue_health_get
from tracking.ingest.http import (
    client_ip,
    error_response,
    ingest_endpoint,
    json_response,
    origin_allowed,
    origin_host,
    project_for_key,
)
from tracking.ingest.pipeline import MAX_BATCH, RequestFacts
from tracking.ingest.queue import batch_accept
from tracking.ingest.ratelimit import rate_limited


def request_facts(request: HttpRequest) -> RequestFacts:
    header = settings.GEO_COUNTRY_HEADER
    return RequestFacts(
        user_agent=request.headers.get("User-Agent", ""),
        ip=client_ip(request),
        country_header=request.headers.get(header) if header else None,
        origin_host=origin_host(request),
    )


def _opted_out(request: HttpRequest) -> bool:
    return request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"


@ingest_endpoint
def batch(request: HttpRequest) -> HttpResponse:
    payload = read_json(request)
    if not isinstance(payload, dict):
        return error_response(400, "invalid batch", "The body must be a JSON object with api_key and batch.")
    project = project_for_key(payload.get("api_key"))
    if project is None:
        return error_response(
            401, "invalid api_key", "Unknown project key; copy it from the project's settings."
        )
    events = payload.get("batch")
    if not isinstance(events, list):
        return error_response(400, "invalid batch", "batch must be a list of events.")
    if len(events) > MAX_BATCH:
        return error_response(413, "batch too large", f"Send at most {MAX_BATCH} events per batch.")
    if not origin_allowed(project, request):
        return error_response(
            403, "origin not allowed", "Add this site's origin to the project's allowed origins."
        )
    if project.respect_dnt and _opted_out(request):
        return json_response(
            {"accepted": 0, "rejected": [], "dropped": len(events), "reason": "do not track"}
        )
    if rate_limited(project_id=project.pk, limit=project.ingest_rate_limit, events=len(events)):
        return error_response(429, "rate limited", "Too many events for this project.", {"Retry-After": "1"})
    result = batch_accept(
        project=project, batch=events, sent_at=payload.get("sent_at"), facts=request_facts(request)
    )
    return json_response({"accepted": result.accepted, "rejected": result.rejected})


def _health_details_allowed(request: HttpRequest) -> bool:
    """Per-project figures name projects: staff, or monitoring holding INGEST_HEALTH_TOKEN."""
    import hmac

    from django.conf import settings

    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.INGEST_HEALTH_TOKEN
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(sent.encode(), token.encode())


@require_GET
def ingest_health(request: HttpRequest) -> HttpResponse:
    """`GET /health/ingest`: the queue's depth, oldest item, drain rate (and per-project lag)."""
    try:
        health = queue_health_get()
    except (OperationalError, InterfaceError) as error:
        return error_response(503, "database unavailable", type(error).__name__, {"Retry-After": "5"})
    response = json_response(health.as_json(with_projects=_health_details_allowed(request)))
    response["Cache-Control"] = "no-store"
    return response
