"""A job (one query run in the background) and a cached result (the newest answer to one query)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


class CachedResult(models.Model):
    """The newest result of one query of a project, and the data version it was computed at.

    `key` is the hash of the job kind and its normalised parameters: one row per
    key, replaced by each new computation. It is stale once the project's data
    version has moved past `data_version`.
    """

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    data_version = models.BigIntegerField()
    computed_at = models.DateTimeField()
    duration_ms = models.IntegerField()
    result = models.JSONField(help_text="What the API answers.")
    payload = models.BinaryField(help_text="The result as the pages render it (pickled).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="cachedresult_project_key")]
        indexes = [models.Index(fields=["computed_at"], name="cachedresult_computed")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key[:8]} v{self.data_version}"


class Job(models.Model):
    """One query run in the background, with its progress and outcome.

    `watched_until` is set while a page waits for the job: each poll moves it on,
    leaving the page pulls it in, and a job nobody watches any more is cancelled.
    API jobs leave it empty and run to the end unless cancelled.
    """

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    params = models.JSONField(help_text="The normalised parameters the job runs with.")
    key = models.CharField(max_length=64)
    data_version = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    result = models.ForeignKey(
        CachedResult, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    watched_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"], name="job_status_created"),
            models.Index(fields=["project", "key", "status"], name="job_project_key"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE
