"""Statistics for exposed-vs-holdout measurement: two proportions."""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_GROUP = 30
MIN_OUTCOMES = 5


def normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


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
        return all(
            (n >= MIN_GROUP and x >= MIN_OUTCOMES and n - x >= MIN_OUTCOMES)
            for n, x in ((self.n_a, self.x_a), (self.n_b, self.x_b))
        )

    @property
    def difference(self) -> float:
        return self.rate_a - self.rate_b

    @property
    def lift(self) -> float | None:
        """Relative change of A over B (0.25 = 25% better)."""
        return (self.rate_a - self.rate_b) / self.rate_b if self.rate_b else None

    def interval(self, z: float = 1.959963984540054) -> tuple[float, float]:
        """95% interval of the difference in rates (unpooled normal approximation)."""
        if not (self.n_a and self.n_b):
            return (0.0, 0.0)
        se = math.sqrt(self.rate_a * (1 - self.rate_a) / self.n_a + self.rate_b * (1 - self.rate_b) / self.n_b)
        return (self.difference - z * se, self.difference + z * se)

    @property
    def p_value(self) -> float | None:
        """Two-sided two-proportion z-test with the pooled rate."""
        if not (self.n_a and self.n_b):
            return None
        pooled = (self.x_a + self.x_b) / (self.n_a + self.n_b)
        se = math.sqrt(pooled * (1 - pooled) * (1 / self.n_a + 1 / self.n_b))
        if se == 0:
            return 1.0
        z = (self.rate_a - self.rate_b) / se
        return 2 * (1 - normal_cdf(abs(z)))

    def verdict(self, a: str = "exposed", b: str = "holdout") -> str:
        if not self.enough_data:
            return "Not enough data yet: each group needs at least 30 people and 5 conversions and non-conversions."
        p = self.p_value
        if p is not None and p < 0.05:
            better = "more" if self.difference > 0 else "less"
            return f"The {a} group converts {better} than the {b} group ({self.difference * 100:+.1f} points, p = {p:.3f})."
        return f"No significant difference between {a} and {b} yet (p = {p:.2f})."
