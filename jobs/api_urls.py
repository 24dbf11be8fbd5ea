from django.urls import path

from jobs import api

urlpatterns = [
    path(
        "projects/<int:project_id>/analysis/jobs/<int:job_id>/", api.JobApi.as_view(), name="api_analysis_job"
    ),
]
