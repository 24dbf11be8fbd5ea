"""Session recordings: one Recording per session, its chunks indexed here, their blobs in storage.

The rrweb events themselves never live in PostgreSQL: each chunk the recorder
sends is sanitised, gzip-compressed and written through Django's storage API
(files under MEDIA_ROOT, or S3); `RecordingChunk` keeps only where it is and
what it holds. A Recording's figures (duration, active time, pages, clicks)
are recomputed from its chunk rows whenever a chunk arrives.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Recording(models.Model):
    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="recordings")
    session_key = models.CharField(max_length=200, help_text="The session id the snippet generated.")
    # Chunks may arrive before the session's first event batch: the links are filled
    # in as soon as the session exists (see replay.services.recordings_link). SET_NULL,
    # not CASCADE: merging an anonymous person into an identified one deletes the
    # anonymous person, and its recordings must survive that (they are relinked).
    session = models.ForeignKey(
        "tracking.Session", on_delete=models.SET_NULL, null=True, blank=True, related_name="recordings"
    )
    person = models.ForeignKey(
        "tracking.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="recordings"
    )
    distinct_id = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(default=0)
    active_seconds = models.PositiveIntegerField(
        default=0, help_text="Seconds in which the visitor moved, clicked, scrolled, touched or typed."
    )
    page_count = models.PositiveIntegerField(default=0)
    click_count = models.PositiveIntegerField(default=0)
    rage_click_count = models.PositiveIntegerField(default=0)
    size_bytes = models.BigIntegerField(default=0, help_text="Stored size, compressed.")
    chunk_count = models.PositiveIntegerField(default=0)
    first_url = models.TextField(blank=True)
    sanitized = models.BooleanField(
        default=False,
        help_text="Active content (scripts, event handlers, javascript: URLs…) was removed on ingest.",
    )
    stop_reason = models.CharField(
        max_length=100, blank=True, help_text="Why the recorder stopped itself, if it did."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "session_key"], name="recording_project_session")
        ]
        indexes = [
            models.Index(fields=["project", "-started_at"], name="recording_project_started"),
            models.Index(fields=["project", "person", "-started_at"], name="recording_project_person"),
            models.Index(fields=["ended_at"], name="recording_ended"),
            # recordings_link: the few recordings still waiting for their session
            models.Index(
                fields=["project", "created_at"],
                condition=models.Q(session__isnull=True) | models.Q(person__isnull=True),
                name="recording_unlinked",
            ),
        ]

    def __str__(self) -> str:
        return f"Recording of {self.session_key}"

    @property
    def length_ms(self) -> int:
        """The recording's length, first to last recorded moment: the player's timeline."""
        return max(0, int((self.ended_at - self.started_at).total_seconds() * 1000))

    @property
    def length_seconds(self) -> int:
        """Whole seconds of `length_ms`, as every page shows a recording's length (and the player's clock)."""
        return self.length_ms // 1000


class RecordingChunk(models.Model):
    """One POST of the recorder: where its sanitised, gzipped events are stored, and what they hold."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    first_timestamp = models.DateTimeField()
    last_timestamp = models.DateTimeField()
    event_count = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField(help_text="Stored size, compressed.")
    storage_path = models.CharField(max_length=500)
    # Figures of this chunk alone; replay.services.recording_figures adds them up for the recording.
    click_count = models.PositiveIntegerField(default=0)
    rage_click_count = models.PositiveIntegerField(default=0)
    active_seconds = models.PositiveIntegerField(default=0)
    active_first_second = models.BigIntegerField(null=True, blank=True)
    active_last_second = models.BigIntegerField(null=True, blank=True)
    page_count = models.PositiveIntegerField(default=0)
    first_href = models.TextField(blank=True)
    last_href = models.TextField(blank=True)
    sanitized = models.BooleanField(default=False)
    stop_reason = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recording", "seq"], name="chunk_recording_seq")]

    def __str__(self) -> str:
        return f"{self.recording_id}/{self.seq}"


class RecordingRetentionRule(models.Model):
    """Keep the recordings of a segment's current members for `days` (longer than the project's default)."""

    project = models.ForeignKey(
        "tracking.Project", on_delete=models.CASCADE, related_name="recording_retention_rules"
    )
    segment = models.ForeignKey(
        "segments.Segment", on_delete=models.CASCADE, related_name="recording_retention_rules"
    )
    days = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(3650)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "segment"], name="retention_rule_segment")]
        ordering = ["-days"]

    def __str__(self) -> str:
        return f"{self.segment}: {self.days} days"

    def clean(self) -> None:
        if self.segment_id and self.project_id and self.segment.project_id != self.project_id:
            raise ValidationError({"segment": "Choose a segment of this project."})
