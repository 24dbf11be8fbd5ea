"""`/api/v1/projects/{project_id}/events/` — export raw events, page by page.

Pages follow a keyset cursor on `(timestamp, uuid)` rather than an offset, so a
deep page costs what the first one does and events arriving meanwhile neither
repeat nor go missing.
"""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from tracking.api.base import ProjectAPIView
from tracking.selectors.events import EventCursor, StoredEvent, event_elements, event_list
from tracking.selectors.persons import person_by_distinct_id

MAX_LIMIT = 1000


class Iso8601Field(serializers.DateTimeField):
    """An ISO 8601 date-time (a date alone means its midnight, UTC when no offset is given)."""

    def to_internal_value(self, value: object) -> datetime:
        try:
            return super().to_internal_value(value)
        except OverflowError:
            raise serializers.ValidationError("Out of range.") from None


class EventFilterSerializer(serializers.Serializer):
    event = serializers.CharField(
        required=False, max_length=200, help_text="Exact event name, e.g. $pageview."
    )
    distinct_id = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Events of the person known by this distinct id (any of their ids).",
    )
    person_id = serializers.IntegerField(required=False, min_value=1)
    after = Iso8601Field(required=False, help_text="ISO 8601; events at or after this time.")
    before = Iso8601Field(required=False, help_text="ISO 8601; events strictly before this time.")
    order = serializers.ChoiceField(
        choices=["desc", "asc"], default="desc", help_text="By timestamp, then uuid."
    )
    limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=MAX_LIMIT)
    cursor = serializers.CharField(required=False, max_length=200, help_text="The `next` link carries it.")

    def validate_cursor(self, value: str) -> EventCursor:
        try:
            return EventCursor.decode(value)
        except ValueError:
            raise serializers.ValidationError("Not a cursor from this API; follow the `next` link.") from None

    def validate(self, attrs: dict) -> dict:
        after, before = attrs.get("after"), attrs.get("before")
        if after is not None and before is not None and after >= before:
            raise serializers.ValidationError({"before": "Must be later than after."})
        return attrs


class EventSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    event = serializers.CharField(source="name")
    distinct_id = serializers.CharField()
    person_id = serializers.IntegerField()
    timestamp = serializers.DateTimeField()
    session_id = serializers.CharField(source="session_key")
    url = serializers.CharField()
    properties = serializers.JSONField()
    elements = serializers.SerializerMethodField(help_text="The autocaptured element chain, target first.")

    def get_elements(self, event: StoredEvent) -> list[dict]:
        return event_elements(event)


class EventListApi(ProjectAPIView):
    @extend_schema(
        parameters=[EventFilterSerializer],
        responses=inline_serializer(
            "EventPage",
            fields={"next": serializers.URLField(allow_null=True), "results": EventSerializer(many=True)},
        ),
    )
    def get(self, request: Request, project_id: int) -> Response:
        """Raw events, newest first (or `order=asc`), filtered by name, person and time."""
        params = EventFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        project = self.project
        person_id = data.get("person_id")
        if "distinct_id" in data:
            known = person_by_distinct_id(project=project, distinct_id=data["distinct_id"])
            if known is None or (person_id is not None and person_id != known):
                return Response({"next": None, "results": []})
            person_id = known
        limit = data["limit"]
        found = event_list(
            project=project,
            name=data.get("event"),
            person_id=person_id,
            after=data.get("after"),
            before=data.get("before"),
            cursor=data.get("cursor"),
            ascending=data["order"] == "asc",
            limit=limit + 1,
        )
        page = found[:limit]
        next_url = None
        if len(found) > limit:
            next_url = replace_query_param(
                request.build_absolute_uri(), "cursor", EventCursor.of(page[-1]).encode()
            )
        return Response({"next": next_url, "results": EventSerializer(page, many=True).data})
