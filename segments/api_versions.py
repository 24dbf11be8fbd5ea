"""REST for a segment's versions: the list with its diffs, a restore, and what a change would do."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from segments import services
from segments.api import SegmentSerializer, _SegmentMixin
from segments.selectors.versions import change_preview, versions_of
from tracking.api.base import ProjectAPIView


def _not_dynamic() -> Response:
    return Response(
        {"segment": ["A static segment's members are a fixed list: it has no definition."]},
        status=status.HTTP_400_BAD_REQUEST,
    )


class SegmentVersionsApi(_SegmentMixin, ProjectAPIView):
    """Every saved definition, newest first, with who saved it and the diff against the one before."""

    @extend_schema(
        operation_id="segments_versions",
        responses=inline_serializer(
            "SegmentVersion",
            {
                "number": serializers.IntegerField(),
                "change": serializers.CharField(),
                "restored_from": serializers.IntegerField(allow_null=True),
                "created_at": serializers.DateTimeField(),
                "created_by": serializers.CharField(allow_null=True),
                "current": serializers.BooleanField(),
                "definition": serializers.DictField(),
                "previous": serializers.DictField(allow_null=True),
                "diff": serializers.ListField(child=serializers.DictField()),
            },
            many=True,
        ),
    )
    def get(self, request, project_id: int, segment_id: int):
        views = versions_of(self.get_segment())
        body = []
        for index, view in enumerate(views):
            older = views[index + 1].version.definition if index + 1 < len(views) else None
            v = view.version
            body.append(
                {
                    "number": v.number,
                    "change": v.change,
                    "restored_from": v.restored_from,
                    "created_at": v.created_at,
                    "created_by": v.created_by.email if v.created_by else None,
                    "current": view.is_current,
                    "definition": v.definition,
                    "previous": older,
                    "diff": [{"op": line.op, "text": line.text} for line in view.diff],
                }
            )
        return Response(body)


class SegmentVersionRestoreApi(_SegmentMixin, ProjectAPIView):
    """Make version `number`'s definition current again (recorded as a new version, then recomputed)."""

    @extend_schema(operation_id="segments_version_restore", request=None, responses=SegmentSerializer)
    def post(self, request, project_id: int, segment_id: int, number: int):
        segment = self.get_segment()
        if not segment.is_dynamic:
            return _not_dynamic()
        try:
            segment = services.segment_version_restore(segment=segment, number=number, user=request.user)
        except ValidationError as error:
            return Response(error.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response(SegmentSerializer(segment).data)


class SegmentPreviewChangeApi(_SegmentMixin, ProjectAPIView):
    """Before saving `{"definition"}`: how many would enter, leave and stay, with a sample of each."""

    @extend_schema(
        operation_id="segments_preview_change",
        request=inline_serializer("PreviewChangeInput", {"definition": serializers.DictField()}),
        responses=inline_serializer(
            "PreviewChange",
            {
                "entering": serializers.IntegerField(),
                "leaving": serializers.IntegerField(),
                "staying": serializers.IntegerField(),
                "sample_entering": serializers.ListField(child=serializers.DictField()),
                "sample_leaving": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def post(self, request, project_id: int, segment_id: int):
        segment = self.get_segment()
        if not segment.is_dynamic:
            return _not_dynamic()
        if not isinstance(request.data, dict) or "definition" not in request.data:
            return Response({"definition": ["This field is required."]}, status=status.HTTP_400_BAD_REQUEST)
        preview = change_preview(segment=segment, definition=request.data["definition"])
        if preview.error:
            return Response(
                {preview.error_path or "definition": [preview.error]}, status=status.HTTP_400_BAD_REQUEST
            )
        if preview.timed_out:
            return Response(
                {"detail": "Comparing took too long; save the change to compute it in the background."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response(preview.as_json())
