"""What a recording holds, read from its rrweb events: time span, active time, pages, clicks.

`chunk_stats` reads one chunk. A recording's figures add its chunks' up (in
`seq` order) without reading their events again, recomputed whenever a chunk
arrives, in any order, by one statement over the chunk rows
(replay.services.recording_figures): a second or a page that straddles two
chunks (the next active or paged chunk starts with the last second, or the last
URL, of the one before) counts once.

Definitions:

- **active seconds**: the distinct wall-clock seconds in which the visitor
  moved the mouse, clicked, scrolled, touched, dragged or typed (rrweb
  incremental sources 1, 2, 3, 5, 6, 12; focus and blur excluded).
- **pages**: the number of URL changes along the recording — rrweb's meta
  events (one per page load and per full snapshot) and the recorder's `$url`
  custom events (single-page-app navigations); a reload of the same URL is
  not a new page.
- **clicks**: rrweb click interactions; **rage clicks**: three clicks within
  one second, each within 30 px of the latest, counted once per burst (the
  snippet's `$rageclick` rule).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

INCREMENTAL = 3
META = 4
CUSTOM = 5
MOUSE_MOVE, MOUSE_INTERACTION, SCROLL, INPUT, TOUCH_MOVE, DRAG = 1, 2, 3, 5, 6, 12
POSITION_SOURCES = frozenset({MOUSE_MOVE, TOUCH_MOVE, DRAG})
CLICK = 2
FOCUS_OR_BLUR = frozenset({5, 6})
URL_TAG = "$url"
STOPPED_TAG = "sightline/recording-stopped"
RAGE_WINDOW_MS = 1000
RAGE_RADIUS_PX = 30
RAGE_CLICKS = 3
MAX_HREF = 2000


@dataclass(frozen=True)
class ChunkStats:
    first_ms: int
    last_ms: int
    event_count: int
    click_count: int = 0
    rage_click_count: int = 0
    active_seconds: int = 0
    active_first_second: int | None = None
    active_last_second: int | None = None
    page_count: int = 0
    first_href: str = ""
    last_href: str = ""
    stop_reason: str = ""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def activity_times(event: dict) -> list[float]:
    """When (epoch ms) this event shows the visitor doing something; empty for anything else."""
    data = event.get("data")
    timestamp = _number(event.get("timestamp"))
    if event.get("type") != INCREMENTAL or not isinstance(data, dict) or timestamp is None:
        return []
    source = data.get("source")
    if not isinstance(source, int):  # rrweb sources are numbers; a forged list or object is not even hashable
        return []
    if source in POSITION_SOURCES:
        positions = data.get("positions")
        times = []
        if isinstance(positions, list):
            for position in positions:
                offset = _number(position.get("timeOffset")) if isinstance(position, dict) else None
                times.append(timestamp + (offset or 0))
        return times or [timestamp]
    if source == MOUSE_INTERACTION:
        kind = data.get("type")
        return [] if isinstance(kind, int) and kind in FOCUS_OR_BLUR else [timestamp]
    if source in (SCROLL, INPUT):
        return [timestamp]
    return []


def _href(event: dict) -> str | None:
    data = event.get("data")
    if not isinstance(data, dict):
        return None
    if event.get("type") == META:
        href = data.get("href")
    elif event.get("type") == CUSTOM and data.get("tag") == URL_TAG and isinstance(data.get("payload"), dict):
        href = data["payload"].get("href")
    else:
        return None
    # stored in a text column, which cannot hold NUL
    href = href.replace("\x00", "")[:MAX_HREF] if isinstance(href, str) else None
    return href or None


def _stop_reason(event: dict) -> str:
    data = event.get("data")
    if event.get("type") == CUSTOM and isinstance(data, dict) and data.get("tag") == STOPPED_TAG:
        payload = data.get("payload")
        reason = payload.get("reason") if isinstance(payload, dict) else None
        return str(reason).replace("\x00", "")[:100] if reason else "stopped"
    return ""


class RageDetector:
    """Three clicks within a second, each within 30 px of the latest: true once per burst."""

    def __init__(self) -> None:
        self.recent: list[tuple[float, float, float]] = []

    def click(self, t: float, x: float, y: float) -> bool:
        self.recent = [
            (ct, cx, cy)
            for ct, cx, cy in self.recent
            if t - ct <= RAGE_WINDOW_MS and math.hypot(cx - x, cy - y) <= RAGE_RADIUS_PX
        ]
        self.recent.append((t, x, y))
        return len(self.recent) == RAGE_CLICKS


def chunk_stats(events: Sequence[dict]) -> ChunkStats:
    """Figures of one chunk. Events must carry numeric timestamps (the ingest validates it)."""
    timestamps = [event["timestamp"] for event in events]
    active: set[int] = set()
    clicks = rage = pages = 0
    first_href = last_href = stop_reason = ""
    rage_detector = RageDetector()
    for event in sorted(events, key=lambda e: e["timestamp"]):
        for t in activity_times(event):
            active.add(int(t // 1000))
        data = event.get("data")
        if (
            event.get("type") == INCREMENTAL
            and isinstance(data, dict)
            and data.get("source") == MOUSE_INTERACTION
            and data.get("type") == CLICK
        ):
            clicks += 1
            x, y = _number(data.get("x")), _number(data.get("y"))
            if x is not None and y is not None and rage_detector.click(event["timestamp"], x, y):
                rage += 1
        href = _href(event)
        if href is not None:
            if href != last_href:
                pages += 1
                first_href = first_href or href
            last_href = href
        stop_reason = _stop_reason(event) or stop_reason
    return ChunkStats(
        first_ms=int(min(timestamps)),
        last_ms=int(max(timestamps)),
        event_count=len(events),
        click_count=clicks,
        rage_click_count=rage,
        active_seconds=len(active),
        active_first_second=min(active) if active else None,
        active_last_second=max(active) if active else None,
        page_count=pages,
        first_href=first_href,
        last_href=last_href,
        stop_reason=stop_reason,
    )


@dataclass(frozen=True)
class Totals:
    active_seconds: int = 0
    page_count: int = 0
    click_count: int = 0
    rage_click_count: int = 0
    first_url: str = ""
    stop_reason: str = ""
