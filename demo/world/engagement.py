"""Engagement: when people come back — periods, archetypes, their curves, and visit times.

Each person who signs up gets an archetype (bounce, fader, casual, regular,
power; "explorer" for those who never create a task) with a curve of sessions
per working day over the days since sign-up. Visit times are drawn from it by
thinning a Poisson process, fewer at weekends, placed at working hours of the
person's time zone.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from demo.world.catalog import REGRESSION_DAYS
from demo.world.world import Weighted

DAY = 86_400.0
HOUR = 3_600.0
IDLE = 30 * 60.0  # the snippet starts a new session after 30 idle minutes
WEEKEND = 0.3
# Local hour at which a working visit starts.
LOCAL_HOUR = Weighted(
    range(24),
    (0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 2, 4, 6, 6.5, 6, 5, 5.5, 6, 6, 5, 4, 3, 2.5, 2, 1.5, 1, 0.5),
)


@dataclass(frozen=True)
class Period:
    """The simulated time span [start, end), as epoch seconds."""

    start: float
    end: float

    @property
    def span(self) -> float:
        return self.end - self.start

    @property
    def regression_from(self) -> float:
        return self.end - REGRESSION_DAYS * DAY

    def clamp(self, t: float, *, margin: float = 2 * HOUR) -> float:
        return min(max(t, self.start + 60), self.end - margin)


@dataclass(frozen=True)
class Curve:
    """Sessions per working day as a function of days since sign-up."""

    base: float
    half_life: float = 0.0  # 0: no decay
    growth: float = 0.0  # relative increase reached after `growth_days`
    growth_days: float = 30.0
    active_days: float = math.inf  # after this, only `after`
    after: float = 0.0

    def rate(self, day: float) -> float:
        if day > self.active_days:
            return self.after
        rate = self.base
        if self.half_life:
            rate *= 0.5 ** (day / self.half_life)
        if self.growth:
            rate *= 1 + self.growth * min(day, self.growth_days) / self.growth_days
        return rate

    @property
    def peak(self) -> float:
        return max(self.base * (1 + self.growth), self.after, 1e-6)


@dataclass(frozen=True)
class Archetype:
    name: str
    tasks: float  # mean tasks created per working visit
    nps: float  # mean NPS score they would give


ARCHETYPES: dict[str, Archetype] = {
    a.name: a
    for a in (
        Archetype("explorer", 0.0, 5.5),
        Archetype("bounce", 0.8, 5.5),
        Archetype("fader", 1.6, 6.2),
        Archetype("casual", 1.1, 7.4),
        Archetype("regular", 1.8, 8.3),
        Archetype("power", 3.2, 9.1),
    )
}


def curve_for(rng: random.Random, archetype: str) -> Curve:
    if archetype == "explorer":
        return Curve(base=0.6, active_days=rng.uniform(2, 7), after=0.02)
    if archetype == "bounce":
        return Curve(base=0.9, active_days=rng.uniform(2, 5))
    if archetype == "fader":
        return Curve(
            base=rng.uniform(0.5, 1.3),
            half_life=rng.uniform(6, 16),
            active_days=rng.uniform(12, 45),
            after=0.05,
        )
    if archetype == "casual":
        return Curve(base=rng.uniform(0.12, 0.3))
    if archetype == "regular":
        return Curve(base=rng.uniform(0.35, 0.7), growth=0.3, growth_days=60)
    return Curve(base=rng.uniform(0.9, 1.5), growth=0.5, growth_days=30)


def archetype_for(rng: random.Random, *, band_index: int, champion_of_team: bool) -> str:
    """Bigger companies' people stay and use the product more; a team's champion rarely bounces."""
    weights = {
        "bounce": 0 if champion_of_team else 18 * (1 - 0.12 * band_index),
        "fader": 26,
        "casual": 26,
        "regular": 20 + 3 * band_index,
        "power": 10 * (1 + 0.25 * band_index) + (6 if champion_of_team else 0),
    }
    return Weighted(list(weights), list(weights.values())).pick(rng)


def session_times(
    rng: random.Random, curve: Curve, *, begin: float, end: float, utc_offset: float
) -> list[float]:
    """Visit start times from the curve: a thinned Poisson process placed at local working hours."""
    times: list[float] = []
    peak = curve.peak
    offset = utc_offset * HOUR
    t = begin
    while True:
        t += rng.expovariate(peak) * DAY
        if t >= end:
            return times
        local_day = (t + offset) // DAY
        factor = WEEKEND if (int(local_day) + 3) % 7 >= 5 else 1.0  # 1970-01-01 was a Thursday
        if rng.random() * peak < curve.rate((t - begin) / DAY) * factor:
            start = local_day * DAY - offset + (LOCAL_HOUR.pick(rng) + rng.random()) * HOUR
            if begin < start < end:
                times.append(start)
