from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from tracking.api import projects

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[], authentication_classes=[]), name="api_schema"),
    path("projects/", projects.ProjectListApi.as_view(), name="api_projects"),
    path("projects/<int:project_id>/", projects.ProjectDetailApi.as_view(), name="api_project"),
]
