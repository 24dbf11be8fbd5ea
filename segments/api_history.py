"""REST for membership history: the daily sizes and their rebuild, a person's segments then, a preview then.

The `as_of` parameter everywhere is an ISO 8601 moment no later than now; a naive
one (or a bare date, meaning its midnight) is read in the project's time zone
(`segments.selectors.history.as_of_parse`). docs/api.md lists the shapes.
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from jobs.api import job_json
from segments.api import _SegmentMixin, as_of_param
from segments.history_jobs import history_job, history_request
from segments.models import Segment
from segments.selectors import history
from segments.selectors.history import AsOfError, as_of_parse
from tracking.api.base import ProjectAPIView
from tracking.models import Person

AS_OF = OpenApiParameter(
    "as_of", str, description="ISO 8601 moment, not in the future (naive: the project's time zone)."
)


def history_json(request, segment: Segment) -> dict:
    """The daily points, and the latest rebuild as the jobs API shows any job (`url` to poll or cancel it)."""
    job = history_job(segment)
    points = history.history_points(segment=segment)
    return {
        "history_from": segment.history_from,
        "history_built_at": segment.history_built_at,
        "job": job_json(request, job) if job is not None else None,
        "points": [
            {
                "date": s.date,
                "size": s.size,
                "entered": s.entered,
                "exited": s.exited,
                "reconstructed": s.reconstructed,
            }
            for s in points
        ],
    }


class SegmentHistoryApi(_SegmentMixin, ProjectAPIView):
    """The segment's daily sizes over its whole history, and the rebuild of that history."""

    @extend_schema(
        operation_id="segments_history",
        responses=inline_serializer(
            "SegmentHistory",
            {
                "history_from": serializers.DateField(allow_null=True),
                "history_built_at": serializers.DateTimeField(allow_null=True),
                "job": serializers.DictField(allow_null=True),
                "points": inline_serializer(
                    "SizeSnapshot",
                    {
                        "date": serializers.DateField(),
                        "size": serializers.IntegerField(),
                        "entered": serializers.IntegerField(),
                        "exited": serializers.IntegerField(),
                        "reconstructed": serializers.BooleanField(),
                    },
                    many=True,
                ),
            },
        ),
    )
    def get(self, request, project_id: int, segment_id: int):
        return Response(history_json(request, self.get_segment()))

    @extend_schema(operation_id="segments_history_rebuild", request=None, responses={202: None})
    def post(self, request, project_id: int, segment_id: int):
        segment = self.get_segment()
        if not segment.is_dynamic:
            return Response(
                {"detail": "A static segment's members are a fixed list: there is no history to rebuild."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        history_request(segment, user=request.user)
        segment.refresh_from_db()
        return Response(history_json(request, segment), status=status.HTTP_202_ACCEPTED)


class PersonSegmentsApi(ProjectAPIView):
    """Without `as_of`: every segment the person has been in (current ones first) with its periods.
    With it: the segments they were in at that moment, each saying where the answer came from."""

    @extend_schema(
        operation_id="persons_segments",
        parameters=[AS_OF],
        responses=inline_serializer(
            "PersonSegment",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "kind": serializers.CharField(),
                "current": serializers.BooleanField(),
                "entered_at": serializers.DateTimeField(allow_null=True),
                "source": serializers.CharField(required=False),
                "periods": serializers.ListField(child=serializers.DictField(), required=False),
            },
            many=True,
        ),
    )
    def get(self, request, project_id: int, person_id: int):
        if not Person.objects.filter(project=self.project, pk=person_id).exists():
            raise Http404("No such person")
        at = as_of_param(request, self.project)
        if at is not None:
            inside, _unknown = history.person_segments_then(project=self.project, person_id=person_id, at=at)
            return Response(
                [
                    {
                        "id": item.segment.pk,
                        "name": item.segment.name,
                        "kind": item.segment.kind,
                        "entered_at": item.entered_at,
                        "source": item.source,
                    }
                    for item in inside
                ]
            )
        timelines, _more = history.person_timeline(project=self.project, person_id=person_id)
        return Response(
            [
                {
                    "id": t.segment.pk,
                    "name": t.segment.name,
                    "kind": t.segment.kind,
                    "current": t.current,
                    "entered_at": t.periods[0].entered_at if t.current else None,
                    "periods": [
                        {
                            "entered_at": p.entered_at,
                            "exited_at": p.exited_at,
                            "reconstructed": p.reconstructed,
                        }
                        for p in t.periods
                    ],
                }
                for t in timelines
            ]
        )


class SegmentPreviewApi(ProjectAPIView):
    """Count (and sample) the persons a definition selects as of a moment, storing nothing."""

    @extend_schema(
        operation_id="segments_preview",
        request=inline_serializer(
            "PreviewInput",
            {"definition": serializers.JSONField(), "as_of": serializers.CharField(required=False)},
        ),
        responses=inline_serializer(
            "PreviewResult",
            {
                "as_of": serializers.DateTimeField(),
                "count": serializers.IntegerField(),
                "elapsed_ms": serializers.IntegerField(),
                "sample": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def post(self, request, project_id: int):
        if not isinstance(request.data, dict):
            return Response({"detail": "Send a JSON object."}, status=status.HTTP_400_BAD_REQUEST)
        if "definition" not in request.data:
            return Response({"definition": ["This field is required."]}, status=status.HTTP_400_BAD_REQUEST)
        raw = request.data.get("as_of")
        try:
            at = timezone.now() if raw is None else as_of_parse(str(raw), project=self.project)
        except AsOfError as error:
            return Response({"as_of": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
        preview = history.definition_preview_at(
            project=self.project, definition=request.data["definition"], at=at
        )
        if preview.timed_out:
            return Response(
                {
                    "detail": f"Took longer than {preview.elapsed_ms:,} ms: narrow the definition.",
                    "as_of": at.isoformat(),
                },
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        if preview.error:
            return Response(
                {preview.error_path or "definition": [preview.error]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(
            {
                "as_of": at.isoformat(),
                "count": preview.count,
                "elapsed_ms": preview.elapsed_ms,
                "sample": [{"id": p.pk, "name": p.display_name} for p in preview.sample],
            }
        )
