"""Funnels: step counts by hand, the conversion window, breakdowns, and who dropped."""

from __future__ import annotations

import pytest

from analysis.funnels import funnel_compute, funnel_dropped_persons, funnel_params
from analysis.params import ParamError
from tests.analysis.conftest import UA_FIREFOX, UA_SAFARI, act, at, page
from tracking.models import PersonDistinctId

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("events_backend")]

PRICING = {
    "name": "$pageview",
    "where": [{"property": "$current_url", "operator": "contains", "value": "/pricing"}],
}
STEPS = [PRICING, {"name": "signup"}, {"name": "purchase"}]


def run(project, **params):
    params = {
        "steps": STEPS,
        "within": {"value": 1, "unit": "days"},
        "date_from": "2026-06-01",
        "date_to": "2026-06-14",
        **params,
    }
    query = funnel_params(params, project=project)
    return funnel_compute(project=project, query=query)


def counts(row) -> list[int]:
    return [step.count for step in row.steps]


def person_id(project, distinct_id: str) -> int:
    return PersonDistinctId.objects.get(project=project, distinct_id=distinct_id).person_id


@pytest.fixture
def attempts(collect):
    """
    ann: pricing → signup → purchase within hours                       (completes)
    ben: pricing → signup, purchase two days later                      (stops at signup: outside the window)
    cid: signup, then pricing                                           (stops at pricing: wrong order)
    dan: pricing Jun 2, signup Jun 5 (too late); pricing Jun 9, signup and purchase the same day   (completes, second try)
    eve: pricing Jun 14 23:00, signup Jun 15 01:00, purchase Jun 15 02:00  (completes after the range ends)
    fay: pricing May 31, signup Jun 1                                   (not in the funnel: step 1 before the range)
    """
    collect([
        page("ann", "/pricing", at(3, 9)), act("signup", "ann", at(3, 10)), act("purchase", "ann", at(3, 11)),
        page("ben", "/pricing", at(4, 9)), act("signup", "ben", at(4, 10)), act("purchase", "ben", at(6, 11)),
        act("signup", "cid", at(5, 9)), page("cid", "/pricing", at(5, 10)),
        page("dan", "/pricing", at(2, 9)), act("signup", "dan", at(5, 9)),
        page("dan", "/pricing", at(9, 9)), act("signup", "dan", at(9, 10)), act("purchase", "dan", at(9, 12)),
        page("eve", "/pricing", at(14, 23)), act("signup", "eve", at(15, 1)), act("purchase", "eve", at(15, 2)),
        page("fay", "/pricing", at(31, 9, month=5)), act("signup", "fay", at(1, 9)),
    ])  # fmt: skip


def test_a_funnel_counts_persons_who_reached_each_step_in_order_within_the_window(attempts, project):
    result = run(project)
    assert counts(result.overall) == [5, 4, 3]
    assert [s.dropped for s in result.overall.steps] == [1, 1, 0]
    assert result.overall.conversion == pytest.approx(3 / 5)
    assert result.overall.steps[1].step_rate == pytest.approx(4 / 5)
    assert result.overall.steps[2].step_rate == pytest.approx(3 / 4)


def test_a_wider_window_lets_slower_persons_through(attempts, project):
    assert counts(run(project, within={"value": 3, "unit": "days"}).overall) == [5, 4, 4]
    assert counts(run(project, within={"value": 30, "unit": "minutes"}).overall) == [5, 0, 0]


def test_the_dropped_sample_names_who_stopped_at_each_step(attempts, project):
    result = run(project)
    assert result.overall.steps[0].dropped_ids == [person_id(project, "cid")]
    assert result.overall.steps[1].dropped_ids == [person_id(project, "ben")]


def test_persons_who_dropped_after_a_step_are_listed_earliest_first(attempts, project):
    query = funnel_params(
        {
            "steps": STEPS,
            "within": {"value": 1, "unit": "days"},
            "date_from": "2026-06-01",
            "date_to": "2026-06-14",
        },
        project=project,
    )
    page_ = funnel_dropped_persons(project=project, query=query, step=2)
    assert page_.total == 1
    assert [p.pk for p, _ in page_.persons] == [person_id(project, "ben")]
    with pytest.raises(ParamError) as error:
        funnel_dropped_persons(project=project, query=query, step=3)
    assert "step" in error.value.errors


def test_an_action_can_be_a_step(attempts, project):
    from tracking.services.actions import action_create

    bought = action_create(project=project, user=None, name="Bought", steps=[{"event": "purchase"}])
    result = run(project, steps=[PRICING, {"action": bought.pk}], within={"value": 1, "unit": "days"})
    assert counts(result.overall) == [5, 3]


@pytest.fixture
def checkout(collect):
    """40 persons per browser view the cart, start checkout, and most buy — except on Safari.

    Chrome: 40 cart, 38 checkout, 36 purchase. Firefox: 40, 37, 33. Safari: 40, 38, 8.
    Persons with an odd number are on the "pro" plan, the others on "free".
    """
    plans = {"chrome": (None, 38, 36), "firefox": (UA_FIREFOX, 37, 33), "safari": (UA_SAFARI, 38, 8)}
    for browser, (ua, started, bought) in plans.items():
        events = []
        for i in range(40):
            who = f"{browser}-{i}"
            events.append(page(who, "/cart", at(10, 9), **{"$set": {"plan": "pro" if i % 2 else "free"}}))
            if i < started:
                events.append(act("checkout_started", who, at(10, 9, 5)))
            if i < bought:
                events.append(act("purchase", who, at(10, 9, 10)))
        collect(events, headers={"HTTP_USER_AGENT": ua} if ua else None)


CHECKOUT = [
    {"name": "$pageview", "where": [{"property": "$current_url", "operator": "contains", "value": "/cart"}]},
    {"name": "checkout_started"},
    {"name": "purchase"},
]


def test_a_breakdown_by_browser_singles_out_the_browser_whose_checkout_fails(checkout, project):
    result = run(project, steps=CHECKOUT, breakdown={"type": "browser"})
    rows = {row.label: counts(row) for row in result.rows}
    assert rows == {"Chrome": [40, 38, 36], "Firefox": [40, 37, 33], "Safari": [40, 38, 8]}
    assert counts(result.overall) == [120, 113, 77]
    highlight = result.highlight
    assert highlight is not None
    assert (highlight.row.label, highlight.step) == ("Safari", 3)
    assert highlight.rate == pytest.approx(8 / 38)
    assert highlight.rest_rate == pytest.approx((36 + 33) / (38 + 37))
    assert highlight.p_value < 0.05 / result.tests
    safari = next(row for row in result.rows if row.label == "Safari")
    assert [s.deviation for s in safari.steps] == [None, None, "low"]


@pytest.fixture
def paying(collect):
    """Who clicks pay: 60 on Chrome (59 pay), 20 on Firefox (all pay), 10 on Safari (5 pay)."""
    for browser, ua, n, paid in (
        ("chrome", None, 60, 59),
        ("firefox", UA_FIREFOX, 20, 20),
        ("safari", UA_SAFARI, 10, 5),
    ):
        events = []
        for i in range(n):
            who = f"{browser}-{i}"
            events.append(act("clicked_pay", who, at(10, 9)))
            if i < paid:
                events.append(act("purchase", who, at(10, 9, 5)))
        collect(events, headers={"HTTP_USER_AGENT": ua} if ua else None)


def test_a_funnel_of_actions_singles_out_a_group_when_almost_everyone_else_passes(paying, project):
    from tracking.services.actions import action_create

    clicked = action_create(project=project, user=None, name="Clicked pay", steps=[{"event": "clicked_pay"}])
    paid = action_create(project=project, user=None, name="Paid", steps=[{"event": "purchase"}])
    result = run(project, steps=[{"action": clicked.pk}, {"action": paid.pk}], breakdown={"type": "browser"})
    assert {row.label: counts(row) for row in result.rows} == {
        "Chrome": [60, 59],
        "Firefox": [20, 20],
        "Safari": [10, 5],
    }
    # one failure among the 80 others: the z-test's conditions fail, Fisher's exact test does not
    highlight = result.highlight
    assert highlight is not None and (highlight.row.label, highlight.step) == ("Safari", 2)
    assert highlight.p_value < 0.05 / result.tests


def test_no_value_is_singled_out_when_the_browsers_behave_alike(checkout, project):
    result = run(project, steps=CHECKOUT[:2], breakdown={"type": "browser"})
    assert result.highlight is None


def test_a_breakdown_by_person_property_and_by_segment(checkout, project, segment_of):
    by_plan = run(project, steps=CHECKOUT, breakdown={"type": "person", "property": "plan"})
    # started: i < 38 / 37 / 38, bought: i < 36 / 33 / 8 — split by the parity of i
    assert [(row.label, counts(row)) for row in by_plan.rows] == [
        ("free", [60, 57, 39]),
        ("pro", [60, 56, 38]),
    ]
    assert by_plan.highlight is None
    safari = segment_of("Safari users", [f"safari-{i}" for i in range(40)])
    early = segment_of("First ten", [f"chrome-{i}" for i in range(10)] + [f"safari-{i}" for i in range(10)])
    by_segment = run(
        project, steps=CHECKOUT, breakdown={"type": "segment", "segments": [safari.pk, early.pk]}
    )
    assert [(row.label, counts(row)) for row in by_segment.rows] == [
        ("Safari users", [40, 38, 8]),
        ("First ten", [20, 20, 18]),
    ]
    assert by_segment.highlight is not None and by_segment.highlight.row.label == "Safari users"


def test_persons_who_dropped_can_be_listed_for_one_breakdown_value(checkout, project):
    query = funnel_params(
        {
            "steps": CHECKOUT,
            "date_from": "2026-06-01",
            "date_to": "2026-06-14",
            "breakdown": {"type": "browser"},
        },
        project=project,
    )
    page_ = funnel_dropped_persons(project=project, query=query, step=2, value="Safari")
    assert page_.total == 30
    expected = {person_id(project, f"safari-{i}") for i in range(8, 38)}
    assert {p.pk for p, _ in page_.persons} == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"steps": [PRICING]}, "steps"),
        ({"steps": [PRICING, {"name": ""}]}, "steps[1].name"),
        ({"steps": [PRICING, {"action": 424242}]}, "steps[1].action"),
        ({"steps": STEPS, "within": {"value": 400, "unit": "days"}}, "within.value"),
        ({"steps": STEPS, "breakdown": {"type": "planet"}}, "breakdown.type"),
        ({"steps": STEPS, "breakdown": {"type": "person"}}, "breakdown.property"),
        ({"steps": STEPS, "breakdown": {"type": "segment", "segments": [987654]}}, "breakdown.segments[0]"),
        ({"steps": STEPS, "date_from": "2026-06-10", "date_to": "2026-06-01"}, "date_to"),
        ({"steps": STEPS, "date_from": "June"}, "date_from"),
        ({"steps": STEPS, "colour": "red"}, "colour"),
    ],
)
def test_bad_parameters_name_the_field(project, params, field):
    with pytest.raises(ParamError) as error:
        funnel_params(params, project=project)
    assert field in error.value.errors, error.value.errors


def test_another_projects_segment_is_not_found(project, other_project):
    from segments.services import segment_upload

    theirs = segment_upload(project=other_project, name="Theirs", identifiers=["x"]).segment
    with pytest.raises(ParamError) as error:
        funnel_params(
            {"steps": STEPS, "breakdown": {"type": "segment", "segments": [theirs.pk]}}, project=project
        )
    assert error.value.errors == {"breakdown.segments[0]": [f"no segment {theirs.pk} in this project"]}


def test_dates_are_whole_days_in_the_projects_time_zone(collect, project):
    project.timezone = "America/New_York"
    project.save(update_fields=["timezone"])
    # Jun 15 02:00 UTC is still Jun 14 in New York; Jun 1 03:00 UTC is still May 31 there
    collect([
        page("late", "/pricing", at(15, 2)), act("signup", "late", at(15, 3)),
        page("early", "/pricing", at(1, 3)), act("signup", "early", at(1, 4)),
    ])  # fmt: skip
    result = run(project, steps=STEPS[:2])
    assert counts(result.overall) == [1, 1]


def test_a_page_past_the_last_still_knows_the_total(attempts, project):
    query = funnel_params(
        {
            "steps": STEPS,
            "within": {"value": 1, "unit": "days"},
            "date_from": "2026-06-01",
            "date_to": "2026-06-14",
        },
        project=project,
    )
    beyond = funnel_dropped_persons(project=project, query=query, step=1, limit=10, offset=10)
    assert (beyond.total, beyond.persons) == (1, [])


def test_an_action_that_matches_any_event_name_is_not_narrowed_to_names(attempts, project):
    from tracking.services.actions import action_create

    pricing = action_create(
        project=project,
        user=None,
        name="Pricing page",
        steps=[{"url": "/pricing", "url_matching": "contains"}],
    )
    result = run(project, steps=[{"action": pricing.pk}, {"name": "signup"}, {"name": "purchase"}])
    assert counts(result.overall) == [5, 4, 3]


def test_a_step_at_the_same_moment_as_a_repeated_step_1_still_chains_from_the_earlier_one(collect, project):
    """
    gus: pricing 9:00, pricing and signup at 10:00 the same microsecond   (signup counts: after the 9:00 pricing)
    hal: pricing and signup at the same moment                           (signup does not count: not strictly later)
    """
    collect([
        page("gus", "/pricing", at(3, 9)), page("gus", "/pricing", at(3, 10)), act("signup", "gus", at(3, 10)),
        page("hal", "/pricing", at(4, 9)), act("signup", "hal", at(4, 9)),
    ])  # fmt: skip
    result = run(project)
    assert counts(result.overall) == [2, 1, 0]
    assert result.overall.steps[0].dropped_ids == [person_id(project, "hal")]
