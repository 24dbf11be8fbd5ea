import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("segments", "0001_initial"),
        ("tracking", "0003_sl_numeric"),
    ]

    operations = [
        migrations.CreateModel(
            name="Recording",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "session_key",
                    models.CharField(help_text="The session id the snippet generated.", max_length=200),
                ),
                ("distinct_id", models.CharField(max_length=200)),
                ("started_at", models.DateTimeField()),
                ("ended_at", models.DateTimeField()),
                ("duration_seconds", models.PositiveIntegerField(default=0)),
                (
                    "active_seconds",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Seconds in which the visitor moved, clicked, scrolled, touched or typed.",
                    ),
                ),
                ("page_count", models.PositiveIntegerField(default=0)),
                ("click_count", models.PositiveIntegerField(default=0)),
                ("rage_click_count", models.PositiveIntegerField(default=0)),
                ("size_bytes", models.BigIntegerField(default=0, help_text="Stored size, compressed.")),
                ("chunk_count", models.PositiveIntegerField(default=0)),
                ("first_url", models.TextField(blank=True)),
                (
                    "sanitized",
                    models.BooleanField(
                        default=False,
                        help_text="Active content (scripts, event handlers, javascript: URLs…) was removed on ingest.",
                    ),
                ),
                (
                    "stop_reason",
                    models.CharField(
                        blank=True, help_text="Why the recorder stopped itself, if it did.", max_length=100
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "person",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="recordings",
                        to="tracking.person",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="recordings",
                        to="tracking.project",
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="recordings",
                        to="tracking.session",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="RecordingChunk",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.PositiveIntegerField()),
                ("first_timestamp", models.DateTimeField()),
                ("last_timestamp", models.DateTimeField()),
                ("event_count", models.PositiveIntegerField()),
                ("size_bytes", models.PositiveIntegerField(help_text="Stored size, compressed.")),
                ("storage_path", models.CharField(max_length=500)),
                ("click_count", models.PositiveIntegerField(default=0)),
                ("rage_click_count", models.PositiveIntegerField(default=0)),
                ("active_seconds", models.PositiveIntegerField(default=0)),
                ("active_first_second", models.BigIntegerField(blank=True, null=True)),
                ("active_last_second", models.BigIntegerField(blank=True, null=True)),
                ("page_count", models.PositiveIntegerField(default=0)),
                ("first_href", models.TextField(blank=True)),
                ("last_href", models.TextField(blank=True)),
                ("sanitized", models.BooleanField(default=False)),
                ("stop_reason", models.CharField(blank=True, max_length=100)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "recording",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chunks",
                        to="replay.recording",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="RecordingRetentionRule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "days",
                    models.PositiveIntegerField(
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(3650),
                        ]
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="recording_retention_rules",
                        to="tracking.project",
                    ),
                ),
                (
                    "segment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="recording_retention_rules",
                        to="segments.segment",
                    ),
                ),
            ],
            options={
                "ordering": ["-days"],
            },
        ),
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(fields=["project", "-started_at"], name="recording_project_started"),
        ),
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(fields=["project", "person", "-started_at"], name="recording_project_person"),
        ),
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(fields=["ended_at"], name="recording_ended"),
        ),
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(
                condition=models.Q(("session__isnull", True), ("person__isnull", True), _connector="OR"),
                fields=["project", "created_at"],
                name="recording_unlinked",
            ),
        ),
        migrations.AddConstraint(
            model_name="recording",
            constraint=models.UniqueConstraint(
                fields=("project", "session_key"), name="recording_project_session"
            ),
        ),
        migrations.AddConstraint(
            model_name="recordingchunk",
            constraint=models.UniqueConstraint(fields=("recording", "seq"), name="chunk_recording_seq"),
        ),
        migrations.AddConstraint(
            model_name="recordingretentionrule",
            constraint=models.UniqueConstraint(fields=("project", "segment"), name="retention_rule_segment"),
        ),
    ]
