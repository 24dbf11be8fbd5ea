"""The pure-Python reference for a recording's figures: how its chunks' add up, chunk by chunk.

replay.services.recording_figures computes the same in one statement; the tests compare them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from replay.metadata import Totals


class ChunkFigures(Protocol):
    click_count: int
    rage_click_count: int
    active_seconds: int
    active_first_second: int | None
    active_last_second: int | None
    page_count: int
    first_href: str
    last_href: str
    stop_reason: str


def combine(chunks: Iterable[ChunkFigures]) -> Totals:
    """A recording's figures from its chunks' (given in `seq` order).

    A second or a page that straddles two chunks is counted once: the next
    chunk's first active second (or first URL) equal to the previous chunk's
    last one is the same second (or the same page).
    """
    active = pages = clicks = rage = 0
    first_url = stop_reason = ""
    last_second: int | None = None
    last_href = ""
    for chunk in chunks:
        clicks += chunk.click_count
        rage += chunk.rage_click_count
        if chunk.active_seconds:
            active += chunk.active_seconds
            if last_second is not None and chunk.active_first_second == last_second:
                active -= 1
            last_second = chunk.active_last_second
        if chunk.page_count:
            pages += chunk.page_count
            if last_href and chunk.first_href == last_href:
                pages -= 1
            last_href = chunk.last_href
            first_url = first_url or chunk.first_href
        stop_reason = chunk.stop_reason or stop_reason
    return Totals(
        active_seconds=active,
        page_count=pages,
        click_count=clicks,
        rage_click_count=rage,
        first_url=first_url,
        stop_reason=stop_reason,
    )
