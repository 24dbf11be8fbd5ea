"""Which sessions are recorded: a deterministic share of them, decided by the server.

Hashing the session id (salted with the project, so projects sample different
visitors) gives every session one fixed answer for a given rate: the decide
answer and the recording endpoint agree without storing anything, and raising
the rate only adds sessions.
"""

from __future__ import annotations

import hashlib

_SCALE = float(2**64)


def session_fraction(*, project_id: int, session_id: str) -> float:
    """A stable number in [0, 1) for this session of this project."""
    digest = hashlib.sha256(f"{project_id}:{session_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def session_sampled(*, project_id: int, session_id: str, rate: float) -> bool:
    if rate >= 1:
        return True
    if rate <= 0:
        return False
    return session_fraction(project_id=project_id, session_id=session_id) < rate
