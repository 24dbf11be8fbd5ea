"""Per-project ingestion rate limit: a fixed one-second window in the cache.

With the default in-process cache each web process counts on its own, so the
effective limit is per process; with REDIS_URL set, all processes share it.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def rate_limited(*, project_id: int, limit: int, events: int) -> bool:
    """Count `events` against this second's budget; True when the project is over it.

    The first batch of a window always passes, so a batch larger than the limit
    is slowed down rather than refused forever.
    """
    if limit <= 0:
        return False
    key = f"ingest-rate:{project_id}:{int(time.time())}"
    if cache.add(key, events, timeout=5):
        return False
    try:
        return cache.incr(key, events) > limit
    except ValueError:  # the key expired between add and incr
        cache.set(key, events, timeout=5)
        return False
