"""Days in a project's time zone, as the daily rollups count them."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time


def day_start(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    """The first moment whose date in `tz` is `day` (where midnight is skipped, the moment of the jump)."""
    # fold=0 reads a skipped midnight with the offset before the jump: the jump's own moment
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
