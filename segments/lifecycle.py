"""Segmentation models, and the lifecycle template: new / activated / power / at-risk / dormant.

A model is an ordered list of segments where each person belongs to exactly
one: the first group whose rule matches wins, and a final "everyone else"
group takes the rest. Each group is a real segment (usable in other segments,
flags, nudges), compiled as its own rule AND NOT any earlier group's rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from segments.definition import DefinitionError, validate_definition
from segments.models import Segment, SegmentationModel, SegmentKind, SegmentStatus, SegmentVersion
from segments.services import _schedule_compute, version_record
from tracking.models import Project


@dataclass(frozen=True)
class LifecycleParameters:
    """What a team picks: its core action, and the day counts that define each stage."""

    core_event: dict  # an event spec: {"name": …} or {"action": id}
    new_days: int = 14  # first seen within this many days
    active_days: int = 14  # did the core action within this many days -> activated
    power_active_days: int = 8  # active on at least this many of the last 28 days…
    power_core_count: int = 10  # …and did the core action this often in those 28 days -> power
    dormant_days: int = 30  # no activity at all for this many days -> dormant

    def validate(self, *, project_id: int) -> None:
        for name in ("new_days", "active_days", "power_active_days", "power_core_count", "dormant_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
                raise ValidationError({name: ["Must be a whole number between 1 and 3650."]})
        if self.power_active_days > 28:
            raise ValidationError({"power_active_days": ["At most 28 (the power window is four weeks)."]})
        try:
            validate_definition(
                {"match": "all", "conditions": [{"type": "behavior", "event": self.core_event}]},
                project_id=project_id,
            )
        except DefinitionError as error:
            raise ValidationError({"core_event": [error.message]}) from None


def lifecycle_groups(p: LifecycleParameters) -> list[tuple[str, str, dict]]:
    """(name, description, rule) in evaluation order; the remainder is added separately."""
    core = p.core_event

    def did_core(count: int, days: int, operator: str = "gte") -> dict:
        return {
            "type": "behavior",
            "event": core,
            "count": {"operator": operator, "value": count},
            "window": {"last_days": days},
        }

    return [
        ("Dormant", f"No activity for {p.dormant_days} days.",
         {"match": "all", "conditions": [{"type": "last_seen", "operator": "before_last_days", "value": p.dormant_days}]}),
        ("New", f"First seen in the last {p.new_days} days.",
         {"match": "all", "conditions": [{"type": "first_seen", "operator": "within_last_days", "value": p.new_days}]}),
        ("Power users", f"Active on {p.power_active_days}+ of the last 28 days and did the core action {p.power_core_count}+ times.",
         {"match": "all", "conditions": [
             {"type": "active_days", "count": {"operator": "gte", "value": p.power_active_days}, "window": {"last_days": 28}},
             did_core(p.power_core_count, 28)]}),
        ("Activated", f"Did the core action in the last {p.active_days} days.",
         {"match": "all", "conditions": [did_core(1, p.active_days)]}),
        ("At risk", f"Did the core action before, but not in the last {p.active_days} days.",
         {"match": "all", "conditions": [
             {"type": "behavior", "event": core, "count": {"operator": "gte", "value": 1}},
             did_core(0, p.active_days, "eq")]}),
    ]  # fmt: skip


@transaction.atomic
def lifecycle_model_create(
    *, project: Project, name: str, parameters: LifecycleParameters, created_by=None
) -> SegmentationModel:
    """Create the model and one segment per stage (plus "Never activated" for the rest); queue their computation."""

    parameters.validate(project_id=project.pk)
    model = SegmentationModel.objects.create(
        project=project,
        name=name,
        template=SegmentationModel.Template.LIFECYCLE,
        description="Each person is in exactly one stage; the first matching stage wins.",
        parameters=parameters.__dict__,
    )
    for position, (stage, description, rule) in enumerate(lifecycle_groups(parameters)):
        segment = Segment.objects.create(
            project=project, name=f"{name}: {stage}", description=description, kind=SegmentKind.DYNAMIC,
            definition=validate_definition(rule, project_id=project.pk), model=model, model_position=position,
            status=SegmentStatus.PENDING, created_by=created_by,
        )  # fmt: skip
        version_record(segment, change=SegmentVersion.Change.CREATED, user=created_by)
        _schedule_compute(segment)
    remainder = Segment.objects.create(
        project=project, name=f"{name}: Never activated", kind=SegmentKind.DYNAMIC,
        description="Seen recently, but never did the core action.",
        definition={"match": "all", "negate": False, "conditions": []}, model=model, model_position=99,
        is_model_remainder=True, status=SegmentStatus.PENDING, created_by=created_by,
    )  # fmt: skip
    _schedule_compute(remainder)
    return model


@transaction.atomic
def custom_model_create(
    *,
    project: Project,
    name: str,
    groups: list[tuple[str, dict]],
    remainder_name: str = "Everyone else",
    created_by=None,
) -> SegmentationModel:
    """A model from ordered (name, rule) pairs."""

    if not groups:
        raise ValidationError({"groups": ["A model needs at least one group."]})
    model = SegmentationModel.objects.create(
        project=project, name=name, template=SegmentationModel.Template.CUSTOM
    )
    for position, (group_name, rule) in enumerate(groups):
        try:
            definition = validate_definition(rule, project_id=project.pk)
        except DefinitionError as error:
            raise ValidationError({f"groups[{position}].{error.path}": [error.message]}) from None
        segment = Segment.objects.create(
            project=project, name=f"{name}: {group_name}", kind=SegmentKind.DYNAMIC, definition=definition,
            model=model, model_position=position, status=SegmentStatus.PENDING, created_by=created_by,
        )  # fmt: skip
        version_record(segment, change=SegmentVersion.Change.CREATED, user=created_by)
        _schedule_compute(segment)
    remainder = Segment.objects.create(
        project=project, name=f"{name}: {remainder_name}", kind=SegmentKind.DYNAMIC, definition={"match": "all", "conditions": []},
        model=model, model_position=999, is_model_remainder=True, status=SegmentStatus.PENDING, created_by=created_by,
    )  # fmt: skip
    _schedule_compute(remainder)
    return model
