"""How far a project's data has moved: the version analyses cache their results against."""

from __future__ import annotations

from django.db import models


class DataVersion(models.Model):
    """One row per project: a counter bumped whenever what its analyses read changes.

    Bumped once per drained ingest chunk (not per event), and when events are
    erased or expire, when segment memberships change, and when an action or a
    metric is redefined. A cached result computed at an older version is stale.
    `changed_at` is when it last moved ("computed 5 minutes ago, newer data since").
    """

    project = models.OneToOneField(
        "tracking.Project", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"v{self.version}"
