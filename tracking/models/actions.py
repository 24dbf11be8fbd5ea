"""Actions: behaviours named after the fact by matching autocaptured data."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from tracking.matching.actions import action_where_sql, event_matches


class Action(models.Model):
    """A retroactive event definition: steps (ORed) that match stored events.

    The steps' format and meaning live in `tracking.matching.actions`; an action
    covers all stored history the moment it is saved, because it is evaluated
    over events as they are, not recorded when they arrive.
    """

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="actions")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    steps = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="action_project_name")]

    def __str__(self) -> str:
        return self.name

    def where_sql(self, *, alias: str) -> tuple[str, list]:
        return action_where_sql(self.steps, alias=alias)

    def matches(self, event: Any) -> bool:
        return event_matches(self.steps, event)
