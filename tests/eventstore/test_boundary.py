"""Every read and write of events goes through tracking.eventstore: nothing else names the events table."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("config", "web", "tracking", "segments", "analysis", "interventions", "replay", "demo")
# the events table by name (not tracking_eventdefinition or similar), the ORM model's manager, or a query on it
PATTERNS = (
    re.compile(r"\btracking_event\b"),
    re.compile(r"\bEvent\.objects\b"),
    re.compile(r"\.events\.(filter|all|exclude|order_by|values|aggregate|count)\("),
)
ALLOWED = ("tracking/eventstore/", "tracking/migrations/", "tracking/models/")


def test_no_module_outside_the_event_store_queries_events():
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(ALLOWED):
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if any(pattern.search(line) for pattern in PATTERNS):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "event SQL outside tracking.eventstore:\n" + "\n".join(offenders)
