from django.urls import path

from segments import api, api_history, api_versions

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
        f"{P}segments/<int:segment_id>/versions/",
        api_versions.SegmentVersionsApi.as_view(),
        name="api_segment_versions",
    ),
    path(
        f"{P}segments/<int:segment_id>/versions/<int:number>/restore/",
        api_versions.SegmentVersionRestoreApi.as_view(),
        name="api_segment_version_restore",
    ),
    path(
        f"{P}segments/<int:segment_id>/preview-change/",
        api_versions.SegmentPreviewChangeApi.as_view(),
        name="api_segment_preview_change",
    ),
    path(
        f"{P}persons/<int:person_id>/segments/",
        api_history.PersonSegmentsApi.as_view(),
        name="api_person_segments",
    ),
]
