"""Metrics defined once per project, and analyses saved for the dashboard.

What a metric measures, and how, lives in `analysis.metrics`; the parameters of
each saved analysis kind in its module (`analysis.compare`, `analysis.funnels`,
`analysis.retention`, `analysis.paths`). Both are stored as the JSON the REST
API accepts, so a saved analysis can be replayed by the API and the UI alike.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class MetricKind(models.TextChoices):
    CONVERSION = "conversion", "Conversion"
    ACTIVATION = "activation", "Activation"
    RETENTION = "retention", "Retention"
    CHURN = "churn", "Churn"
    VALUE = "value", "Value per person"
    FREQUENCY = "frequency", "Frequency"


class Metric(models.Model):
    """A target metric, e.g. “activated: created a project within 7 days of first visit”."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=MetricKind.choices)
    definition = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="metric_project_name")]

    def __str__(self) -> str:
        return self.name


class AnalysisKind(models.TextChoices):
    COMPARE = "compare", "Segment comparison"
    FUNNEL = "funnel", "Funnel"
    RETENTION = "retention", "Retention"
    PATHS = "paths", "Paths"


class SavedAnalysis(models.Model):
    """An analysis with its parameters, shown as a card on the project's dashboard."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="saved_analyses")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=AnalysisKind.choices)
    params = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "saved analyses"
        indexes = [models.Index(fields=["project", "created_at"], name="saved_analysis_project")]

    def __str__(self) -> str:
        return self.name
