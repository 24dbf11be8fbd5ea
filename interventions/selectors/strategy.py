"""The strategy map: which segment gets which treatment, and what each treatment does."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from interventions.models import (
    FeatureFlag,
    Nudge,
    SegmentAlert,
    Status,
    Survey,
    Webhook,
)
from interventions.selectors import alert_list, flag_list, nudge_list, segment_groups, survey_list
from segments.models import Segment, SegmentationModel
from tracking.models import Project


@dataclass(frozen=True)
class Treatment:
    """One intervention as it applies to one segment."""

    kind: str  # nudge, survey, flag, webhook, alert
    obj: Nudge | Survey | FeatureFlag | Webhook | SegmentAlert
    detail: str = ""
    # what makes the same intervention a different treatment (a flag's rollout), for comparing groups
    variant: str = ""

    @property
    def acting(self) -> bool:
        """Does it change anything for the segment's people right now? (An alert only tells the team.)"""
        if self.kind in ("nudge", "survey"):
            return self.obj.status == Status.LIVE
        if self.kind == "flag":
            return self.obj.enabled
        if self.kind == "webhook":
            return self.obj.active
        return False

    @property
    def state(self) -> str:
        if self.kind in ("nudge", "survey"):
            return self.obj.get_status_display().lower()
        if self.kind == "flag":
            return "on" if self.obj.enabled else "off"
        return "active" if self.obj.active else "inactive"

    @property
    def measurable(self) -> bool:
        return self.kind in ("nudge", "survey", "flag")

    @property
    def signature(self) -> tuple[str, int, str]:
        return (self.kind, self.obj.pk, self.variant)


@dataclass
class SegmentTreatments:
    segment: Segment
    name: str
    treatments: list[Treatment] = field(default_factory=list)
    alerts: list[Treatment] = field(default_factory=list)

    @property
    def acting(self) -> list[Treatment]:
        return [t for t in self.treatments if t.acting]

    @property
    def reporting_only(self) -> bool:
        """A segment that changes no message, flow or gate is just reporting."""
        return not self.acting

    @property
    def signature(self) -> frozenset:
        return frozenset(t.signature for t in self.acting)


@dataclass
class ModelTreatments:
    model: SegmentationModel
    groups: list[SegmentTreatments]
    merge_candidates: list[list[SegmentTreatments]] = field(default_factory=list)

    @property
    def all_reporting(self) -> bool:
        return all(g.reporting_only for g in self.groups)

    @property
    def merge_ids(self) -> set[int]:
        return {row.segment.pk for members in self.merge_candidates for row in members}


@dataclass
class Strategy:
    segments: list[SegmentTreatments]
    models: list[ModelTreatments]
    everyone: list[Treatment]

    @property
    def reporting_only_count(self) -> int:
        return sum(1 for s in self.segments if s.reporting_only) + sum(
            1 for m in self.models for g in m.groups if g.reporting_only
        )


def _short(segment: Segment) -> str:
    if segment.model_id and segment.name.startswith(f"{segment.model.name}: "):
        return segment.name[len(segment.model.name) + 2 :]
    return segment.name


def strategy(*, project: Project) -> Strategy:
    """Every segment (and each group of each model) with the interventions that target it.

    Groups of one model that get exactly the same acting treatment are candidates
    to merge: splitting them changes nothing anyone experiences. A model none of
    whose groups is treated is reporting only as a whole, so no merge is suggested.
    """
    by_segment: dict[int, list[Treatment]] = defaultdict(list)
    alerts: dict[int, list[Treatment]] = defaultdict(list)
    everyone: list[Treatment] = []
    for kind, items in (("nudge", nudge_list(project=project)), ("survey", survey_list(project=project))):
        for item in items:
            targets = list(item.segments.all())
            if not targets:
                everyone.append(Treatment(kind, item))
            for segment in targets:
                by_segment[segment.pk].append(Treatment(kind, item))
    for flag in flag_list(project=project):
        seen: set[int | None] = set()
        for index, rule in enumerate(flag.rules or []):
            segment_id = rule.get("segment")
            if segment_id in seen:
                continue  # a later rule for the same segment never decides anything
            seen.add(segment_id)
            rollout = f"{rule.get('rollout', 100):g}"
            treatment = Treatment("flag", flag, f"rule {index + 1}: {rollout}% rollout", variant=rollout)
            if segment_id is None:
                everyone.append(treatment)
            else:
                by_segment[segment_id].append(treatment)
    for hook in Webhook.objects.filter(project=project).prefetch_related("segments").order_by("name", "pk"):
        when = " and ".join(w for w, on in (("entry", hook.on_entry), ("exit", hook.on_exit)) if on)
        for segment in hook.segments.all():
            by_segment[segment.pk].append(Treatment("webhook", hook, f"on {when}"))
    for alert in alert_list(project=project):
        alerts[alert.segment_id].append(
            Treatment("alert", alert, f"±{alert.threshold_percent}% {alert.get_window_display().lower()}")
        )

    def row(segment: Segment) -> SegmentTreatments:
        return SegmentTreatments(
            segment, _short(segment), by_segment.get(segment.pk, []), alerts.get(segment.pk, [])
        )

    standalone, models = [], []
    for group in segment_groups(project=project):
        if group.model is None:
            standalone = [row(s) for s in group.segments]
            continue
        rows = [row(s) for s in group.segments]
        entry = ModelTreatments(model=group.model, groups=rows)
        if not entry.all_reporting:
            same: dict[frozenset, list[SegmentTreatments]] = defaultdict(list)
            for r in rows:
                same[r.signature].append(r)
            entry.merge_candidates = [members for members in same.values() if len(members) > 1]
        models.append(entry)
    return Strategy(segments=standalone, models=models, everyone=everyone)
