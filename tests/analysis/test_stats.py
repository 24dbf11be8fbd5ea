"""The statistics against SciPy's numbers on fixed inputs (SciPy is a test-only dependency)."""

from __future__ import annotations

import math

import pytest
from scipy import special
from scipy import stats as sp

from analysis import stats

SAMPLES = [
    ([12.0, 15.5, 9.0, 22.0, 18.25, 11.0, 14.0], [30.0, 25.0, 41.5, 28.0, 35.0]),
    ([0.0, 0.0, 1.0, 3.0, 0.0, 2.0, 0.0, 5.0, 1.0, 0.0], [2.0, 3.0, 2.5, 4.0, 3.5, 6.0, 2.0, 3.0, 1.5]),
    ([100.0, 101.0, 99.5, 100.5], [100.2, 100.9, 99.8, 100.4, 100.1, 100.0]),
    ([1.0, 1000.0, 3.0, 7.0, 2.0, 950.0], [5.0, 6.0, 4.0, 5.5]),
]


def summary(values: list[float]) -> tuple[float, float, int]:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return mean, sd, n


@pytest.mark.parametrize(
    ("a", "b", "x"),
    [
        (0.5, 0.5, 0.3),
        (2, 3, 0.01),
        (2, 3, 0.99),
        (10, 0.5, 0.8),
        (150.5, 0.5, 0.97),
        (3000, 0.5, 0.999),
        (1, 1, 0.42),
    ],
)
def test_the_incomplete_beta_function_matches_scipy(a, b, x):
    assert stats.regularized_incomplete_beta(a, b, x) == pytest.approx(
        special.betainc(a, b, x), rel=1e-10, abs=1e-14
    )


@pytest.mark.parametrize("df", [1, 2, 3.5, 7, 29, 120, 5000])
def test_t_quantiles_and_tails_match_scipy(df):
    assert stats.t_quantile(0.975, df) == pytest.approx(sp.t.ppf(0.975, df), rel=1e-9)
    assert stats.t_two_sided_p(2.3, df) == pytest.approx(2 * sp.t.sf(2.3, df), rel=1e-9)
    assert stats.t_cdf(-1.1, df) == pytest.approx(sp.t.cdf(-1.1, df), rel=1e-9)


@pytest.mark.parametrize(("reference", "group"), SAMPLES)
def test_welch_t_test_matches_scipy(reference, group):
    ours = stats.welch_test(*summary(reference), *summary(group))
    theirs = sp.ttest_ind(group, reference, equal_var=False)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-9)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-8)
    assert ours.df == pytest.approx(theirs.df, rel=1e-9)


@pytest.mark.parametrize(("reference", "group"), SAMPLES)
def test_welch_difference_interval_matches_scipy(reference, group):
    interval = stats.welch_difference_interval(*summary(reference), *summary(group))
    theirs = sp.ttest_ind(group, reference, equal_var=False).confidence_interval(0.95)
    assert (interval.low, interval.high) == (
        pytest.approx(theirs.low, rel=1e-8),
        pytest.approx(theirs.high, rel=1e-8),
    )


@pytest.mark.parametrize("values", [s[0] for s in SAMPLES])
def test_mean_interval_is_the_student_t_interval(values):
    mean, sd, n = summary(values)
    low, high = sp.t.interval(0.95, n - 1, loc=mean, scale=sd / math.sqrt(n))
    interval = stats.mean_interval(mean, sd, n)
    assert (interval.low, interval.high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2"),
    [(40, 100, 55, 100), (320, 800, 120, 400), (5, 60, 30, 70), (499, 1000, 501, 1000)],
)
def test_two_proportion_z_test_matches_the_normal_distribution(x1, n1, x2, n2):
    pooled = (x1 + x2) / (n1 + n2)
    z = (x2 / n2 - x1 / n1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    result = stats.proportion_test(x1, n1, x2, n2)
    assert result.statistic == pytest.approx(z, rel=1e-12)
    assert result.p_value == pytest.approx(2 * sp.norm.sf(abs(z)), rel=1e-9)


@pytest.mark.parametrize(("x", "n"), [(0, 40), (3, 40), (20, 40), (40, 40), (123, 1000)])
def test_wilson_interval_matches_its_formula_with_scipys_normal_quantile(x, n):
    z = sp.norm.ppf(0.975)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    interval = stats.wilson_interval(x, n)
    assert interval.low == pytest.approx(max(0.0, centre - half), abs=1e-12)
    assert interval.high == pytest.approx(min(1.0, centre + half), abs=1e-12)
    assert interval.low <= p <= interval.high


def test_difference_interval_of_proportions_is_the_unpooled_normal_interval():
    z = sp.norm.ppf(0.975)
    half = z * math.sqrt(0.4 * 0.6 / 100 + 0.55 * 0.45 / 100)
    interval = stats.proportion_difference_interval(40, 100, 55, 100)
    assert (interval.low, interval.high) == (pytest.approx(0.15 - half), pytest.approx(0.15 + half))


def test_identical_extreme_rates_show_no_difference():
    assert stats.proportion_test(0, 50, 0, 80).p_value == 1.0
    assert stats.proportion_test(50, 50, 80, 80).p_value == 1.0


def test_constant_groups_differ_for_certain_or_not_at_all():
    assert stats.welch_test(3.0, 0.0, 10, 3.0, 0.0, 12).p_value == 1.0
    assert stats.welch_test(3.0, 0.0, 10, 4.0, 0.0, 12).p_value == 0.0


def test_small_groups_are_called_too_small_to_conclude():
    assert stats.rate_too_small(10, 29) == "only 29 persons (fewer than 30)"
    assert stats.rate_too_small(4, 100) == "only 4 successes (fewer than 5)"
    assert stats.rate_too_small(97, 100) == "only 3 failures (fewer than 5)"
    assert stats.rate_too_small(50, 100) is None
    assert stats.mean_too_small(12) == "only 12 persons (fewer than 30)"
    assert stats.mean_too_small(30) is None
