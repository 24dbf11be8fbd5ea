"""REST: /api/v1/projects/{project_id}/segments/… (docs/segments.md)."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from segments import selectors, services
from segments.exports import FORMATS, members_export
from segments.models import CompanyMembership, Segment, SegmentKind, SegmentMembership, SegmentSubject
from segments.selectors import history
from segments.selectors.history import AsOfError, as_of_parse
from tracking.api.base import ProjectAPIView, ProjectScopedMixin


class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = [
            "id", "name", "description", "kind", "subject", "definition", "status", "status_detail", "size",
            "computed_at", "compute_ms", "model", "frozen_from", "origin", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class SegmentInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=SegmentKind.choices, default=SegmentKind.DYNAMIC)
    subject = serializers.ChoiceField(choices=SegmentSubject.choices, default=SegmentSubject.PERSON)
    definition = serializers.JSONField()


class SegmentPatch(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=SegmentKind.choices, required=False)
    definition = serializers.JSONField(required=False)


class _SegmentMixin(ProjectScopedMixin):
    def get_segment(self) -> Segment:
        if getattr(self, "_segment", None) is None:
            try:
                self._segment = selectors.segment_get(
                    project=self.project, segment_id=self.kwargs["segment_id"]
                )
            except Segment.DoesNotExist:
                raise Http404("No such segment") from None
        return self._segment


class SegmentListApi(ProjectAPIView):
    @extend_schema(operation_id="segments_list", responses=SegmentSerializer(many=True))
    def get(self, request, project_id: int):
        return Response(SegmentSerializer(selectors.segment_list(project=self.project), many=True).data)

    @extend_schema(operation_id="segments_create", request=SegmentInput, responses={201: SegmentSerializer})
    def post(self, request, project_id: int):
        data = SegmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        segment = services.segment_create(
            project=self.project, created_by=request.user, **data.validated_data
        )
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)


class SegmentDetailApi(_SegmentMixin, ProjectAPIView):
    @extend_schema(operation_id="segments_retrieve", responses=SegmentSerializer)
    def get(self, request, project_id: int, segment_id: int):
        return Response(SegmentSerializer(self.get_segment()).data)

    @extend_schema(operation_id="segments_update", request=SegmentPatch, responses=SegmentSerializer)
    def patch(self, request, project_id: int, segment_id: int):
        data = SegmentPatch(data=request.data)
        data.is_valid(raise_exception=True)
        segment = services.segment_update(
            segment=self.get_segment(), changed_by=request.user, **data.validated_data
        )
        return Response(SegmentSerializer(segment).data)

    @extend_schema(operation_id="segments_destroy", responses={204: None})
    def delete(self, request, project_id: int, segment_id: int):
        services.segment_delete(segment=self.get_segment())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SegmentRefreshApi(_SegmentMixin, ProjectAPIView):
    @extend_schema(operation_id="segments_refresh", request=None, responses=SegmentSerializer)
    def post(self, request, project_id: int, segment_id: int):
        segment = self.get_segment()
        if not segment.is_dynamic:
            return Response(
                {"detail": "A static segment's members are fixed."}, status=status.HTTP_400_BAD_REQUEST
            )
        change = services.segment_compute(segment=segment)
        return Response(
            {**SegmentSerializer(segment).data, "entered": len(change.entered), "exited": len(change.exited)}
        )


class SegmentFreezeApi(_SegmentMixin, ProjectAPIView):
    @extend_schema(
        operation_id="segments_freeze",
        request=inline_serializer("FreezeInput", {"name": serializers.CharField(required=False)}),
        responses={201: SegmentSerializer},
    )
    def post(self, request, project_id: int, segment_id: int):
        segment = self.get_segment()
        if not isinstance(request.data, dict):
            return Response({"detail": "Send a JSON object."}, status=status.HTTP_400_BAD_REQUEST)
        name = request.data.get("name") or f"{segment.name} (frozen)"
        frozen = services.segment_freeze(segment=segment, name=str(name)[:200], created_by=request.user)
        return Response(SegmentSerializer(frozen).data, status=status.HTTP_201_CREATED)


class SegmentUploadApi(ProjectAPIView):
    """A static segment from `{"name", "distinct_ids": [...]}` (ids or e-mails) or a CSV `file` upload."""

    @extend_schema(
        operation_id="segments_upload",
        request=inline_serializer(
            "UploadInput",
            {
                "name": serializers.CharField(),
                "distinct_ids": serializers.ListField(child=serializers.CharField()),
            },
        ),
        responses={201: SegmentSerializer},
    )
    def post(self, request, project_id: int):
        if not isinstance(request.data, dict):  # a form upload's QueryDict is one too
            return Response({"detail": "Send a JSON object."}, status=status.HTTP_400_BAD_REQUEST)
        name = request.data.get("name")
        if not isinstance(name, str) or not name.strip():
            return Response({"name": ["This field is required."]}, status=status.HTTP_400_BAD_REQUEST)
        if "file" in request.FILES:
            identifiers = services.parse_identifier_csv(request.FILES["file"].read())
        else:
            identifiers = request.data.get("distinct_ids")
            if (
                not isinstance(identifiers, list)
                or not identifiers
                or not all(isinstance(i, str) for i in identifiers)
            ):
                return Response(
                    {"distinct_ids": ["Send a non-empty list of distinct ids or e-mails, or a CSV file."]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
        result = services.segment_upload(
            project=self.project, name=name.strip()[:200], identifiers=identifiers, created_by=request.user
        )
        return Response(
            {
                **SegmentSerializer(result.segment).data,
                "matched": result.matched,
                "unmatched": result.unmatched[:1000],
            },
            status=status.HTTP_201_CREATED,
        )


class MemberSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="person_id")
    distinct_ids = serializers.SerializerMethodField()
    properties = serializers.JSONField(source="person.properties")

    class Meta:
        model = SegmentMembership
        fields = ["id", "distinct_ids", "entered_at", "properties"]

    def get_distinct_ids(self, membership: SegmentMembership) -> list[str]:
        return [d.distinct_id for d in membership.person.distinct_ids.all()]


class CompanyMemberSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="company_id")
    key = serializers.CharField(source="company.key")
    properties = serializers.JSONField(source="company.properties")

    class Meta:
        model = CompanyMembership
        fields = ["id", "key", "entered_at", "properties"]


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` through content negotiation; the file itself is streamed by `members_export`.

    Only errors (401, 404…) reach this renderer: they are rendered as JSON.
    """

    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class NDJSONRenderer(CSVRenderer):
    """`?format=ndjson`: one JSON object per member and line (errors still answer JSON)."""

    media_type = "application/x-ndjson"
    format = "ndjson"


def as_of_param(request, project) -> datetime | None:
    """The request's `?as_of=`, parsed (segments.selectors.history.as_of_parse); None when absent.

    Raises a 400 naming `as_of` when it cannot be read or lies in the future.
    """
    raw = request.query_params.get("as_of")
    if raw is None:
        return None
    try:
        return as_of_parse(raw, project=project)
    except AsOfError as error:
        raise serializers.ValidationError({"as_of": [str(error)]}) from None


@extend_schema_view(
    get=extend_schema(
        operation_id="segments_members",
        parameters=[
            OpenApiParameter(
                "as_of",
                str,
                description="ISO 8601 moment: who was in the segment then (naive: the project's time zone).",
            )
        ],
    )
)
class SegmentMembersApi(_SegmentMixin, ListAPIView):
    serializer_class = MemberSerializer
    renderer_classes = [JSONRenderer, CSVRenderer, NDJSONRenderer]

    def get_queryset(self):
        segment = self.get_segment()
        if segment.is_company:
            return selectors.company_member_list(segment=segment)
        return selectors.member_list(segment=segment)

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):  # the schema: a person segment's members
            return MemberSerializer
        return CompanyMemberSerializer if self.get_segment().is_company else MemberSerializer

    def list(self, request, *args, **kwargs):
        at = as_of_param(request, self.project)
        if at is not None:
            if self.get_segment().is_company:
                return Response(
                    {
                        "as_of": [
                            "Membership history is kept for segments of people; this one holds companies."
                        ]
                    },
                    status=status.HTTP_400_BAD_REQUEST,
                )
            return self.members_then(request, at)
        if request.query_params.get("format") in FORMATS:
            return members_export(self.get_segment(), request.query_params["format"])
        return super().list(request, *args, **kwargs)

    def members_then(self, request, at: datetime) -> Response:
        """The members at `at`, in the members list's shape, plus where the answer came from."""
        segment = self.get_segment()
        found = history.members_then(segment=segment, at=at)
        if found.timed_out or found.error:
            return Response(
                {
                    "detail": "This segment took too long to evaluate as of that moment."
                    if found.timed_out
                    else f"This segment could not be evaluated as of that moment: {found.error}",
                    "as_of": at.isoformat(),
                    "source": found.source,
                },
                status=status.HTTP_503_SERVICE_UNAVAILABLE
                if found.timed_out
                else status.HTTP_400_BAD_REQUEST,
            )
        if found.periods is not None:  # read from the stored history: the period covering the moment
            results = [
                {
                    "id": m.person_id,
                    "distinct_ids": [d.distinct_id for d in m.person.distinct_ids.all()],
                    "entered_at": m.entered_at,
                    "properties": m.person.properties,
                }
                for m in self.paginate_queryset(found.periods)
            ]
        else:
            page = self.paginate_queryset(found.person_ids)
            results = [
                {
                    "id": person.pk,
                    "distinct_ids": [d.distinct_id for d in person.distinct_ids.all()],
                    "entered_at": None,
                    "properties": person.properties,
                }
                for person in history.persons_by_id(project_id=self.project.pk, person_ids=page)
            ]
        response = self.get_paginated_response(results)
        response.data["as_of"] = at.isoformat()
        response.data["source"] = found.source
        return response
