from django.urls import path

from analysis.views import dashboard, metrics, pages, to_segment, trends

A = "p/<int:project_id>/analysis/"
urlpatterns = [
    # the events explorer sits under Events in the navigation
    path("p/<int:project_id>/events/trends/", trends.trends, name="trends"),
    path(A, pages.analysis, name="analysis"),
    path(f"{A}compare/", pages.compare, name="analysis_compare"),
    path(f"{A}funnels/", pages.funnels, name="analysis_funnels"),
    path(f"{A}funnels/dropped/", pages.funnel_dropped, name="analysis_funnel_dropped"),
    path(f"{A}segment/", to_segment.analysis_segment_new, name="analysis_segment_new"),
    path(f"{A}retention/", pages.retention, name="analysis_retention"),
    path(f"{A}paths/", pages.paths, name="analysis_paths"),
    path(f"{A}dashboard/", dashboard.dashboard, name="analysis_dashboard"),
    path(f"{A}saved/", dashboard.saved_create, name="analysis_saved_new"),
    path(f"{A}saved/<int:saved_id>/", dashboard.saved_detail, name="analysis_saved"),
    path(f"{A}saved/<int:saved_id>/delete/", dashboard.saved_delete, name="analysis_saved_delete"),
    path(f"{A}metrics/", metrics.metrics, name="analysis_metrics"),
    path(f"{A}metrics/new/", metrics.metric_new, name="analysis_metric_new"),
    path(f"{A}metrics/<int:metric_id>/", metrics.metric_edit, name="analysis_metric"),
    path(f"{A}metrics/<int:metric_id>/delete/", metrics.metric_delete_view, name="analysis_metric_delete"),
]
