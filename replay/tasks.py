"""django-q2 tasks: thin, they call a service."""

from __future__ import annotations

from replay.services import recordings_expire


def expire_recordings() -> int:
    """Hourly (scheduled by migration 0002): delete recordings past their retention, files included."""

    return recordings_expire()
