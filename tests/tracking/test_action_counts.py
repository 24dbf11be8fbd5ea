"""One window behind every action count (list, preview, chart), and the list's counts cached."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from analysis.trends import TrendQuery, default_range, trend_compute
from tests.ingest.conftest import event
from tracking.selectors.actions import action_days, action_preview, action_stats, action_window
from tracking.services.actions import action_create, action_update

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
STEPS = [{"event": "bought"}]


@pytest.fixture
def purchases(send, project):
    """Bought on May 31 at 18:00 UTC (in the rolling 30×24 hours before NOW, not in the last 30 days) and on Jun 1."""
    times = ["2026-05-31T18:00:00+00:00", "2026-06-01T09:00:00+00:00", "2026-06-30T08:00:00+00:00"]
    batch = [event("bought", f"p{i}", timestamp=at) for i, at in enumerate(times)]
    assert send(batch).json()["accepted"] == 3


def test_the_window_is_whole_days_in_the_projects_time_zone(project):
    project.timezone = "America/New_York"
    since, until = action_window(project=project, now=NOW)
    assert since.isoformat() == "2026-06-01T00:00:00-04:00"
    assert until.isoformat() == "2026-07-01T00:00:00-04:00"


def test_the_list_the_preview_and_the_chart_count_the_same_events(events_backend, project, purchases):
    action = action_create(project=project, user=None, name="Bought", steps=STEPS)
    listed = action_stats(project=project, actions=[action], now=NOW)[action.pk]
    previewed = action_preview(project=project, steps=STEPS, now=NOW)
    date_from, date_to = default_range(project=project, now=NOW)
    charted = trend_compute(
        project=project, query=TrendQuery(date_from=date_from, date_to=date_to, action=action)
    )
    daily = action_days(project=project, action=action, now=NOW)
    assert listed.events == previewed.events == daily.total == charted.total == 2  # May 31 is outside all
    assert listed.persons == previewed.persons == daily.total_persons == charted.total_persons == 2
    assert daily.counts == charted.counts and daily.persons == charted.persons


def test_the_lists_counts_are_cached_until_the_action_changes(
    events_backend, project, purchases, django_assert_num_queries
):
    action = action_create(project=project, user=None, name="Bought", steps=STEPS)
    assert action_stats(project=project, actions=[action], now=NOW)[action.pk].events == 2
    with django_assert_num_queries(0):
        assert action_stats(project=project, actions=[action], now=NOW)[action.pk].events == 2
    action_update(action=action, name="Bought", description="", steps=[{"event": "nothing-like-it"}])
    assert action_stats(project=project, actions=[action], now=NOW)[action.pk].events == 0


def test_the_list_page_and_the_saved_actions_page_agree(alice_client, project, send, alice):
    send([event("bought", "ann"), event("bought", "ben"), event("bought", "ann")])
    action = action_create(project=project, user=alice, name="Bought", steps=STEPS)
    listing = alice_client.get(reverse("actions", args=[project.pk])).content.decode()
    assert '<td class="num">3</td>' in listing and '<td class="num">2</td>' in listing
    detail = alice_client.get(reverse("action_detail", args=[project.pk, action.pk])).content.decode()
    assert '<div class="stat">3</div><div class="stat-label">events, last 30 days</div>' in detail
    assert '<div class="stat" id="preview-events">3</div>' in detail
