"""The structure planted in the world is there to be found."""

from __future__ import annotations

from datetime import timedelta

import pytest

from demo.world.catalog import REGRESSION_BROWSER, REGRESSION_DAYS
from demo.world.starter import LIFECYCLE_NAME
from segments.models import SegmentationModel
from tests.demo_world import measures

pytestmark = pytest.mark.django_db


def test_checkout_fails_far_more_often_on_the_regression_browser_in_the_last_two_weeks(world):
    since = world.options.until - timedelta(days=REGRESSION_DAYS)
    rates = measures.checkout_failure_rates(world.project.pk, since=since)

    broken_now = measures.combined(rates, browsers={REGRESSION_BROWSER}, recent=True)
    broken_before = measures.combined(rates, browsers={REGRESSION_BROWSER}, recent=False)
    others_now = measures.combined(rates, exclude=REGRESSION_BROWSER, recent=True)

    assert broken_now.attempts >= 8
    assert broken_now.value >= 0.5
    assert broken_now.value > 4 * others_now.value
    assert broken_now.value > 4 * max(broken_before.value, 0.02)


def test_failed_checkouts_show_rage_and_dead_clicks_on_the_pay_button_and_no_purchase(world):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*),
                   count(*) FILTER (WHERE dead_click_count > 0 AND rageclick_count > 0)
            FROM tracking_session s
            WHERE s.project_id = %s AND EXISTS (
                SELECT 1 FROM tracking_event e WHERE e.project_id = s.project_id AND e.session_key = s.session_key
                AND e.name = '$rageclick' AND e.elements_chain LIKE '%%checkout-pay%%')
              AND NOT EXISTS (
                SELECT 1 FROM tracking_event e WHERE e.project_id = s.project_id AND e.session_key = s.session_key
                AND e.name = 'purchase')
            """,
            [world.project.pk],
        )
        sessions, with_both = cursor.fetchone()

    assert sessions > 0
    assert with_both == sessions


def test_every_lifecycle_stage_has_people(world):
    model = SegmentationModel.objects.get(
        project=world.project, name=LIFECYCLE_NAME
    )  # computed by the starters
    sizes = {group.name.removeprefix("Lifecycle: "): group.size for group in model.groups.all()}

    assert set(sizes) == {"Dormant", "New", "Power users", "Activated", "At risk", "Never activated"}
    assert all(size > 0 for size in sizes.values()), sizes
    assert sum(sizes.values()) == world.report.persons


def test_larger_companies_invite_more_and_buy_more_seats(world):
    invites = measures.invites_per_person_by_size(world.project.pk)
    seats = measures.seats_by_size(world.project.pk)

    assert invites["1-10"] < invites["11-50"] < invites["51-200"] < min(invites["201-1000"], invites["1000+"])
    assert min(invites["201-1000"], invites["1000+"]) > 2 * invites["1-10"]
    assert seats["1-10"] < seats["11-50"] < seats["51-200"] < seats["201-1000"] < seats["1000+"]


def test_larger_companies_move_to_business_more_often(world):
    business = measures.business_share_by_size(
        world.project.pk, {"small": ["1-10", "11-50"], "mid": ["51-200"], "large": ["201-1000", "1000+"]}
    )

    assert business["large"] > 3 * max(business["small"], 0.01)
    assert business["large"] > business["mid"] > business["small"]


def test_the_stated_goal_matches_the_features_adopted(world):
    by_goal = measures.adoption_by_goal(world.project.pk)

    assert all(row["people"] >= 30 for row in by_goal.values()), by_goal
    timeline = {goal: row["timeline"] for goal, row in by_goal.items()}
    invites = {goal: row["invites"] for goal, row in by_goal.items()}
    assert timeline["track time"] > 2 * max(v for goal, v in timeline.items() if goal != "track time")
    assert invites["collaborate with clients"] > 1.4 * max(
        v for goal, v in invites.items() if goal != "collaborate with clients"
    )


def test_people_do_thirty_to_sixty_events_a_month(world):
    rate = measures.events_per_person_month(world.project.pk, world.options.days)

    assert 30 <= rate <= 60
