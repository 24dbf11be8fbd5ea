"""`/api/v1/projects/{project_id}/companies/` — read companies and their firmographic traits."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView

from tracking.api.base import ProjectScopedMixin
from tracking.models import Company
from tracking.selectors.companies import company_get, company_list
from tracking.selectors.persons import MAX_SEARCH


class CompanySerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    person_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Company
        fields = ["id", "key", "name", "properties", "person_count", "created_at", "updated_at"]

    def get_name(self, company: Company) -> str:
        return str(company)


class CompanyFilterSerializer(serializers.Serializer):
    key = serializers.CharField(required=False, max_length=200, help_text="Exact company key.")
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_SEARCH,
        help_text="Part of the key or of any trait value.",
    )


@extend_schema(parameters=[CompanyFilterSerializer])
class CompanyListApi(ProjectScopedMixin, ListAPIView):
    """The project's companies, largest first."""

    serializer_class = CompanySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema generator has no project
            return Company.objects.none()
        params = CompanyFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return company_list(
            project=self.project,
            search=params.validated_data.get("search", ""),
            key=params.validated_data.get("key"),
        )


class CompanyDetailApi(ProjectScopedMixin, RetrieveAPIView):
    """One company of the project; 404 for a company of another project."""

    serializer_class = CompanySerializer

    def get_object(self) -> Company:
        return company_get(project=self.project, company_id=self.kwargs["company_id"])
