"""`/api/v1/projects/{project_id}/recordings/` — recordings, their chunks and timeline markers."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response

from replay.blobs import StorageUnavailable
from replay.forms import RecordingFilterForm
from replay.models import Recording, RecordingChunk
from replay.selectors import (
    chunk_compressed,
    chunk_get,
    chunk_json,
    chunk_list,
    recording_get,
    recording_list,
    recording_markers,
)
from tracking.api.base import ProjectAPIView, ProjectScopedMixin


class RecordingSerializer(serializers.ModelSerializer):
    session_id = serializers.CharField(source="session_key")
    person = serializers.IntegerField(source="person_id", allow_null=True)
    viewer_url = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id", "session_id", "person", "distinct_id", "started_at", "ended_at", "duration_seconds",
            "active_seconds", "page_count", "click_count", "rage_click_count", "size_bytes", "chunk_count",
            "first_url", "sanitized", "stop_reason", "viewer_url",
        ]  # fmt: skip

    def get_viewer_url(self, recording: Recording) -> str:
        path = reverse("replay_player", args=[recording.project_id, recording.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ChunkSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = RecordingChunk
        fields = ["seq", "first_timestamp", "last_timestamp", "event_count", "size_bytes", "url"]

    def get_url(self, chunk: RecordingChunk) -> str:
        return reverse(
            "api_recording_chunk", args=[self.context["project_id"], chunk.recording_id, chunk.seq]
        )


class MarkerSerializer(serializers.Serializer):
    offset_ms = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.CharField()
    timestamp = serializers.DateTimeField()


class RecordingDetailSerializer(RecordingSerializer):
    chunks = serializers.SerializerMethodField()
    markers = serializers.SerializerMethodField()

    class Meta(RecordingSerializer.Meta):
        fields = [*RecordingSerializer.Meta.fields, "chunks", "markers"]

    @extend_schema_field(ChunkSerializer(many=True))
    def get_chunks(self, recording: Recording) -> list[dict]:
        context = {"project_id": recording.project_id}
        return ChunkSerializer(chunk_list(recording=recording), many=True, context=context).data

    @extend_schema_field(MarkerSerializer(many=True))
    def get_markers(self, recording: Recording) -> list[dict]:
        return MarkerSerializer(recording_markers(recording=recording), many=True).data


_FILTERS = [
    OpenApiParameter("session_id", str, description="The snippet's session id."),
    OpenApiParameter("person", int, description="A person id."),
    OpenApiParameter("persons", str, description="Comma-separated person ids."),
    OpenApiParameter("segment", int, description="Current members of this segment."),
    OpenApiParameter("action", int, description="Sessions with an event matching this action."),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Started on or after (project time zone)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Started on or before (project time zone)."),
    OpenApiParameter("min_duration", int, description="Seconds."),
    OpenApiParameter("min_active", int, description="Active seconds."),
    OpenApiParameter("rage", bool, description="Only sessions with rage clicks."),
    OpenApiParameter("sort", str, enum=["recent", "active"]),
]


@extend_schema(parameters=_FILTERS)
class RecordingListApi(ProjectScopedMixin, ListAPIView):
    """The project's recordings, newest first (or most active with `sort=active`)."""

    serializer_class = RecordingSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema generator has no project
            return Recording.objects.none()
        params = self.request.query_params.copy()
        if "session_id" in params:
            params["session"] = params["session_id"]
        form = RecordingFilterForm(params, project=self.project)
        if not form.is_valid():
            raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
        return recording_list(project=self.project, query=form.query())


class RecordingDetailApi(ProjectScopedMixin, RetrieveAPIView):
    """One recording with its chunks (in `seq` order) and the session's timeline markers."""

    serializer_class = RecordingDetailSerializer

    def get_object(self) -> Recording:
        return recording_get(project=self.project, recording_id=self.kwargs["recording_id"])


class RecordingChunkApi(ProjectAPIView):
    """A chunk's rrweb events, a JSON array: gzip-encoded on the wire when the client accepts it."""

    @extend_schema(responses={(200, "application/json"): {"type": "array", "items": {"type": "object"}}})
    def get(self, request, project_id: int, recording_id: int, seq: int) -> HttpResponse:
        recording = recording_get(project=self.project, recording_id=recording_id)
        chunk = chunk_get(recording=recording, seq=seq)
        try:
            return self._chunk_response(request, chunk)
        except StorageUnavailable as problem:
            return Response({"detail": f"The recording storage is unavailable ({problem})."}, status=503)

    @staticmethod
    def _chunk_response(request, chunk: RecordingChunk) -> HttpResponse:
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            # stored gzip-compressed: sent as it is, the browser inflates it
            response = HttpResponse(chunk_compressed(chunk), content_type="application/json")
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(chunk_json(chunk), content_type="application/json")
        patch_vary_headers(response, ["Accept-Encoding"])
        patch_cache_control(response, private=True, max_age=300)
        return response
