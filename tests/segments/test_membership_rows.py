"""Membership rows carry their segment's project without a database key of their own: they still go with it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from segments.models import Segment, SegmentMembership
from tracking.models import Person

pytestmark = pytest.mark.django_db


def test_deleting_a_project_deletes_its_membership_rows(project, other_project):
    rows = []
    for owner in (project, other_project):
        segment = Segment.objects.create(project=owner, name="s")
        now = timezone.now()
        person = Person.objects.create(project=owner, first_seen=now, last_seen=now)
        rows.append(
            SegmentMembership.objects.create(
                project=owner, segment=segment, person=person, entered_at=timezone.now()
            )
        )
    project.delete()
    assert list(SegmentMembership.objects.values_list("pk", flat=True)) == [rows[1].pk]
    with connection.cursor() as cursor:  # not only through the ORM's eyes
        cursor.execute(
            "SELECT count(*) FROM segments_segmentmembership WHERE project_id = %s", [rows[0].project_id]
        )
        assert cursor.fetchone()[0] == 0
