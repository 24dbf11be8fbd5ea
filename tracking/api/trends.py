"""Trends over REST: `GET /api/v1/projects/{id}/trends/?event=…|action=…`."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tracking.api.base import ProjectAPIView
from tracking.forms.actions import TrendForm
from tracking.selectors.trends import TrendResult, trend_compute

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
]


def trend_payload(result: TrendResult) -> dict:
    query = result.query
    return {
        "event": query.event,
        "action": query.action.pk if query.action else None,
        "date_from": query.date_from.isoformat(),
        "date_to": query.date_to.isoformat(),
        "interval": query.interval,
        "breakdown": str(query.breakdown) if query.breakdown else None,
        "filters": list(query.filters),
        **query.traffic.to_json(),
        "labels": result.labels,
        "total": result.total,
        "total_persons": result.total_persons,
        "counts": result.counts,
        "persons": result.persons,
        "series": [
            {
                "breakdown_value": series.breakdown_value,
                "other": series.other,
                "label": series.label,
                "counts": series.counts,
                "persons": series.persons,
                "total": series.total,
                "total_persons": series.total_persons,
            }
            for series in result.series
        ],
    }


class TrendsApi(ProjectAPIView):
    """Counts and unique persons per hour, day or week; per top-10 breakdown value plus "other"."""

    @extend_schema(parameters=_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, project_id: int) -> Response:
        form = TrendForm(request.query_params, project=self.project)
        if not form.is_valid():
            raise ValidationError(form.error_dict())
        return Response(trend_payload(trend_compute(project=self.project, query=form.query())))
