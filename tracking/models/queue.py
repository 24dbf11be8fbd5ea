"""The durable ingest queue: what the ingestion endpoints acknowledged and the drain has not yet stored."""

from __future__ import annotations

from django.db import models


class IngestQueueItem(models.Model):
    """One acknowledged request, appended with a single INSERT and deleted when a drain has stored it.

    `kind` names the drain handler that stores it ("batch" for events, "recording" for
    replay chunks); `payload` is that handler's own encoding of the checked request.
    The id gives the arrival order a project's items are drained in.
    """

    # No database constraint: the append must not fail (or wait on a lock) because a
    # project is being deleted; the drain drops a deleted project's items.
    project = models.ForeignKey(
        "tracking.Project", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    kind = models.CharField(max_length=16)
    received_at = models.DateTimeField()
    events = models.IntegerField(help_text="How many events the payload holds (for depth and lag).")
    payload = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["project", "id"], name="ingestqueue_project_id")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class IngestDrained(models.Model):
    """One drained chunk: how many events, and how long its oldest item waited (health, lag)."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    drained_at = models.DateTimeField(db_index=True)
    events = models.IntegerField()
    items = models.IntegerField()
    oldest_received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["project", "-drained_at"], name="ingestdrained_project_at")]

    def __str__(self) -> str:
        return f"{self.events} events at {self.drained_at:%H:%M:%S}"
