from django.contrib import admin

from replay.models import Recording, RecordingChunk, RecordingRetentionRule


class RecordingChunkInline(admin.TabularInline):
    model = RecordingChunk
    extra = 0
    can_delete = False
    fields = [
        "seq",
        "first_timestamp",
        "last_timestamp",
        "event_count",
        "size_bytes",
        "storage_path",
        "sanitized",
    ]
    readonly_fields = fields


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = [
        "session_key",
        "project",
        "started_at",
        "duration_seconds",
        "active_seconds",
        "size_bytes",
        "sanitized",
    ]
    list_filter = ["sanitized"]
    search_fields = ["session_key", "distinct_id"]
    raw_id_fields = ["project", "session", "person"]
    list_select_related = ["project"]
    inlines = [RecordingChunkInline]


@admin.register(RecordingRetentionRule)
class RecordingRetentionRuleAdmin(admin.ModelAdmin):
    list_display = ["segment", "project", "days"]
    raw_id_fields = ["project", "segment"]
