"""The kinds of job, registered by the apps that own them (in their AppConfig.ready)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tracking.models import Project


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    run: Callable[[Project, dict], Any]
    """Compute the result from the normalised parameters (re-checked: what they name may be gone)."""
    to_json: Callable[[Any], dict]
    """The result as the API answers it."""
    reported: tuple[type[Exception], ...] = ()
    """Errors whose message is shown as is (a time limit, a parameter that no longer holds)."""
    render: Callable[..., str] | None = None
    """`render(request, project, params, result, view)`: a finished result as HTML for a page's
    `view` ("page", "card", …), swapped in where the progress was."""
    timeout_seconds: Callable[[], int] | None = None
    """The job's time limit when not ANALYSIS_JOB_TIMEOUT_SECONDS (read when it starts)."""
    timeout_hint: str = "try a shorter date range or fewer groups"
    """What to do when it runs out of time, after "This took longer than the … limit;"."""


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    _KINDS[kind.name] = kind


def kind_get(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"no job kind {name!r}") from None
