"""Actions over REST: list, create, read, change, delete, and the events an action matches."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from tracking import elements as chain
from tracking.api.base import ProjectAPIView, ProjectScopedMixin
from tracking.eventstore.stored import StoredEvent
from tracking.models import Action
from tracking.selectors.actions import action_events, action_get, action_list
from tracking.services.actions import action_create, action_delete, action_update


class ActionOutputSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = ["id", "name", "description", "steps", "created_by", "created_at", "updated_at"]

    def get_created_by(self, action: Action) -> str | None:
        return action.created_by.email if action.created_by else None


class ActionInputSerializer(serializers.Serializer):
    # Shapes only; the service validates names and steps and names the failing field.
    name = serializers.CharField(max_length=200, trim_whitespace=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    steps = serializers.JSONField()


class ActionPatchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    steps = serializers.JSONField(required=False)


class ActionListApi(ProjectScopedMixin, ListAPIView):
    serializer_class = ActionOutputSerializer

    def get_queryset(self):
        return action_list(project=self.project)

    @extend_schema(request=ActionInputSerializer, responses={201: ActionOutputSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        data = ActionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = action_create(project=self.project, user=request.user, **data.validated_data)
        return Response(ActionOutputSerializer(action).data, status=status.HTTP_201_CREATED)


class ActionDetailApi(ProjectAPIView):
    serializer_class = ActionOutputSerializer

    def _action(self, action_id: int) -> Action:
        return action_get(project=self.project, action_id=action_id)

    @extend_schema(responses=ActionOutputSerializer)
    def get(self, request: Request, project_id: int, action_id: int) -> Response:
        return Response(ActionOutputSerializer(self._action(action_id)).data)

    @extend_schema(request=ActionPatchSerializer, responses=ActionOutputSerializer)
    def patch(self, request: Request, project_id: int, action_id: int) -> Response:
        action = self._action(action_id)
        data = ActionPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action = action_update(action=action, **data.validated_data)
        return Response(ActionOutputSerializer(action).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: int, action_id: int) -> Response:
        action_delete(action=self._action(action_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MatchedEventSerializer(serializers.Serializer):
    """A stored event, known by its uuid (events have no serial id in every store)."""

    uuid = serializers.UUIDField()
    event = serializers.CharField(source="name")
    distinct_id = serializers.CharField()
    person_id = serializers.IntegerField()
    session_key = serializers.CharField()
    timestamp = serializers.DateTimeField()
    url = serializers.CharField()
    el_text = serializers.CharField()
    href = serializers.CharField()
    elements = serializers.SerializerMethodField()
    properties = serializers.JSONField()

    def get_elements(self, event: StoredEvent) -> list[dict]:
        return chain.decode(event.elements_chain) if event.elements_chain else []


class ActionEventsApi(ProjectScopedMixin, ListAPIView):
    """Stored events the action matches, newest first (paginated with limit/offset)."""

    serializer_class = MatchedEventSerializer

    def get_queryset(self):
        action = action_get(project=self.project, action_id=self.kwargs["action_id"])
        return action_events(project=self.project, steps=action.steps)
