"""REST: metrics, comparisons, funnels, retention, paths and saved analyses (docs/analysis.md).

All under /api/v1/projects/{project_id}/; another project's member gets 404.
Parameters are the JSON documented in docs/analysis.md; a bad one is answered
400 with the field's JSON path: `{"steps[1].name": ["must be a non-empty string"]}`.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from analysis import forms, services
from analysis.jobs import analysis_request
from analysis.kinds import KINDS, analysis_params
from analysis.models import AnalysisKind, Metric, MetricKind, SavedAnalysis
from analysis.params import ParamError
from analysis.selectors import metric_get, metric_list, saved_analysis_get, saved_analysis_list
from jobs.api import ASYNC_PARAMETER, answer_response, answer_wait
from tracking.api.base import ProjectAPIView, ProjectScopedMixin


class MetricSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = Metric
        fields = ["id", "name", "description", "kind", "definition", "created_by", "created_at", "updated_at"]

    def get_created_by(self, metric: Metric) -> str | None:
        return metric.created_by.email if metric.created_by else None


class MetricInput(serializers.Serializer):
    # shapes only; the service checks the definition and names the failing field
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=MetricKind.choices)
    definition = serializers.JSONField()


class MetricPatch(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=MetricKind.choices, required=False)
    definition = serializers.JSONField(required=False)


class MetricListApi(ProjectScopedMixin, ListAPIView):
    serializer_class = MetricSerializer

    def get_queryset(self):
        return metric_list(project=self.project).select_related("created_by")

    @extend_schema(operation_id="metrics_create", request=MetricInput, responses={201: MetricSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        data = MetricInput(data=request.data)
        data.is_valid(raise_exception=True)
        metric = services.metric_create(project=self.project, created_by=request.user, **data.validated_data)
        return Response(MetricSerializer(metric).data, status=status.HTTP_201_CREATED)


class MetricDetailApi(ProjectAPIView):
    serializer_class = MetricSerializer

    @extend_schema(operation_id="metrics_retrieve", responses=MetricSerializer)
    def get(self, request: Request, project_id: int, metric_id: int) -> Response:
        return Response(MetricSerializer(metric_get(project=self.project, metric_id=metric_id)).data)

    @extend_schema(operation_id="metrics_update", request=MetricPatch, responses=MetricSerializer)
    def patch(self, request: Request, project_id: int, metric_id: int) -> Response:
        metric = metric_get(project=self.project, metric_id=metric_id)
        data = MetricPatch(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(MetricSerializer(services.metric_update(metric=metric, **data.validated_data)).data)

    @extend_schema(operation_id="metrics_destroy", responses={204: None})
    def delete(self, request: Request, project_id: int, metric_id: int) -> Response:
        services.metric_delete(metric=metric_get(project=self.project, metric_id=metric_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# -- analyses ----------------------------------------------------------------------------------


class _TrafficInput(serializers.Serializer):
    include_internal = serializers.BooleanField(required=False, help_text="Count internal and test users.")
    include_bots = serializers.BooleanField(required=False, help_text="Count bots.")


class CompareInput(_TrafficInput):
    metric = serializers.JSONField(help_text="A metric id, or {kind, definition} for a metric not saved.")
    segments = serializers.ListField(child=serializers.IntegerField())
    vs_rest = serializers.BooleanField(required=False, help_text="Compare one segment with everyone else.")
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class FunnelInput(_TrafficInput):
    steps = serializers.ListField(
        child=serializers.JSONField(), help_text="Event specs: {name, where} or {action}."
    )
    within = serializers.JSONField(
        required=False, help_text='{"value": 14, "unit": "minutes" | "hours" | "days"}'
    )
    breakdown = serializers.JSONField(required=False, allow_null=True)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class RetentionInput(_TrafficInput):
    period = serializers.ChoiceField(choices=["day", "week"], required=False)
    periods = serializers.IntegerField(required=False)
    event = serializers.JSONField(required=False, allow_null=True)
    segments = serializers.ListField(child=serializers.IntegerField(), required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class PathsInput(_TrafficInput):
    start = serializers.JSONField(help_text='{"path": "/pricing"} or an event spec')
    direction = serializers.ChoiceField(choices=["next", "previous"], required=False)
    steps = serializers.ChoiceField(choices=["pageviews", "events"], required=False)
    segments = serializers.ListField(child=serializers.IntegerField(), required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class _AnalysisApi(ProjectAPIView):
    """200 with the result when it is cached or computed within a second; else 202 with the job."""

    kind = ""

    def post(self, request: Request, project_id: int) -> Response:
        try:
            query = analysis_params(project=self.project, kind=self.kind, params=request.data)
        except ParamError as error:
            return Response(error.errors, status=status.HTTP_400_BAD_REQUEST)
        answer = analysis_request(
            project=self.project,
            kind=self.kind,
            query=query,
            user=request.user,
            wait=answer_wait(request),
        )
        return answer_response(request, answer)


class CompareApi(_AnalysisApi):
    kind = "compare"

    @extend_schema(
        operation_id="analysis_compare",
        parameters=[ASYNC_PARAMETER],
        request=CompareInput,
        responses={200: dict},
    )
    def post(self, request: Request, project_id: int) -> Response:
        return super().post(request, project_id)


class FunnelApi(_AnalysisApi):
    kind = "funnel"

    @extend_schema(
        operation_id="analysis_funnel",
        parameters=[ASYNC_PARAMETER],
        request=FunnelInput,
        responses={200: dict},
    )
    def post(self, request: Request, project_id: int) -> Response:
        return super().post(request, project_id)


class RetentionApi(_AnalysisApi):
    kind = "retention"

    @extend_schema(
        operation_id="analysis_retention",
        parameters=[ASYNC_PARAMETER],
        request=RetentionInput,
        responses={200: dict},
    )
    def post(self, request: Request, project_id: int) -> Response:
        return super().post(request, project_id)


class PathsApi(_AnalysisApi):
    kind = "paths"

    @extend_schema(
        operation_id="analysis_paths", parameters=[ASYNC_PARAMETER], request=PathsInput, responses={200: dict}
    )
    def post(self, request: Request, project_id: int) -> Response:
        return super().post(request, project_id)


# -- saved analyses ----------------------------------------------------------------------------


class SavedAnalysisSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = SavedAnalysis
        fields = ["id", "name", "kind", "params", "url", "created_by", "created_at", "updated_at"]

    def get_created_by(self, saved: SavedAnalysis) -> str | None:
        return saved.created_by.email if saved.created_by else None

    def get_url(self, saved: SavedAnalysis) -> str:
        """The analysis's page with its parameters."""
        page = reverse(KINDS[saved.kind].page, args=[saved.project_id])
        return f"{page}?{forms.querystring(saved.kind, saved.params)}"


class SavedAnalysisInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=AnalysisKind.choices)
    params = serializers.JSONField()


class SavedAnalysisPatch(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=AnalysisKind.choices, required=False)
    params = serializers.JSONField(required=False)


class SavedAnalysisListApi(ProjectScopedMixin, ListAPIView):
    serializer_class = SavedAnalysisSerializer

    def get_queryset(self):
        return saved_analysis_list(project=self.project)

    @extend_schema(
        operation_id="saved_analyses_create",
        request=SavedAnalysisInput,
        responses={201: SavedAnalysisSerializer},
    )
    def post(self, request: Request, project_id: int) -> Response:
        data = SavedAnalysisInput(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.saved_analysis_create(
            project=self.project, created_by=request.user, **data.validated_data
        )
        return Response(SavedAnalysisSerializer(saved).data, status=status.HTTP_201_CREATED)


class SavedAnalysisDetailApi(ProjectAPIView):
    serializer_class = SavedAnalysisSerializer

    @extend_schema(operation_id="saved_analyses_retrieve", responses=SavedAnalysisSerializer)
    def get(self, request: Request, project_id: int, saved_id: int) -> Response:
        return Response(
            SavedAnalysisSerializer(saved_analysis_get(project=self.project, saved_id=saved_id)).data
        )

    @extend_schema(
        operation_id="saved_analyses_update", request=SavedAnalysisPatch, responses=SavedAnalysisSerializer
    )
    def patch(self, request: Request, project_id: int, saved_id: int) -> Response:
        saved = saved_analysis_get(project=self.project, saved_id=saved_id)
        data = SavedAnalysisPatch(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            SavedAnalysisSerializer(services.saved_analysis_update(saved=saved, **data.validated_data)).data
        )

    @extend_schema(operation_id="saved_analyses_destroy", responses={204: None})
    def delete(self, request: Request, project_id: int, saved_id: int) -> Response:
        services.saved_analysis_delete(saved=saved_analysis_get(project=self.project, saved_id=saved_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedAnalysisResultApi(ProjectAPIView):
    """The saved analysis's result, as the analysis endpoints answer it (200 or 202 with a job);
    400 naming the parameter when it no longer holds (a deleted segment…)."""

    @extend_schema(operation_id="saved_analyses_result", parameters=[ASYNC_PARAMETER], responses={200: dict})
    def get(self, request: Request, project_id: int, saved_id: int) -> Response:
        saved = saved_analysis_get(project=self.project, saved_id=saved_id)
        try:
            query = analysis_params(project=self.project, kind=saved.kind, params=saved.params)
        except ParamError as error:
            return Response(error.prefixed("params").errors, status=status.HTTP_400_BAD_REQUEST)
        answer = analysis_request(
            project=self.project,
            kind=saved.kind,
            query=query,
            user=request.user,
            wait=answer_wait(request),
        )
        return answer_response(request, answer)
