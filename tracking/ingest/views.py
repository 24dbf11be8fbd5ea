"""`POST /i/v1/batch` — see docs/wire-protocol.md."""

from __future__ import annotations

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tracking.ingest.accept import batch_accept
from tracking.ingest.body import read_json
from tracking.ingest.health import queue_health_get
from tracking.ingest.http import (
    error_response,
    ingest_endpoint,
    json_response,
    project_for_key,
)


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
    outcome = batch_accept(request=request, project=project, events=events, sent_at=payload.get("sent_at"))
    if not outcome.ok:
        return error_response(outcome.status, outcome.error, outcome.detail, outcome.headers)
    return json_response(outcome.answer())


def _health_details_allowed(request: HttpRequest) -> bool:
    """Per-project figures name projects: staff, or monitoring holding INGEST_HEALTH_TOKEN."""
    import hmac

    user = getattr(request, "user", None)  # the ingestion lane (config.settings_ingest) has no users
    if user is not None and user.is_authenticated and user.is_staff:
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
