"""Lookups and rendering shared by the segment pages."""

from __future__ import annotations

from django.http import Http404

from segments import selectors
from segments.models import Persona, Segment, SegmentationModel
from tracking.models import Project


def get_segment(project: Project, segment_id: int) -> Segment:
    """The project's segment, or 404 (another project's segment is not found either)."""
    try:
        return selectors.segment_get(project=project, segment_id=segment_id)
    except Segment.DoesNotExist:
        raise Http404("No such segment") from None


def get_model(project: Project, model_id: int) -> SegmentationModel:
    model = SegmentationModel.objects.filter(project=project, pk=model_id).first()
    if model is None:
        raise Http404("No such segmentation model")
    return model


def get_persona(project: Project, persona_id: int) -> Persona:
    persona = Persona.objects.filter(project=project, pk=persona_id).select_related("segment").first()
    if persona is None:
        raise Http404("No such persona")
    return persona


def short_name(segment: Segment) -> str:
    """A model group's name without the model's prefix ("Lifecycle: New" -> "New")."""
    if segment.model_id and segment.name.startswith(f"{segment.model.name}: "):
        return segment.name[len(segment.model.name) + 2 :]
    return segment.name
