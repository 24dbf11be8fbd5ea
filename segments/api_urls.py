from django.urls import path

from segments import api, api_history

P = "projects/<int:project_id>/"
urlpatterns = [
    path(f"{P}segments/", api.SegmentListApi.as_view(), name="api_segments"),
    path(f"{P}segments/preview/", api_history.SegmentPreviewApi.as_view(), name="api_segment_preview"),
    path(f"{P}segments/upload/", api.SegmentUploadApi.as_view(), name="api_segment_upload"),
    path(f"{P}segments/<int:segment_id>/", api.SegmentDetailApi.as_view(), name="api_segment"),
    path(
        f"{P}segments/<int:segment_id>/members/", api.SegmentMembersApi.as_view(), name="api_segment_members"
    ),
    path(
        f"{P}segments/<int:segment_id>/refresh/", api.SegmentRefreshApi.as_view(), name="api_segment_refresh"
    ),
    path(f"{P}segments/<int:segment_id>/freeze/", api.SegmentFreezeApi.as_view(), name="api_segment_freeze"),
    path(
        f"{P}segments/<int:segment_id>/history/",
        api_history.SegmentHistoryApi.as_view(),
        name="api_segment_history",
    ),
    path(
        f"{P}persons/<int:person_id>/segments/",
        api_history.PersonSegmentsApi.as_view(),
        name="api_person_segments",
    ),
]
