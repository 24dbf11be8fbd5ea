"""Requests carrying text PostgreSQL cannot store are refused before a view sees them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from web.text import form_is_storable

MESSAGE = "The request contains a NUL character, which no field can hold."

# Ingest validates each event on its own (a bad one goes to the dead letters, the rest
# of its batch is kept) and reads nothing from the query string a NUL could break.
INGEST_PREFIX = "/i/"
# The API's parsers check the bodies they parse.
API_PREFIX = "/api/"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulMiddleware:
    """400 for a NUL in the query string of a page or an API call, or in a form posted to the web app.

    Django decodes query strings and form fields with replacement characters, so a
    lone surrogate cannot arrive this way; a NUL can, and would otherwise reach a
    query as a parameter PostgreSQL refuses (a 500).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(INGEST_PREFIX):
            return self.get_response(request)
        if not form_is_storable(request.GET) or self._form_has_nul(request):
            if request.path.startswith(API_PREFIX):
                return JsonResponse({"detail": MESSAGE}, status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _form_has_nul(request: HttpRequest) -> bool:
        if request.method != "POST" or request.path.startswith(API_PREFIX):
            return False
        if not request.content_type or request.content_type not in FORM_TYPES:
            return False
        return not form_is_storable(request.POST)
