from django.urls import path

from analysis import api, api_segments, api_trends

P = "projects/<int:project_id>/"
urlpatterns = [
    path(f"{P}trends/", api_trends.TrendsApi.as_view(), name="api_trends"),
    path(f"{P}metrics/", api.MetricListApi.as_view(), name="api_metrics"),
    path(f"{P}metrics/<int:metric_id>/", api.MetricDetailApi.as_view(), name="api_metric"),
    path(f"{P}analysis/compare/", api.CompareApi.as_view(), name="api_analysis_compare"),
    path(f"{P}analysis/funnel/", api.FunnelApi.as_view(), name="api_analysis_funnel"),
    path(f"{P}analysis/retention/", api.RetentionApi.as_view(), name="api_analysis_retention"),
    path(f"{P}analysis/paths/", api.PathsApi.as_view(), name="api_analysis_paths"),
    path(f"{P}analysis/segment/", api_segments.AnalysisSegmentApi.as_view(), name="api_analysis_segment"),
    path(f"{P}saved-analyses/", api.SavedAnalysisListApi.as_view(), name="api_saved_analyses"),
    path(
        f"{P}saved-analyses/<int:saved_id>/", api.SavedAnalysisDetailApi.as_view(), name="api_saved_analysis"
    ),
    path(
        f"{P}saved-analyses/<int:saved_id>/result/",
        api.SavedAnalysisResultApi.as_view(),
        name="api_saved_analysis_result",
    ),
]
