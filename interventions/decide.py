"""`POST /i/v1/decide`: what the snippet should do for this visitor.

`{"api_key", "distinct_id"}` -> `{"flags": {...}, "nudges": [...], "surveys": [...],
"recording": {...}, "config": {...}}`. It reads materialised state only (the
project, the person's open segment memberships) — a few indexed lookups, never
a segment computation. Each part comes from a provider function registered by
the app that owns it, so replay decides recording and interventions decide
flags, nudges and surveys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse

from tracking.ingest.body import read_json
from tracking.ingest.http import error_response, ingest_endpoint, json_response, project_for_key
from tracking.models import PersonDistinctId, Project
from web.text import is_valid_text

MAX_DECIDE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Visitor:
    """The visitor a decide answer is for, as every provider sees them."""

    project: Project
    distinct_id: str
    person_id: int | None
    # the whole request body: a provider may read more than the distinct id (replay: session_id)
    payload: Mapping = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def opted_out(self) -> bool:
        """The browser asks not to be tracked (Do Not Track or Global Privacy Control)."""
        return self.headers.get("DNT") == "1" or self.headers.get("Sec-GPC") == "1"


# name -> provider(visitor) -> JSON-able value
_providers: dict[str, Callable[[Visitor], object]] = {}
# provider(visitor) -> {part: value, ...}
_multi_providers: list[Callable[[Visitor], dict]] = []


def register(part: str, provider: Callable) -> None:
    _providers[part] = provider


def register_parts(provider: Callable) -> None:
    """A provider that answers several parts at once (sharing its lookups)."""
    if provider not in _multi_providers:
        _multi_providers.append(provider)


def person_id_for(project: Project, distinct_id: str) -> int | None:
    # relies on the unique index distinct_id_project_unique (project_id, distinct_id)
    return (
        PersonDistinctId.objects.filter(project=project, distinct_id=distinct_id)
        .values_list("person_id", flat=True)
        .first()
    )


def decide_answer(
    project: Project,
    distinct_id: str,
    *,
    payload: Mapping | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict:
    visitor = Visitor(
        project=project,
        distinct_id=distinct_id,
        person_id=person_id_for(project, distinct_id),
        payload=payload or {},
        headers=headers or {},
    )
    answer: dict = {
        "flags": {},
        "nudges": [],
        "surveys": [],
        "recording": {"enabled": False},
        "config": {"respect_dnt": project.respect_dnt},
    }
    for provider in _multi_providers:
        answer.update(provider(visitor))
    for part, provider in _providers.items():
        answer[part] = provider(visitor)
    return answer


@ingest_endpoint
def decide(request: HttpRequest) -> HttpResponse:
    payload = read_json(request, max_bytes=MAX_DECIDE_BYTES)
    if not isinstance(payload, dict):
        return error_response(400, "invalid request", 'Send {"api_key", "distinct_id"}.')
    project = project_for_key(payload.get("api_key"))
    if project is None:
        return error_response(
            401, "invalid api_key", "Unknown project key; copy it from the project's settings."
        )
    distinct_id = payload.get("distinct_id")
    if (
        not isinstance(distinct_id, str)
        or not distinct_id.strip()
        or len(distinct_id) > 200
        or "\x00" in distinct_id
        or not is_valid_text(distinct_id)
    ):
        return error_response(
            400, "invalid distinct_id", "distinct_id must be a non-empty string of at most 200 characters."
        )
    return json_response(
        decide_answer(project, distinct_id.strip(), payload=payload, headers=request.headers)
    )
