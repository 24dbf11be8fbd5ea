from __future__ import annotations

import uuid
from datetime import UTC, datetime

UA_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def event(
    name: str = "$pageview",
    distinct_id: str = "anon-1",
    *,
    session_id: str = "s1",
    timestamp=None,
    **properties,
):
    return {
        "uuid": str(uuid.uuid4()),
        "event": name,
        "distinct_id": distinct_id,
        "timestamp": timestamp or datetime.now(UTC).isoformat(),
        "session_id": session_id,
        "properties": properties,
    }
