"""Every metric kind against values computed by hand on a small fixed world."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from analysis.compare import metric_compute
from analysis.metrics import validate_metric
from analysis.params import DateRange, ParamError
from tests.analysis.conftest import NOW, act, at, page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("events_backend")]

FIRST_HALF = DateRange(date(2026, 6, 1), date(2026, 6, 14))
PRICING = {
    "name": "$pageview",
    "where": [{"property": "$current_url", "operator": "contains", "value": "/pricing"}],
}


@pytest.fixture
def june(collect):
    """Five persons in June (UTC):

    ann: Jun 1 10:00 /pricing, 11:00 signup, Jun 3 purchase 30, Jun 10 purchase 20, Jun 15 /home
    ben: Jun 2 /pricing, Jun 12 signup
    cid: Jun 5 /docs, Jun 6 /docs
    dan: Jun 8 09:00 /pricing, 09:30 signup, 10:00 purchase "15.5"
    eve: Jun 15 /pricing (first seen after the first half of June)
    """
    collect([
        page("ann", "/pricing", at(1, 10)), act("signup", "ann", at(1, 11)),
        act("purchase", "ann", at(3), amount=30), act("purchase", "ann", at(10), amount=20),
        page("ann", "/home", at(15)),
        page("ben", "/pricing", at(2)), act("signup", "ben", at(12)),
        page("cid", "/docs", at(5)), page("cid", "/docs", at(6)),
        page("dan", "/pricing", at(8, 9)), act("signup", "dan", at(8, 9, 30)), act("purchase", "dan", at(8, 10), amount="15.5"),
        page("eve", "/pricing", at(15)),
    ])  # fmt: skip


def value(project, kind: str, definition: dict, date_range: DateRange = FIRST_HALF, now=NOW):
    spec = validate_metric(kind=kind, definition=definition, project=project)
    return metric_compute(project=project, spec=spec, date_range=date_range, now=now)


def test_conversion_is_the_share_of_a_doers_who_did_b_within_the_window(june, project):
    result = value(
        project,
        "conversion",
        {"from": PRICING, "to": {"name": "signup"}, "within": {"value": 7, "unit": "days"}},
    )
    # ann (1 hour) and dan (30 minutes) convert; ben signs up 10 days later; cid never saw pricing
    assert (result.overall.n, result.overall.successes) == (3, 2)
    assert result.overall.value == pytest.approx(2 / 3)


def test_conversion_counts_b_only_strictly_after_a(collect, project):
    collect([act("signup", "zed", at(3, 10)), page("zed", "/pricing", at(3, 11))])
    result = value(
        project,
        "conversion",
        {"from": PRICING, "to": {"name": "signup"}, "within": {"value": 1, "unit": "days"}},
    )
    assert (result.overall.n, result.overall.successes) == (1, 0)


def test_activation_is_the_share_of_new_persons_who_did_x_within_d_days(june, project):
    result = value(project, "activation", {"event": {"name": "signup"}, "within_days": 3})
    # first seen Jun 1 to 14: ann, ben, cid, dan; ann and dan signed up the same day
    assert (result.overall.n, result.overall.successes) == (4, 2)


def test_retention_is_the_share_who_came_back_in_week_n_after_first_seen(june, project):
    result = value(project, "retention", {"event": None, "period": "week", "n": 1})
    # week 1 of ann is [Jun 8 10:00, Jun 15 10:00): purchase Jun 10. ben [Jun 9, Jun 16): signup Jun 12.
    # cid came back in week 0 only, dan never.
    assert (result.overall.n, result.overall.successes) == (4, 2)


def test_retention_of_a_chosen_event(june, project):
    result = value(project, "retention", {"event": {"name": "purchase"}, "period": "day", "n": 2})
    # day 2 of ann is [Jun 3 10:00, Jun 4 10:00): purchase Jun 3 12:00
    assert (result.overall.n, result.overall.successes) == (4, 1)


def test_churn_is_the_share_with_no_activity_for_d_days_after_their_last_event(june, project):
    result = value(project, "churn", {"days": 7})
    # ann's last event of the range (Jun 10) is followed on Jun 15; ben, cid and dan are never seen again
    assert (result.overall.n, result.overall.successes) == (4, 3)


def test_value_per_active_person_counts_persons_without_the_event_as_zero(june, project):
    result = value(
        project,
        "value",
        {"event": {"name": "purchase"}, "property": "amount", "aggregate": "sum", "per": "active"},
    )
    # ann 30 + 20, ben 0, cid 0, dan "15.5" (numeric strings count)
    assert result.overall.n == 4
    assert result.overall.value == pytest.approx((50 + 0 + 0 + 15.5) / 4)


def test_value_per_buyer_and_average_order_value(june, project):
    total = value(
        project,
        "value",
        {"event": {"name": "purchase"}, "property": "amount", "aggregate": "sum", "per": "performer"},
    )
    average = value(
        project, "value", {"event": {"name": "purchase"}, "property": "amount", "aggregate": "avg"}
    )
    assert (total.overall.n, total.overall.value) == (2, pytest.approx((50 + 15.5) / 2))
    assert (average.overall.n, average.overall.value) == (2, pytest.approx((25 + 15.5) / 2))


def test_frequency_is_events_per_active_day(june, project):
    every = value(project, "frequency", {"event": None})
    purchases = value(project, "frequency", {"event": {"name": "purchase"}})
    # ann 4 events on 3 days, ben 2 on 2, cid 2 on 2, dan 3 on 1
    assert every.overall.value == pytest.approx((4 / 3 + 1 + 1 + 3) / 4)
    assert purchases.overall.value == pytest.approx((2 / 3 + 0 + 0 + 1) / 4)


def test_persons_whose_window_is_still_open_are_left_out(june, project):
    early = NOW.replace(day=17, hour=6)
    with time_machine.travel(early, tick=False):
        result = value(project, "churn", {"days": 7}, now=early)
    # on Jun 17 06:00 a week has passed since cid's (Jun 6) and dan's (Jun 8) last events,
    # not since ann's (Jun 10 12:00) or ben's (Jun 12)
    assert (result.overall.n, result.still_open) == (2, 2)
    assert result.overall.successes == 2


def test_a_metric_over_an_action_uses_the_action_steps(june, project):
    from tracking.services.actions import action_create

    action = action_create(project=project, user=None, name="Bought", steps=[{"event": "purchase"}])
    result = value(project, "activation", {"event": {"action": action.pk}, "within_days": 3})
    # ann bought on Jun 3 (2 days after first seen), dan on his first day
    assert (result.overall.n, result.overall.successes) == (4, 2)


@pytest.mark.parametrize(
    ("kind", "definition", "field"),
    [
        ("conversion", {"from": PRICING, "to": {"name": ""}}, "definition.to.name"),
        (
            "conversion",
            {"from": PRICING, "to": {"name": "x"}, "within": {"value": 0, "unit": "days"}},
            "definition.within.value",
        ),
        (
            "conversion",
            {"from": PRICING, "to": {"name": "x"}, "within": {"value": 2, "unit": "weeks"}},
            "definition.within.unit",
        ),
        (
            "activation",
            {"event": {"name": "x", "where": [{"property": "p", "operator": "between", "value": 1}]}},
            "definition.event.where[0].operator",
        ),
        ("activation", {"event": {"action": 999999}}, "definition.event.action"),
        ("retention", {"period": "month", "n": 1}, "definition.period"),
        ("churn", {"days": -3}, "definition.days"),
        ("value", {"event": {"name": "purchase"}, "aggregate": "sum"}, "definition.property"),
        (
            "value",
            {"event": {"name": "purchase"}, "property": "amount", "aggregate": "median"},
            "definition.aggregate",
        ),
        ("frequency", {"event": None, "every": 2}, "definition.every"),
        ("median", {}, "kind"),
    ],
)
def test_an_invalid_definition_names_the_field(project, kind, definition, field):
    with pytest.raises(ParamError) as error:
        validate_metric(kind=kind, definition=definition, project=project)
    assert field in error.value.errors, error.value.errors


def test_windows_end_where_they_say(collect, project):
    # first seen Jun 1 12:00; signup exactly 3 days later counts (within D days, both ends included)
    collect([page("amy", "/", at(1)), act("signup", "amy", at(4))])
    assert (
        value(project, "activation", {"event": {"name": "signup"}, "within_days": 3}).overall.successes == 1
    )
    assert (
        value(project, "activation", {"event": {"name": "signup"}, "within_days": 2}).overall.successes == 0
    )
