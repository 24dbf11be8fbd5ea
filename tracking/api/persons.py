"""`/api/v1/projects/{project_id}/persons/` — read persons, their ids, traits and company."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.response import Response

from tracking.api.base import ProjectScopedMixin
from tracking.models import Company, Person
from tracking.selectors.persons import MAX_SEARCH, person_by_distinct_id, person_get, person_list
from tracking.services.persons import person_delete


class CompanyRefSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = ["id", "key", "name"]

    def get_name(self, company: Company) -> str:
        return str(company)


class PersonSerializer(serializers.ModelSerializer):
    distinct_ids = serializers.SerializerMethodField()
    company = CompanyRefSerializer(allow_null=True)
    name = serializers.CharField(source="display_name")

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "distinct_ids",
            "properties",
            "company",
            "is_identified",
            "first_seen",
            "last_seen",
            "created_at",
        ]

    def get_distinct_ids(self, person: Person) -> list[str]:
        return [did.distinct_id for did in person.distinct_ids.all()]


class PersonFilterSerializer(serializers.Serializer):
    distinct_id = serializers.CharField(required=False, max_length=200, help_text="Exact distinct id.")
    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_SEARCH,
        help_text="Part of a distinct id or of any property value (e-mail, name…), or a person id.",
    )


@extend_schema(parameters=[PersonFilterSerializer])
class PersonListApi(ProjectScopedMixin, ListAPIView):
    """The project's persons, most recently seen first."""

    serializer_class = PersonSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema generator has no project
            return Person.objects.none()
        params = PersonFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        queryset = person_list(project=self.project, search=params.validated_data.get("search", ""))
        distinct_id = params.validated_data.get("distinct_id")
        if distinct_id is not None:
            person_id = person_by_distinct_id(project=self.project, distinct_id=distinct_id)
            queryset = queryset.filter(pk=person_id) if person_id is not None else queryset.none()
        return queryset


class PersonDetailApi(ProjectScopedMixin, RetrieveAPIView):
    """One person of the project; 404 for a person of another project."""

    serializer_class = PersonSerializer

    def get_object(self) -> Person:
        return person_get(project=self.project, person_id=self.kwargs["person_id"])

    @extend_schema(responses={204: None})
    def delete(self, request, *args, **kwargs) -> Response:
        """Erase the person: their events, sessions, recordings (with files), memberships and ids. Owners and admins only."""
        person = self.get_object()
        if not self.can_manage:
            raise PermissionDenied("Only owners and admins can delete persons.")
        person_delete(person=person)
        return Response(status=status.HTTP_204_NO_CONTENT)
