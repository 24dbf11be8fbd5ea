"""A storage the product reads from is away: an error banner (or a JSON 503), never a 500 page.

Apps raise `StorageUnavailable` (the event store's ClickHouse client does)
when a store that is not the main database cannot answer. Whatever was
acknowledged is safe in the ingest queue meanwhile; pages say so and ask to
retry shortly.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 30
MESSAGE = (
    "The event store is not answering right now, so this page cannot show its figures."
    " Nothing sent to Sightline is lost: new events wait in the ingest queue and are stored when it is back."
)


class StorageUnavailable(RuntimeError):
    """A data store other than the main database did not answer."""


class StorageOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, StorageUnavailable):
            return None
        if request.path.startswith(("/api/", "/i/", "/health/")) or (
            request.accepts("application/json") and not (request.accepts("text/html"))
        ):
            response: HttpResponse = JsonResponse({"detail": MESSAGE}, status=503)
        elif request.headers.get("HX-Request"):
            # htmx swaps only 2xx answers by default: the fragment's target shows the banner
            response = HttpResponse(
                render_to_string("components/outage.html", {"message": MESSAGE}), status=200
            )
        else:
            response = HttpResponse(
                render_to_string("outage.html", {"message": MESSAGE}, request=request), status=503
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
