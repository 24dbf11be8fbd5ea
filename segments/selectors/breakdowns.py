"""Who a segment's members are: grouped by a fact of their sessions, or by a person or company property.

It only reads, under a statement timeout, so a huge segment answers "took too long"
instead of holding a web worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from segments.builder import OPERATOR_LABELS, display_value
from segments.models import Segment
from segments.selectors.sizes import TimedOut, bounded_read

BREAKDOWN_TIMEOUT_MS = 5000
TOP = 10
SESSION_DIMENSIONS = {
    "browser": "Browser",
    "os": "Operating system",
    "device_type": "Device type",
    "country": "Country",
}
PROPERTY_DIMENSIONS = {"person": "Person property", "company": "Company property"}


@dataclass(frozen=True)
class Bucket:
    label: str
    count: int
    share: float  # of all members


@dataclass
class Breakdown:
    dimension: str
    key: str = ""  # the property, for a person or company breakdown
    buckets: list[Bucket] = field(default_factory=list)
    total: int = 0
    timed_out: bool = False

    @property
    def other(self) -> int:
        return max(self.total - sum(b.count for b in self.buckets), 0)

    # The segment's own conditions on this session fact (e.g. "browser is Safari"): they hold
    # for some session in their window, which need not be the latest one counted here.
    defined_by: list[str] = field(default_factory=list)

    @property
    def fact(self) -> str:
        """The session fact in words ("browser"), for a session breakdown."""
        return SESSION_DIMENSIONS.get(self.dimension, "").lower()

    @property
    def title(self) -> str:
        if self.dimension in SESSION_DIMENSIONS:
            return f"{SESSION_DIMENSIONS[self.dimension]} of each member's latest session"
        return f"{PROPERTY_DIMENSIONS.get(self.dimension, self.dimension)} “{self.key}”"


def _session_conditions(definition: Any, dimension: str) -> list[str]:
    """The definition's device/geo conditions on `dimension`, in words ("is Safari")."""
    found: list[str] = []
    stack = [definition]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if isinstance(node.get("conditions"), list):
            stack.extend(reversed(node["conditions"]))
        elif node.get("type") in ("device", "geo") and node.get("property") == dimension:
            words = f"{OPERATOR_LABELS.get(node.get('operator'), node.get('operator'))} {display_value(node.get('value'))}"
            found.append(words.strip())
    return found


def member_breakdown(*, segment: Segment, dimension: str, key: str = "", limit: int = TOP) -> Breakdown:
    """The segment's current members grouped by a technographic/geographic fact of their latest
    session, or by a person or company property; the `limit` largest groups.

    Members come from membership_open_unique (segment_id, person_id) WHERE exited_at IS NULL;
    each member's latest session is one probe of session_project_person.
    """
    result = Breakdown(dimension=dimension, key=key, total=segment.size)
    if dimension in SESSION_DIMENSIONS:
        result.defined_by = _session_conditions(segment.definition, dimension)
    members = "FROM segments_segmentmembership m WHERE m.segment_id = %s AND m.exited_at IS NULL"
    if dimension in SESSION_DIMENSIONS:
        query = sql.SQL(
            "SELECT s.{col}, count(*) FROM segments_segmentmembership m"
            " LEFT JOIN LATERAL (SELECT x.{col} FROM tracking_session x WHERE x.project_id = %s AND x.person_id = m.person_id"
            " ORDER BY x.started_at DESC LIMIT 1) s ON true"
            " WHERE m.segment_id = %s AND m.exited_at IS NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s"
        ).format(col=sql.Identifier(dimension))
        params: list = [segment.project_id, segment.pk, limit]
    elif dimension == "person" and key:
        query = (
            "SELECT p.properties ->> %s, count(*) FROM segments_segmentmembership m"
            " JOIN tracking_person p ON p.id = m.person_id"
            " WHERE m.segment_id = %s AND m.exited_at IS NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s"
        )
        params = [key, segment.pk, limit]
    elif dimension == "company" and key:
        query = (
            "SELECT c.properties ->> %s, count(*) FROM segments_segmentmembership m"
            " JOIN tracking_person p ON p.id = m.person_id LEFT JOIN tracking_company c ON c.id = p.company_id"
            " WHERE m.segment_id = %s AND m.exited_at IS NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %s"
        )
        params = [key, segment.pk, limit]
    else:
        return result
    try:
        rows = bounded_read(query, params, timeout_ms=BREAKDOWN_TIMEOUT_MS)
        total = bounded_read(f"SELECT count(*) {members}", [segment.pk], timeout_ms=BREAKDOWN_TIMEOUT_MS)[0][
            0
        ]
    except TimedOut:
        result.timed_out = True
        return result
    result.total = total
    result.buckets = [
        Bucket(
            label=str(label) if label not in (None, "") else "Unknown",
            count=count,
            share=count / total if total else 0,
        )
        for label, count in rows
    ]
    return result
