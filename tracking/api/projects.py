from __future__ import annotations

from rest_framework import serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView

from tracking.models import Project
from tracking.selectors import project_get_for_user, project_list


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
            "created_at",
        ]


class ProjectListApi(ListAPIView):
    serializer_class = ProjectSerializer

    def get_queryset(self):
        return project_list(user=self.request.user)


class ProjectDetailApi(RetrieveAPIView):
    serializer_class = ProjectSerializer

    def get_object(self) -> Project:
        return project_get_for_user(user=self.request.user, project_id=self.kwargs["project_id"])
