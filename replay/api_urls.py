from django.urls import path

from replay import api

P = "projects/<int:project_id>/"
urlpatterns = [
    path(f"{P}recordings/", api.RecordingListApi.as_view(), name="api_recordings"),
    path(f"{P}recordings/<int:recording_id>/", api.RecordingDetailApi.as_view(), name="api_recording"),
    path(
        f"{P}recordings/<int:recording_id>/chunks/<int:seq>/",
        api.RecordingChunkApi.as_view(),
        name="api_recording_chunk",
    ),
]
