"""Trends over REST: `GET /api/v1/projects/{id}/trends/?event=…|action=…` (docs/actions.md).

200 with the trend when it is cached or computed within a second, else 202
with the job computing it (`?async=1`: at once unless cached), as the analysis
endpoints answer.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from analysis.trend_form import TrendForm
from analysis.trend_jobs import trends_request
from jobs.api import ASYNC_PARAMETER, answer_response, answer_wait
from tracking.api.base import ProjectAPIView

_PARAMETERS = [
    OpenApiParameter("event", str, description="Event name (or give `action`)."),
    OpenApiParameter("action", int, description="Action id (or give `event`)."),
    OpenApiParameter(
        "date_from", OpenApiTypes.DATE, description="First day, inclusive (default: 29 days ago)."
    ),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)."),
    OpenApiParameter(
        "interval", str, enum=["hour", "day", "week"], description="Bucket size (default: day)."
    ),
    OpenApiParameter(
        "breakdown",
        str,
        description="browser, os, device_type, country, path, person:<prop>, company:<prop> or event:<prop>.",
    ),
    OpenApiParameter(
        "filters",
        str,
        description='JSON list of event property filters: [{"property", "operator", "value"}].',
    ),
    OpenApiParameter("include_internal", bool, description="Count internal and test users (default: false)."),
    OpenApiParameter("include_bots", bool, description="Count bot sessions' persons (default: false)."),
    ASYNC_PARAMETER,
]


class TrendsApi(ProjectAPIView):
    """Counts and unique persons per hour, day or week; per top-10 breakdown value plus "other"."""

    @extend_schema(parameters=_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, project_id: int) -> Response:
        form = TrendForm(request.query_params, project=self.project)
        if not form.is_valid():
            raise ValidationError(form.error_dict())
        answer = trends_request(
            project=self.project,
            query=form.query(),
            user=request.user,
            wait=answer_wait(request),
        )
        return answer_response(request, answer)
