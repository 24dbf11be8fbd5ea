"""Comparing segments on a metric: values, sizes, intervals, differences and tests, by hand and by SciPy."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sp
from scipy.stats import fisher_exact

from analysis import stats
from analysis.compare import compare_compute, compare_params
from analysis.params import ParamError
from analysis.services import metric_create
from segments.models import Segment, SegmentMembership
from tests.analysis.conftest import NOW, act, at, page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("events_backend")]

ACTIVATED = {"event": {"name": "signup"}, "within_days": 7}


@pytest.fixture
def teams(collect, segment_of):
    """The blended average: 150 persons first seen on Jun 3, 36% activate —
    48 of 60 developers (80%) and 6 of 90 marketers (6.7%)."""
    events = []
    for i in range(60):
        events.append(page(f"dev-{i}", "/", at(3)))
        if i < 48:
            events.append(act("signup", f"dev-{i}", at(4)))
    for i in range(90):
        events.append(page(f"mkt-{i}", "/", at(3)))
        if i < 6:
            events.append(act("signup", f"mkt-{i}", at(5)))
    collect(events)
    return {
        "dev": segment_of("Developers", [f"dev-{i}" for i in range(60)]),
        "mkt": segment_of("Marketers", [f"mkt-{i}" for i in range(90)]),
        "few": segment_of("A few developers", [f"dev-{i}" for i in range(10)]),
    }


@pytest.fixture
def activation(project):
    return metric_create(project=project, name="Activated in 7 days", kind="activation", definition=ACTIVATED)


def compare(project, **params):
    params = {"date_from": "2026-06-01", "date_to": "2026-06-14", **params}
    return compare_compute(project=project, query=compare_params(params, project=project), now=NOW)


def test_a_blended_rate_splits_into_segments_that_differ(teams, activation, project):
    result = compare(project, metric=activation.pk, segments=[teams["dev"].pk, teams["mkt"].pk])
    assert (result.overall.n, result.overall.successes) == (150, 54)
    assert result.overall.value == pytest.approx(0.36)
    dev, mkt = result.groups
    assert (dev.label, dev.n, dev.successes, dev.value) == ("Developers", 60, 48, pytest.approx(0.8))
    assert (mkt.label, mkt.n, mkt.successes, mkt.value) == ("Marketers", 90, 6, pytest.approx(6 / 90))
    assert mkt.difference == pytest.approx(6 / 90 - 0.8)
    pooled = 54 / 150
    z = (6 / 90 - 48 / 60) / math.sqrt(pooled * (1 - pooled) * (1 / 60 + 1 / 90))
    assert mkt.test.statistic == pytest.approx(z)
    assert mkt.test.p_value == pytest.approx(2 * sp.norm.sf(abs(z)))
    assert mkt.conclusion == "significantly lower"
    assert dev.conclusion == "reference"
    assert (dev.interval.low, dev.interval.high) == (
        pytest.approx(stats.wilson_interval(48, 60).low),
        pytest.approx(stats.wilson_interval(48, 60).high),
    )


def test_one_segment_against_everyone_else(teams, activation, project):
    result = compare(project, metric=activation.pk, segments=[teams["mkt"].pk], vs_rest=True)
    inside, outside = result.groups
    assert (inside.label, inside.n, inside.successes) == ("Marketers", 90, 6)
    assert (outside.label, outside.n, outside.successes) == ("Not in Marketers", 60, 48)
    assert outside.conclusion == "significantly higher"


def test_a_small_group_is_tested_exactly_instead_of_refused(teams, activation, project):
    result = compare(project, metric=activation.pk, segments=[teams["mkt"].pk, teams["few"].pk])
    few = result.groups[1]
    assert (few.n, few.successes) == (10, 10)  # against 6 of 90 marketers
    assert few.too_small is None
    assert few.test.method == "fisher" and few.test.statistic is None
    assert few.test.p_value == pytest.approx(fisher_exact([[6, 84], [10, 0]]).pvalue, rel=1e-9)
    assert few.conclusion == "significantly higher"
    assert few.to_json()["significant"] is True and few.to_json()["test"] == "fisher"


def test_a_group_is_too_small_only_when_no_test_can_tell(teams, activation, project, segment_of):
    two = segment_of("Two developers", ["dev-0", "dev-1"])
    three = segment_of("Three marketers", ["mkt-10", "mkt-11", "mkt-12"])
    result = compare(project, metric=activation.pk, segments=[two.pk, three.pk])
    small = result.groups[1]
    assert small.n == 3 and small.test is None and small.significant is None
    assert small.conclusion == "too small to conclude"
    assert small.too_small == "even the most lopsided split of 5 persons could not be significant"


def test_overlapping_segments_count_a_person_in_both(teams, activation, project):
    result = compare(project, metric=activation.pk, segments=[teams["dev"].pk, teams["few"].pk])
    assert [g.n for g in result.groups] == [60, 10]


def test_only_current_members_count(teams, activation, project):
    # two developers left the segment: their membership period is closed
    left = SegmentMembership.objects.filter(segment=teams["dev"]).order_by("person_id")[:2]
    SegmentMembership.objects.filter(pk__in=[m.pk for m in left]).update(exited_at=NOW)
    result = compare(project, metric=activation.pk, segments=[teams["dev"].pk, teams["mkt"].pk])
    assert result.groups[0].n == 58


@pytest.fixture
def spenders(collect, segment_of):
    """One purchase each in June: 35 "regulars" spending 10 + i mod 7, 32 "whales" spending 14 + 2·(i mod 5)."""
    regulars = [10.0 + i % 7 for i in range(35)]
    whales = [14.0 + 2 * (i % 5) for i in range(32)]
    events = [act("purchase", f"reg-{i}", at(5), amount=v) for i, v in enumerate(regulars)]
    events += [act("purchase", f"whale-{i}", at(6), amount=v) for i, v in enumerate(whales)]
    collect(events)
    return {
        "regulars": segment_of("Regulars", [f"reg-{i}" for i in range(35)]),
        "whales": segment_of("Whales", [f"whale-{i}" for i in range(32)]),
        "values": (regulars, whales),
    }


def test_means_are_compared_with_welchs_t_test(spenders, project):
    metric = {
        "kind": "value",
        "definition": {"event": {"name": "purchase"}, "property": "amount", "aggregate": "sum"},
    }
    result = compare(project, metric=metric, segments=[spenders["regulars"].pk, spenders["whales"].pk])
    regulars, whales = spenders["values"]
    reference, group = result.groups
    assert reference.value == pytest.approx(sum(regulars) / len(regulars))
    assert group.value == pytest.approx(sum(whales) / len(whales))
    expected = sp.ttest_ind(whales, regulars, equal_var=False)
    assert group.test.statistic == pytest.approx(expected.statistic)
    assert group.test.p_value == pytest.approx(expected.pvalue)
    assert group.test.df == pytest.approx(expected.df)
    low, high = sp.t.interval(0.95, len(regulars) - 1, loc=reference.value, scale=sp.sem(regulars))
    assert (reference.interval.low, reference.interval.high) == (pytest.approx(low), pytest.approx(high))
    assert group.conclusion == "significantly higher"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"segments": [1, 2]}, "metric"),
        ({"metric": 99999, "segments": [1, 2]}, "metric"),
        (
            {"metric": {"kind": "churn", "definition": {"days": 0}}, "segments": [1, 2]},
            "metric.definition.days",
        ),
        ({"metric": {"kind": "nope", "definition": {}}, "segments": [1, 2]}, "metric.kind"),
        ({"metric": {"kind": "churn", "definition": {}}, "segments": "1"}, "segments"),
        ({"metric": {"kind": "churn", "definition": {}}, "segments": [99999, 99998]}, "segments[0]"),
        ({"metric": {"kind": "churn", "definition": {}}, "segments": [], "vs_rest": "maybe"}, "vs_rest"),
    ],
)
def test_bad_comparison_parameters_name_the_field(project, params, field):
    with pytest.raises(ParamError) as error:
        compare_params(params, project=project)
    assert field in error.value.errors, error.value.errors


def test_one_segment_needs_in_vs_out(teams, project):
    metric = {"kind": "churn", "definition": {"days": 7}}
    with pytest.raises(ParamError) as error:
        compare_params({"metric": metric, "segments": [teams["dev"].pk]}, project=project)
    assert error.value.errors == {
        "segments": ["choose at least two segments, or one segment against everyone else"]
    }
    with pytest.raises(ParamError) as error:
        compare_params(
            {"metric": metric, "segments": [teams["dev"].pk, teams["mkt"].pk], "vs_rest": True},
            project=project,
        )
    assert error.value.errors == {"segments": ["in vs out compares exactly one segment with everyone else"]}


# -- circular comparisons ----------------------------------------------------------------------


def _dynamic(project, name: str, definition: dict) -> Segment:
    from segments.services import segment_create

    return segment_create(project=project, name=name, definition=definition)


def test_a_segment_defined_by_the_metrics_outcome_is_called_circular(teams, activation, project):
    never = _dynamic(project, "Never signed up", {"match": "all", "conditions": [
        {"type": "behavior", "event": {"name": "signup"}, "count": {"operator": "eq", "value": 0}}]})  # fmt: skip
    result = compare(project, metric=activation.pk, segments=[never.pk], vs_rest=True)
    assert result.warnings == [
        "“Never signed up” is defined by signup, which Activated in 7 days measures: "
        "its members differ on it by construction, so the comparison is circular."
    ]
    assert result.to_json()["warnings"] == result.warnings


def test_the_outcome_is_found_through_actions_sequences_and_referenced_segments(teams, activation, project):
    from tracking.services.actions import action_create

    signed = action_create(project=project, user=None, name="Signed up", steps=[{"event": "signup"}])
    by_action = _dynamic(project, "By action", {"match": "all", "conditions": [
        {"type": "behavior", "event": {"action": signed.pk}, "count": {"operator": "gte", "value": 1}}]})  # fmt: skip
    sequence = _dynamic(project, "Viewed then did not sign up", {"match": "all", "conditions": [
        {"type": "sequence", "steps": [{"name": "$pageview"}, {"name": "signup"}], "last_step": "did_not", "within_days": 7}]})  # fmt: skip
    nested = _dynamic(
        project, "Nested", {"match": "all", "conditions": [{"type": "segment", "segment": sequence.pk}]}
    )
    result = compare(project, metric=activation.pk, segments=[by_action.pk, sequence.pk, nested.pk])
    assert [w.split("”")[0].lstrip("“") for w in result.warnings] == [
        "By action",
        "Viewed then did not sign up",
        "Nested",
    ]


def test_segments_by_other_facts_are_not_circular(teams, activation, project):
    result = compare(project, metric=activation.pk, segments=[teams["dev"].pk, teams["mkt"].pk])
    assert result.warnings == []
    viewers = _dynamic(project, "Page viewers", {"match": "all", "conditions": [
        {"type": "behavior", "event": {"name": "$pageview"}, "count": {"operator": "gte", "value": 1}}]})  # fmt: skip
    assert compare(project, metric=activation.pk, segments=[viewers.pk], vs_rest=True).warnings == []


def test_churn_against_a_segment_defined_by_activity_is_circular(teams, project):
    churn = metric_create(project=project, name="Churn", kind="churn", definition={"days": 14})
    quiet = _dynamic(project, "Quiet", {"match": "all", "conditions": [{"type": "last_seen", "operator": "before_last_days", "value": 30}]})  # fmt: skip
    [warning] = compare(project, metric=churn.pk, segments=[quiet.pk], vs_rest=True).warnings
    assert warning.startswith("“Quiet” is defined by activity")
