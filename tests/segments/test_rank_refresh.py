"""Live rank segments: left out of the per-person refresh, recomputed in full by the periodic pass.

The tests that read events run with events in PostgreSQL and in ClickHouse.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from segments.compiler import compile_segment
from segments.models import Segment, SegmentMembership
from segments.refresh import refresh_time_windows
from segments.services import segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

TOP_BUYER = {
    "match": "all",
    "conditions": [
        {"type": "rank", "measure": {"event": {"name": "purchase"}, "of": "count"}, "top": {"count": 1}}
    ],
}


def _members(segment) -> set[str]:
    return set(
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True).values_list(
            "person__distinct_ids__distinct_id", flat=True
        )
    )


def _recomputed(segment) -> set[str]:
    """Who a full computation finds now, by distinct id."""
    query = compile_segment(Segment.objects.get(pk=segment.pk), now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.distinct_id FROM ({query.sql}) q JOIN tracking_persondistinctid d ON d.person_id = q.id",
            query.params,
        )
        return {row[0] for row in cursor.fetchall()}


def _computed_a_minute_ago(*segments) -> None:
    Segment.objects.filter(pk__in=[s.pk for s in segments]).update(
        computed_at=timezone.now() - timedelta(minutes=1)
    )


def _purchases(who: str, n: int) -> list[dict]:
    return [event("purchase", who) for _ in range(n)]


@pytest.fixture
def buyers(send, settings):
    settings.SEGMENT_TIME_REFRESH_SECONDS = 10
    send([*_purchases("ann", 3), *_purchases("bob", 2), *_purchases("cy", 1)])


def test_new_events_that_change_the_ranking_move_others_out_at_the_next_pass(
    events_backend, send, project, on_commit, buyers
):
    with on_commit():
        segment = segment_create(project=project, name="Top buyer", definition=TOP_BUYER)
    assert _members(segment) == {"ann"}
    with on_commit():  # bob overtakes ann; the per-person refresh runs for bob only
        send(_purchases("bob", 2))
    # left alone rather than half right (bob in, ann still in): the members as of the last computation
    assert _members(segment) == {"ann"}
    _computed_a_minute_ago(segment)
    with on_commit():
        assert refresh_time_windows() == 1
    assert _members(segment) == {"bob"} == _recomputed(segment)
    exited = SegmentMembership.objects.get(segment=segment, person__distinct_ids__distinct_id="ann")
    assert exited.exited_at is not None


def test_a_tie_brought_by_new_events_lets_both_in(events_backend, send, project, on_commit, buyers):
    with on_commit():
        segment = segment_create(project=project, name="Top buyer", definition=TOP_BUYER)
    with on_commit():
        send(_purchases("cy", 2))  # cy: 3, as many as ann
    _computed_a_minute_ago(segment)
    with on_commit():
        refresh_time_windows()
    assert _members(segment) == {"ann", "cy"} == _recomputed(segment)


def test_a_segment_naming_a_rank_segment_is_refreshed_the_same_way(
    events_backend, send, project, on_commit, buyers
):
    with on_commit():
        top = segment_create(project=project, name="Top buyer", definition=TOP_BUYER)
        outside = segment_create(
            project=project,
            name="Not the top buyer",
            definition={
                "match": "all",
                "conditions": [{"type": "segment", "segment": top.pk, "negate": True}],
            },
        )
    assert _members(outside) == {"bob", "cy"}
    with on_commit():
        send(_purchases("bob", 2))
    assert _members(outside) == {"bob", "cy"}  # not refreshed for bob alone
    _computed_a_minute_ago(top, outside)
    with on_commit():
        assert refresh_time_windows() == 2
    assert _members(outside) == {"ann", "cy"} == _recomputed(outside)


def test_a_rank_over_all_history_is_left_alone_while_the_projects_data_does_not_move(
    events_backend, project, on_commit, buyers
):
    with on_commit():
        segment = segment_create(project=project, name="Top buyer", definition=TOP_BUYER)
    _computed_a_minute_ago(segment)
    with connection.cursor() as cursor:  # the data last moved an hour ago
        cursor.execute(
            "UPDATE tracking_dataversion SET changed_at = now() - interval '1 hour' WHERE project_id = %s",
            [project.pk],
        )
    assert refresh_time_windows() == 0
    windowed = {**TOP_BUYER["conditions"][0], "window": {"last_days": 7}}
    with on_commit():
        moving = segment_create(
            project=project, name="Top buyer this week", definition={"match": "all", "conditions": [windowed]}
        )
    _computed_a_minute_ago(segment, moving)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tracking_dataversion SET changed_at = now() - interval '1 hour' WHERE project_id = %s",
            [project.pk],
        )
    assert refresh_time_windows() == 1  # a window moves with time, whatever the data
