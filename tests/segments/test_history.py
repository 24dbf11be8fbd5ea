"""Reconstructed membership history: equal to evaluating the definition at every day boundary."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from segments.compiler import compile_definition
from segments.definition import validate_definition
from segments.history import boundaries, reconstruct
from segments.models import Segment, SegmentMembership, SegmentSizeSnapshot
from segments.services import segment_compute
from tests.factories import ProjectFactory
from tests.segments.test_differential import definitions
from tests.segments.world import NOW, store_world, world_st

pytestmark = pytest.mark.django_db


def as_of(definition, project, at) -> set[int]:
    query = compile_definition(definition, project=project, now=at, as_of=True)
    with connection.cursor() as cursor:
        cursor.execute(query.sql, query.params)
        return {row[0] for row in cursor.fetchall()}


def stored_at(segment, at) -> set[int]:
    rows = SegmentMembership.objects.filter(segment=segment, entered_at__lte=at).exclude(exited_at__lte=at)
    return set(rows.values_list("person_id", flat=True))


def _reconstruction_matches_every_boundary(spec, definition, tz):
    project = ProjectFactory(timezone=tz)
    store_world(project, spec)
    definition = validate_definition(definition, project_id=project.pk)
    segment = Segment.objects.create(project=project, name="s", definition=definition)
    segment_compute(segment=segment, now=NOW)
    result = reconstruct(segment, now=NOW)
    points = boundaries(project, now=NOW, horizon_days=180)
    assert result.days == len(points) - 1
    for point in points:
        assert stored_at(segment, point) == as_of(definition, project, point), (point, definition)
    segment.refresh_from_db()
    live = set(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
            "person_id", flat=True
        )
    )
    # what the live computation finds now, with the periods' history before
    assert live == as_of(definition, project, NOW)
    sizes = {s.date: s.size for s in SegmentSizeSnapshot.objects.filter(segment=segment)}
    for point in points[1:]:
        day = (point - timedelta(hours=1)).astimezone(project.zone).date()
        assert sizes[day] == len(stored_at(segment, point))


_SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=60, deadline=None, suppress_health_check=_SLOW, phases=[Phase.generate])
@given(spec=world_st, definition=definitions, tz=st.sampled_from(["UTC", "America/New_York"]))
def test_reconstruction_equals_evaluating_at_every_boundary(spec, definition, tz):
    if "action" in repr(definition):
        return
    _reconstruction_matches_every_boundary(spec, definition, tz)
