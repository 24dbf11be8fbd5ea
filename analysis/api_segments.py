"""REST: POST /api/v1/projects/{project_id}/analysis/segment/ — a segment of the people one part of an analysis shows.

`{"source": "funnel" | "compare" | "retention" | "paths", "params": {…the analysis's
parameters, as its own endpoint takes them…}, "part": {…}, "name": "…"?}` answers
201 with the new segment (its `origin` links back to the analysis), or 400
naming the field: `{"part.step": ["must be between 1 and 2"]}`. A static copy
that takes longer than a moment answers 202 with its job, as the analyses do;
the job's result is `{"segment": id, "name", "kind", "size"}`.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from analysis import services
from analysis.kinds import KINDS
from analysis.reads import AnalysisTimeout
from analysis.segment_jobs import saved_segment, segment_save_request
from jobs.api import ASYNC_PARAMETER, answer_response, answer_wait
from segments.api import SegmentSerializer
from tracking.api.base import ProjectAPIView


class AnalysisSegmentInput(serializers.Serializer):
    source = serializers.ChoiceField(choices=list(KINDS), help_text="The analysis the part belongs to.")
    params = serializers.JSONField(help_text="The analysis's parameters, as its own endpoint takes them.")
    part = serializers.JSONField(
        help_text='funnel {"step", "outcome": "converted"|"dropped", "value"?}; compare {"group": index}; '
        'retention {"cohort": date, "group": segment id?, "period": n?}; paths {"group": segment id?, "path": [...]}'
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AnalysisSegmentApi(ProjectAPIView):
    @extend_schema(
        operation_id="analysis_segment_create",
        parameters=[ASYNC_PARAMETER],
        request=AnalysisSegmentInput,
        responses={201: SegmentSerializer},
    )
    def post(self, request: Request, project_id: int) -> Response:
        data = AnalysisSegmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        kind, name = data.validated_data["source"], data.validated_data["name"]
        try:
            query, source = services.analysis_segment_source(
                project=self.project,
                kind=kind,
                params=data.validated_data["params"],
                part=data.validated_data["part"],
            )
        except AnalysisTimeout as error:  # finding a paths node computes the tree
            return Response({"detail": str(error)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        if source.dynamic:
            segment = services.analysis_segment_create(
                project=self.project, kind=kind, params=data.validated_data["params"], part=source.part,
                name=name, created_by=request.user,
            )  # fmt: skip
            return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)
        answer = segment_save_request(
            project=self.project, kind=kind, params=query.to_json(), part=source.part, name=name,
            user=request.user, wait=answer_wait(request),
        )  # fmt: skip
        if answer.waiting:
            return answer_response(request, answer)  # 202 with the job; its result names the segment
        segment = saved_segment(project=self.project, answer=answer)
        return Response(SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)
