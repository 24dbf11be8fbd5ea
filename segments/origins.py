"""A segment's origin: the analysis it was made from, kept so its page can link back.

`{"kind": "funnel", "label": "…in words…", "link": "/p/1/analysis/funnels/?…",
"params": {…the analysis's parameters…}, "part": {…which step, cell or node…},
"kept": "static" | "dynamic", "reason": "…why…"}`. The segments app does not
know the analyses (they sit above it); it checks the shape and keeps the words
and the link that the analysis wrote.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

ORIGIN_KINDS = ("funnel", "compare", "retention", "paths")
MAX_LABEL = 500
MAX_LINK = 8000
_LINK = re.compile(r"^/p/\d+/[^\s]*$")


def origin_check(origin: Any, *, project_id: int) -> dict:
    """The origin as stored; ValidationError names the offending key (`origin.link`)."""

    def fail(key: str, message: str):
        raise ValidationError({f"origin.{key}" if key else "origin": [message]})

    if not isinstance(origin, dict):
        fail("", "must be an object")
    kind = origin.get("kind")
    if kind not in ORIGIN_KINDS:
        fail("kind", f"must be one of {', '.join(ORIGIN_KINDS)}")
    label = origin.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
        fail("label", f"must be a description of 1 to {MAX_LABEL} characters")
    link = origin.get("link")
    if not isinstance(link, str) or len(link) > MAX_LINK or not _LINK.match(link):
        fail("link", "must be a path in this site, /p/<project>/…")
    if not link.startswith(f"/p/{project_id}/"):
        fail("link", "must point into the segment's own project")
    for key in ("params", "part"):
        if not isinstance(origin.get(key, {}), dict):
            fail(key, "must be an object")
    kept = origin.get("kept", "static")
    if kept not in ("static", "dynamic"):
        fail("kept", "must be static or dynamic")
    reason = origin.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_LABEL:
        fail("reason", f"must be text of at most {MAX_LABEL} characters")
    return {
        "kind": kind,
        "label": label.strip(),
        "link": link,
        "params": origin.get("params", {}),
        "part": origin.get("part", {}),
        "kept": kept,
        "reason": reason,
    }
