"""What the overview and the action pages count over events, as plain rows."""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ClickedTarget:
    """One clicked element of the overview's top list: the chain's first element, as stored."""

    target: str
    count: int
    text: str  # the greatest el_text among its clicks (any one, to show)
    example: uuidlib.UUID | None  # one of its events, to define an action from


@dataclass
class ActivitySummary:
    """A project's events since a moment: per day (in its zone), in total, top pages and clicks."""

    per_day: dict[date, tuple[int, int]] = field(default_factory=dict)  # day -> (events, persons)
    events: int = 0
    persons: int = 0
    pages: list[tuple[str, int]] = field(default_factory=list)  # $pageview path, count
    clicks: list[ClickedTarget] = field(default_factory=list)


@dataclass(frozen=True)
class MatchSummary:
    """What an action's steps match in a window: totals, top clicked targets and pages."""

    events: int = 0
    persons: int = 0
    elements: list[tuple[str, str, int]] = field(default_factory=list)  # target, el_text, count
    pages: list[tuple[str, int]] = field(default_factory=list)  # path, count
