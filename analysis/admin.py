from django.contrib import admin

from analysis.models import Metric, SavedAnalysis


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "project", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    raw_id_fields = ("project", "created_by")


@admin.register(SavedAnalysis)
class SavedAnalysisAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "project", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    raw_id_fields = ("project", "created_by")
