"""Fisher's exact test for two proportions, against SciPy's fisher_exact and exact values."""

from __future__ import annotations

import random
from fractions import Fraction
from math import comb

import pytest
from scipy.stats import fisher_exact

from analysis import stats


def _exact_p(x1: int, n1: int, x2: int, n2: int) -> Fraction:
    """Two-sided p by exact rational arithmetic: every table no more likely than the observed one."""
    total = x1 + x2
    denominator = comb(n1 + n2, total)

    def probability(k: int) -> Fraction:
        return Fraction(comb(n1, k) * comb(n2, total - k), denominator)

    observed = probability(x1)
    support = range(max(0, total - n2), min(total, n1) + 1)
    return sum((probability(k) for k in support if probability(k) <= observed), Fraction(0))


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "exact"),
    [
        (3, 3, 0, 3, Fraction(1, 10)),  # two tables of 1/20 each
        (1, 10, 11, 14, None),
        (8, 10, 1, 6, None),
        (5, 10, 2, 12, None),
        (0, 228, 0, 72, Fraction(1)),
    ],
)
def test_fisher_matches_exact_rational_values(x1, n1, x2, n2, exact):
    expected = exact if exact is not None else _exact_p(x1, n1, x2, n2)
    assert stats.fisher_exact_p(x1, n1, x2, n2) == pytest.approx(float(expected), rel=1e-12)


def test_fisher_matches_scipy_on_many_tables():
    rng = random.Random(7)
    for _ in range(400):
        n1, n2 = rng.randint(1, 90), rng.randint(1, 500)
        x1, x2 = rng.randint(0, n1), rng.randint(0, n2)
        expected = fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue
        assert stats.fisher_exact_p(x1, n1, x2, n2) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_the_obvious_difference_from_the_comparison_page_is_significant():
    # 2 of 87 against 213 of 473: the z-test applies (every expected count is large enough)
    test = stats.rates_test(213, 473, 2, 87)
    assert test is not None and test.method == "z" and test.p_value < 1e-10
    assert stats.fisher_exact_p(2, 87, 213, 473) == pytest.approx(
        fisher_exact([[2, 85], [213, 260]]).pvalue, rel=1e-9
    )


def test_small_counts_get_fishers_test_and_large_ones_the_z_test():
    small = stats.rates_test(1, 15, 7, 15)  # 4 successes expected per group
    assert small.method == "fisher" and small.statistic is None
    assert small.p_value == pytest.approx(fisher_exact([[1, 14], [7, 8]]).pvalue, rel=1e-9)
    large = stats.rates_test(200, 1000, 260, 1000)
    assert large.method == "z" and large.p_value == pytest.approx(
        stats.proportion_test(200, 1000, 260, 1000).p_value
    )


def test_safari_against_the_rest_of_a_funnel_step_is_testable():
    # 6 of 12 Safari people paid against 284 of 288 others: only 4 failures among the others
    test = stats.rates_test(284, 288, 6, 12)
    assert test.method == "fisher" and test.significant()


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "reason"),
    [
        (1, 2, 0, 2, "even the most lopsided split of 4 persons could not be significant"),
        (4, 4, 1, 4, "even the most lopsided split of 8 persons could not be significant"),
        (0, 50, 0, 40, "nobody in either group succeeded"),
        (50, 50, 40, 40, "everybody in both groups succeeded"),
        (0, 0, 3, 10, "a group has nobody in it"),
    ],
)
def test_too_small_only_when_no_test_can_tell(x1, n1, x2, n2, reason):
    assert stats.rates_untestable(x1, n1, x2, n2) == reason
    assert stats.rates_test(x1, n1, x2, n2) is None


def test_the_smallest_attainable_p_is_the_most_lopsided_table():
    # 3 successes among 3 + 3 persons: all three in one group is 1/20, two-sided 1/10
    assert stats.fisher_smallest_p(3, 3, 3) == pytest.approx(0.1)
    assert stats.rates_untestable(3, 3, 0, 3) is not None
    assert stats.rates_untestable(4, 4, 0, 4) is None  # 1/35 each side: 0.029


def test_bad_tables_are_refused():
    with pytest.raises(ValueError):
        stats.fisher_exact_p(5, 4, 0, 3)


def test_one_p_value_wording():
    assert stats.p_text(None) == "—"
    assert stats.p_text(0.0004) == "p < 0.001"
    assert stats.p_text(0.0012) == "p = 0.001"
    assert stats.p_text(0.2) == "p = 0.200"
