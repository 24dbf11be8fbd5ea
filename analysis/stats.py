"""The statistics behind segment comparisons and funnel breakdowns.

Rates (conversion, activation, retention, churn) are proportions of persons:
their interval is Wilson's score interval and two groups are compared with the
two-proportion z-test (pooled variance under the null hypothesis) when every
expected cell of the 2×2 table holds at least 5, and with Fisher's exact test
otherwise (`rates_test`), so small groups are tested, not refused. Means (value
per person, frequency) get a Student t interval and are compared with Welch's
t-test, which does not assume equal variances; the t distribution is computed
here from the regularized incomplete beta function, so the product needs no
numerical library at run time. docs/analysis.md states the formulas.

Everything is two-sided at 95% unless a caller asks otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
# Below these a group's interval is too wide, and the normal approximation behind
# the tests too rough, to conclude anything.
MIN_PERSONS = 30
MIN_OUTCOMES = 5

_NORMAL = NormalDist()
_EPSILON = 1e-15
_TINY = 1e-300


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class TestResult:
    """A two-sided test of “the second group differs from the first”; `statistic` is z or t."""

    statistic: float | None
    p_value: float
    df: float | None = None
    method: str = ""  # "z", "t", "fisher"

    def significant(self, alpha: float = ALPHA) -> bool:
        return self.p_value < alpha


# -- distributions ---------------------------------------------------------------------


def normal_quantile(probability: float) -> float:
    return _NORMAL.inv_cdf(probability)


def normal_two_sided_p(z: float) -> float:
    """P(|Z| ≥ |z|) for a standard normal Z; erfc keeps precision far in the tails."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), evaluated with the modified Lentz method.

    The fraction is 1 / (1 + d1 / (1 + d2 / (1 + …))) with
    d(2m+1) = -(a+m)(a+b+m)x / ((a+2m)(a+2m+1)) and d(2m) = m(b-m)x / ((a+2m-1)(a+2m)).
    """
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    result = d
    for m in range(1, 10_000):
        for term in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + term * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + term / c
            c = c if abs(c) > _TINY else _TINY
            step = c * d
            result *= step
        if abs(step - 1.0) < _EPSILON:
            break
    return result


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b) = B(x; a, b) / B(a, b) for a, b > 0 and 0 ≤ x ≤ 1."""
    if not (a > 0 and b > 0):
        raise ValueError("a and b must be positive")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    # The fraction converges quickly only left of the mean (a+1)/(a+b+2); use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| ≥ |t|) for Student's t with `df` (not necessarily whole) degrees of freedom."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    if math.isinf(t):
        return 0.0
    return regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def t_cdf(t: float, df: float) -> float:
    tail = t_two_sided_p(t, df) / 2.0
    return 1.0 - tail if t > 0 else tail


def t_quantile(probability: float, df: float) -> float:
    """The t value below which `probability` of the distribution lies (bisection on t_cdf)."""
    if not 0.0 < probability < 1.0:
        raise ValueError("probability must be strictly between 0 and 1")
    if probability < 0.5:
        return -t_quantile(1.0 - probability, df)
    if probability == 0.5:
        return 0.0
    low, high = 0.0, 1.0
    while t_cdf(high, df) < probability:
        low, high = high, high * 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_cdf(middle, df) < probability:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


# -- proportions -----------------------------------------------------------------------


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval | None:
    """Wilson's score interval for a proportion; None without observations."""
    if n <= 0:
        return None
    z = normal_quantile(1 - (1 - confidence) / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # exactly 0 and 1 at the extremes (rounding would leave them a hair inside)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high)


def proportion_test(x1: int, n1: int, x2: int, n2: int) -> TestResult | None:
    """Two-proportion z-test of group 2 against group 1 (pooled standard error)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        # everyone converted (or no one did) in both groups: no evidence of a difference
        return TestResult(statistic=0.0, p_value=1.0, method="z")
    z = (x2 / n2 - x1 / n1) / se
    return TestResult(statistic=z, p_value=normal_two_sided_p(z), method="z")


# Fisher's exact test conditions on the table's margins: with n1, n2 persons and
# `total` successes in all, the first group's successes follow the hypergeometric
# distribution. Its two-sided p-value sums the probabilities of every table no
# more likely than the observed one (the definition R and SciPy use, with the same
# relative tolerance for ties in floating point).
_FISHER_TIE = 1 + 1e-7


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _fisher_log_pmf(x1: int, n1: int, n2: int, total: int) -> float:
    return _log_choose(n1, x1) + _log_choose(n2, total - x1) - _log_choose(n1 + n2, total)


def fisher_exact_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test on the table [[x1, n1-x1], [x2, n2-x2]]."""
    if n1 <= 0 or n2 <= 0 or not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValueError("each group needs persons, and successes between 0 and its persons")
    total = x1 + x2
    low, high = max(0, total - n2), min(total, n1)
    threshold = _fisher_log_pmf(x1, n1, n2, total) + math.log(_FISHER_TIE)
    p = 0.0
    for k in range(low, high + 1):
        log_p = _fisher_log_pmf(k, n1, n2, total)
        if log_p <= threshold:
            p += math.exp(log_p)
    return min(1.0, p)


def fisher_smallest_p(n1: int, n2: int, total: int) -> float:
    """The smallest p-value Fisher's test can give for these margins: the most lopsided split of `total`."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    low, high = max(0, total - n2), min(total, n1)
    return min(fisher_exact_p(k, n1, total - k, n2) for k in {low, high})


def _needs_exact(x1: int, n1: int, x2: int, n2: int) -> bool:
    """True when an expected cell count is below MIN_OUTCOMES: the normal approximation is too rough."""
    total, n = x1 + x2, n1 + n2
    expected = (n1 * total / n, n1 * (n - total) / n, n2 * total / n, n2 * (n - total) / n)
    return min(expected) < MIN_OUTCOMES


def rates_test(x1: int, n1: int, x2: int, n2: int) -> TestResult | None:
    """Group 2's rate against group 1's: the z-test on large counts, Fisher's exact test on small ones.

    None only when no test can tell: a group is empty, or even the most lopsided
    split of these successes between groups this size would not be significant
    (see `rates_untestable`).
    """
    if rates_untestable(x1, n1, x2, n2):
        return None
    if _needs_exact(x1, n1, x2, n2):
        return TestResult(statistic=None, p_value=fisher_exact_p(x1, n1, x2, n2), method="fisher")
    return proportion_test(x1, n1, x2, n2)


def rates_untestable(x1: int, n1: int, x2: int, n2: int, alpha: float = ALPHA) -> str | None:
    """Why no test can tell these two rates apart, or None when a test can."""
    if n1 <= 0 or n2 <= 0:
        return "a group has nobody in it"
    total = x1 + x2
    if total == 0:
        return "nobody in either group succeeded"
    if total == n1 + n2:
        return "everybody in both groups succeeded"
    if _needs_exact(x1, n1, x2, n2) and fisher_smallest_p(n1, n2, total) >= alpha:
        return f"even the most lopsided split of {n1 + n2} persons could not be significant"
    return None


def proportion_difference_interval(
    x1: int, n1: int, x2: int, n2: int, confidence: float = CONFIDENCE
) -> Interval | None:
    """Interval for p2 - p1 (unpooled normal approximation)."""
    if n1 <= 0 or n2 <= 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    z = normal_quantile(1 - (1 - confidence) / 2)
    half = z * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return Interval(p2 - p1 - half, p2 - p1 + half)


# -- means -----------------------------------------------------------------------------


def mean_interval(mean: float, sd: float, n: int, confidence: float = CONFIDENCE) -> Interval | None:
    """Student t interval for a mean: mean ± t(n-1) · sd / √n; None below two observations."""
    if n < 2:
        return None
    half = t_quantile(1 - (1 - confidence) / 2, n - 1) * sd / math.sqrt(n)
    return Interval(mean - half, mean + half)


def _welch_parts(sd1: float, n1: int, sd2: float, n2: int) -> tuple[float, float | None]:
    v1, v2 = sd1 * sd1 / n1, sd2 * sd2 / n2
    se = math.sqrt(v1 + v2)
    if se == 0:
        return 0.0, None
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    return se, df


def welch_test(mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int) -> TestResult | None:
    """Welch's t-test of group 2's mean against group 1's; None when a group has fewer than two values."""
    if n1 < 2 or n2 < 2:
        return None
    se, df = _welch_parts(sd1, n1, sd2, n2)
    if df is None:
        # no variation in either group: the means either equal or differ for certain
        return TestResult(statistic=None, p_value=1.0 if mean1 == mean2 else 0.0, method="t")
    t = (mean2 - mean1) / se
    return TestResult(statistic=t, p_value=t_two_sided_p(t, df), df=df, method="t")


def welch_difference_interval(
    mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int, confidence: float = CONFIDENCE
) -> Interval | None:
    """Interval for mean2 - mean1 with Welch-Satterthwaite degrees of freedom."""
    if n1 < 2 or n2 < 2:
        return None
    se, df = _welch_parts(sd1, n1, sd2, n2)
    difference = mean2 - mean1
    if df is None:
        return Interval(difference, difference)
    half = t_quantile(1 - (1 - confidence) / 2, df) * se
    return Interval(difference - half, difference + half)


# -- how much data is enough -----------------------------------------------------------


def rate_too_small(successes: int, n: int) -> str | None:
    """Why a rate's group is too small to conclude anything, or None when it is large enough."""
    if n < MIN_PERSONS:
        return f"only {n} {'person' if n == 1 else 'persons'} (fewer than {MIN_PERSONS})"
    if successes < MIN_OUTCOMES:
        return f"only {successes} {'success' if successes == 1 else 'successes'} (fewer than {MIN_OUTCOMES})"
    if n - successes < MIN_OUTCOMES:
        failures = n - successes
        return f"only {failures} {'failure' if failures == 1 else 'failures'} (fewer than {MIN_OUTCOMES})"
    return None


def mean_too_small(n: int) -> str | None:
    if n < MIN_PERSONS:
        return f"only {n} {'person' if n == 1 else 'persons'} (fewer than {MIN_PERSONS})"
    return None


# -- words -----------------------------------------------------------------------------


def p_text(value: float | None) -> str:
    """A p-value as every page writes it: "p < 0.001" below a thousandth, else three decimals."""
    if value is None:
        return "—"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"
