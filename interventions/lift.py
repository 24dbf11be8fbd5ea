"""Exposed-vs-holdout comparison of two proportions, on the statistics of analysis.stats.

Group A is the treated one (exposed, or a flag variant), B its control (holdout,
or the first variant).
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.stats import p_text, proportion_difference_interval, rates_test, rates_untestable


@dataclass(frozen=True)
class ProportionComparison:
    n_a: int
    x_a: int
    n_b: int
    x_b: int

    @property
    def rate_a(self) -> float:
        return self.x_a / self.n_a if self.n_a else 0.0

    @property
    def rate_b(self) -> float:
        return self.x_b / self.n_b if self.n_b else 0.0

    @property
    def enough_data(self) -> bool:
        """Whether any test can tell the groups apart (Fisher's exact test covers small counts)."""
        return rates_untestable(self.x_b, self.n_b, self.x_a, self.n_a) is None

    @property
    def difference(self) -> float:
        return self.rate_a - self.rate_b

    @property
    def lift(self) -> float | None:
        """Relative change of A over B (0.25 = 25% better)."""
        return (self.rate_a - self.rate_b) / self.rate_b if self.rate_b else None

    def interval(self) -> tuple[float, float]:
        """95% interval of the difference in rates (A − B)."""
        interval = proportion_difference_interval(self.x_b, self.n_b, self.x_a, self.n_a)
        return (interval.low, interval.high) if interval else (0.0, 0.0)

    @property
    def p_value(self) -> float | None:
        """Two-sided: the two-proportion z-test, or Fisher's exact test on small counts (analysis.stats)."""
        result = rates_test(self.x_b, self.n_b, self.x_a, self.n_a)
        return result.p_value if result else None

    def verdict(self, a: str = "exposed", b: str = "holdout") -> str:
        reason = rates_untestable(self.x_b, self.n_b, self.x_a, self.n_a)
        if reason:
            return f"Not enough data yet: {reason}."
        p = self.p_value
        if p is not None and p < 0.05:
            better = "more" if self.difference > 0 else "less"
            return f"The {a} group converts {better} than the {b} group ({self.difference * 100:+.1f} points, {p_text(p)})."
        return f"No significant difference between {a} and {b} yet ({p_text(p)})."
