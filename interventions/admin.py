from django.contrib import admin
from django.db import models

from interventions.models import SegmentSync, SegmentSyncRun


@admin.register(SegmentSync)
class SegmentSyncAdmin(admin.ModelAdmin):
    list_display = (
        "segment",
        "project",
        "daily_file",
        "webhook_url",
        "enabled",
        "last_file_at",
        "last_pushed_at",
    )
    list_filter = ("enabled", "daily_file")
    search_fields = ("segment__name", "webhook_url")
    raw_id_fields = ("project", "segment", "created_by")
    # The signing secret is not shown here: the sync page reveals it to owners and admins.
    exclude = ("secret",)
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ("push_started_at", "checked_version", "push_failures", "next_push_at", "push_lease_until",
                       "last_pushed_at", "last_push_error", "last_file_at", "last_file_error")  # fmt: skip


@admin.register(SegmentSyncRun)
class SegmentSyncRunAdmin(admin.ModelAdmin):
    list_display = ("sync", "kind", "status", "started_at", "rows", "batches", "file_name")
    list_filter = ("kind", "status")
    raw_id_fields = ("project", "sync")
    date_hierarchy = "started_at"
