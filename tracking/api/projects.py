from __future__ import annotations

from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView

from tracking.api.base import ProjectScopedMixin
from tracking.models import Project
from tracking.selectors import project_list


class ProjectSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.name")

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "organization",
            "public_key",
            "timezone",
            "recording_enabled",
            "recording_sample_rate",
            "data_retention_days",
            "internal_users",
            "created_at",
        ]


class ProjectListApi(ListAPIView):
    serializer_class = ProjectSerializer

    def get_queryset(self):
        return project_list(user=self.request.user)


class ProjectDetailApi(ProjectScopedMixin, RetrieveAPIView):
    # scoped before the method is checked: another organization's project is 404 whatever the method
    serializer_class = ProjectSerializer

    def get_object(self) -> Project:
        return self.project
