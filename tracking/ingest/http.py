"""HTTP plumbing shared by the public `/i/v1/` endpoints: CORS, errors, keys, client facts."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

import orjson
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from tracking.ingest.body import BodyError
from tracking.models import Project

_PROJECT_CACHE_SECONDS = 30.0
_projects: dict[str, tuple[float, Project | None]] = {}


def json_response(data: object, status: int = 200, headers: dict | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(data), status=status, content_type="application/json")
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def error_response(status: int, error: str, detail: object = "", headers: dict | None = None) -> HttpResponse:
    return json_response({"error": error, "detail": detail}, status=status, headers=headers)


def _cors(response: HttpResponse) -> HttpResponse:
    # Called from customers' sites: open to every origin, never with credentials.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type, Content-Encoding, Authorization"
    response["Access-Control-Expose-Headers"] = "Retry-After"  # so a snippet on another origin can honour it
    response["Access-Control-Max-Age"] = "86400"
    response["Cache-Control"] = "no-store"
    return response


def ingest_endpoint(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """CSRF-exempt, CORS-open, POST-only; BodyError -> its status, queue full -> 429, database down -> 503."""
    from tracking.ingest.queue import QueueFull

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204))
        if request.method != "POST":
            return _cors(error_response(405, "method not allowed", "Use POST.", {"Allow": "POST, OPTIONS"}))
        try:
            response = view(request)
        except BodyError as error:
            response = error_response(error.status, error.error, error.detail)
        except QueueFull as error:
            # Backpressure: nothing was appended; the snippet retries after Retry-After.
            response = error_response(
                429, "busy", f"Ingestion is behind ({error.reason}).", {"Retry-After": str(error.retry_after)}
            )
        except (OperationalError, InterfaceError) as error:
            # The database is unreachable: nothing was stored, the client retries.
            response = error_response(
                503, "temporarily unavailable", type(error).__name__, {"Retry-After": "5"}
            )
        return _cors(response)

    return wrapper


def project_for_key(api_key: object) -> Project | None:
    """Resolve a public key, cached briefly in-process: every batch needs it."""
    if not isinstance(api_key, str) or not api_key.startswith("pk_") or len(api_key) > 64:
        return None
    now = time.monotonic()
    cached = _projects.get(api_key)
    if cached and now - cached[0] < _PROJECT_CACHE_SECONDS:
        return cached[1]
    project = Project.objects.filter(public_key=api_key).first()
    if len(_projects) > 10000:
        _projects.clear()
    _projects[api_key] = (now, project)
    return project


def forget_project_cache() -> None:
    _projects.clear()


def client_ip(request: HttpRequest) -> str | None:
    if settings.SECURE_PROXY_SSL_HEADER:  # behind a trusted proxy: it appends the client address
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def origin_host(request: HttpRequest) -> str:
    origin = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return (urlsplit(origin).hostname or "")[:255]


def origin_allowed(project: Project, request: HttpRequest) -> bool:
    allowed = project.allowed_origin_list
    if not allowed:
        return True
    origin = (request.headers.get("Origin") or "").rstrip("/")
    return origin in allowed
