"""Reads for the intervention pages: lists with reach, segment choices.

Beside this module: `surveys` (a survey's answers) and `strategy` (the strategy map)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from interventions.models import (
    Exposure,
    FeatureFlag,
    Nudge,
    SegmentAlert,
    Survey,
    Webhook,
    WebhookDelivery,
)
from segments.models import Segment, SegmentationModel
from segments.selectors import segment_list
from tracking.models import Project

# -- lists ------------------------------------------------------------------------------------------


def nudge_list(*, project: Project) -> QuerySet[Nudge]:
    return Nudge.objects.filter(project=project).prefetch_related("segments").order_by("-created_at", "-pk")


def survey_list(*, project: Project) -> QuerySet[Survey]:
    return Survey.objects.filter(project=project).prefetch_related("segments").order_by("-created_at", "-pk")


def flag_list(*, project: Project) -> QuerySet[FeatureFlag]:
    return FeatureFlag.objects.filter(project=project).order_by("key")


def webhook_list(*, project: Project) -> QuerySet[Webhook]:
    """Webhooks with their last delivery time and how many deliveries are failing or waiting for a retry."""
    return (
        Webhook.objects.filter(project=project)
        .prefetch_related("segments")
        .annotate(
            last_delivery_at=Max("deliveries__created_at"),
            failing=Count("deliveries", filter=Q(deliveries__state__in=["failed", "retrying"])),
        )
        .order_by("name", "pk")
    )


def delivery_list(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    # relies on delivery_webhook_created (webhook_id, created_at DESC)
    return WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-pk")


def alert_list(*, project: Project) -> QuerySet[SegmentAlert]:
    return (
        SegmentAlert.objects.filter(project=project)
        .select_related("segment", "webhook")
        .order_by("segment__name", "pk")
    )


@dataclass(frozen=True)
class Reach:
    exposed: int = 0
    held_out: int = 0


def reach(*, project: Project, kind: str, object_ids: list[int]) -> dict[int, Reach]:
    """Distinct persons who saw each object (or, for flags, were evaluated) and who were held out.

    One row per person and object in Exposure, so counting rows counts people
    (exposure_unique: project, kind, object_id, person).
    """
    shown = Q(held_out=False) & (
        Q(times_shown__gt=0) | Q(answered_at__isnull=False) | Q(kind=Exposure.Kind.FLAG)
    )
    rows = (
        Exposure.objects.filter(project=project, kind=kind, object_id__in=object_ids)
        .values("object_id")
        .annotate(exposed=Count("id", filter=shown), held=Count("id", filter=Q(held_out=True)))
        .order_by()
    )
    found = {row["object_id"]: Reach(row["exposed"], row["held"]) for row in rows}
    return {object_id: found.get(object_id, Reach()) for object_id in object_ids}


# -- segments to pick from --------------------------------------------------------------------------


@dataclass
class SegmentGroup:
    """Segments shown together in a picker: the standalone ones, or the groups of one model."""

    label: str
    segments: list[Segment]
    model: SegmentationModel | None = None


def segment_groups(*, project: Project) -> list[SegmentGroup]:
    """The project's segments for pickers: standalone segments first, then each model's groups in order."""
    segments = list(segment_list(project=project))
    groups = [
        SegmentGroup("Segments", [s for s in segments if s.model_id is None and not s.is_company]),
        SegmentGroup("Company segments", [s for s in segments if s.model_id is None and s.is_company]),
    ]
    models: dict[int, SegmentGroup] = {}
    for segment in segments:
        if segment.model_id is not None:
            models.setdefault(
                segment.model_id, SegmentGroup(segment.model.name, [], segment.model)
            ).segments.append(segment)
    for group in sorted(models.values(), key=lambda g: (g.label, g.model.pk if g.model else 0)):
        group.segments.sort(key=lambda s: (s.is_model_remainder, s.model_position, s.pk))
        groups.append(group)
    return [g for g in groups if g.segments]
