"""`batch_accept`: the one door every capture endpoint hands its events to.

`/i/v1/batch` and the PostHog- and Segment-compatible endpoints decode their
own request shapes, then pass a list of events in Sightline's wire shape here.
Batch limits, allowed origins, Do Not Track, the project's rate limit and the
per-event validation with dead letters are applied the same way to all of them;
the batch is then appended to the durable ingest queue (`queue.batch_enqueue`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import HttpRequest

from tracking.ingest.http import client_ip, origin_allowed, origin_host
from tracking.ingest.pipeline import MAX_BATCH, RequestFacts
from tracking.ingest.queue import batch_enqueue
from tracking.ingest.ratelimit import rate_limited
from tracking.models import Project


@dataclass
class Acceptance:
    """What happened to a batch: an error for the whole request, or per-event results."""

    status: int = 200
    error: str = ""
    detail: str = ""
    headers: dict = field(default_factory=dict)
    accepted: int = 0
    rejected: list[dict] = field(default_factory=list)
    dropped: int = 0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200

    def answer(self) -> dict:
        """The per-event part of a 200 answer (with why nothing was stored, when the batch was dropped)."""
        if self.reason:
            return {"accepted": 0, "rejected": [], "dropped": self.dropped, "reason": self.reason}
        return {"accepted": self.accepted, "rejected": self.rejected}


def request_facts(request: HttpRequest) -> RequestFacts:
    from django.conf import settings

    header = settings.GEO_COUNTRY_HEADER
    return RequestFacts(
        user_agent=request.headers.get("User-Agent", ""),
        ip=client_ip(request),
        country_header=request.headers.get(header) if header else None,
        origin_host=origin_host(request),
    )


def opted_out(request: HttpRequest) -> bool:
    return request.headers.get("DNT") == "1" or request.headers.get("Sec-GPC") == "1"


def batch_accept(*, request: HttpRequest, project: Project, events: list, sent_at: object) -> Acceptance:
    """Check the request against the project's rules, then validate each event alone and queue the batch.

    A full or unwritable queue raises (`QueueFull`, a database error); `ingest_endpoint`
    answers those with 429 or 503 and `Retry-After`.
    """
    if len(events) > MAX_BATCH:
        return Acceptance(413, "batch too large", f"Send at most {MAX_BATCH} events per batch.")
    if not origin_allowed(project, request):
        return Acceptance(
            403, "origin not allowed", "Add this site's origin to the project's allowed origins."
        )
    if project.respect_dnt and opted_out(request):
        return Acceptance(dropped=len(events), reason="do not track")
    if rate_limited(project_id=project.pk, limit=project.ingest_rate_limit, events=len(events)):
        return Acceptance(429, "rate limited", "Too many events for this project.", {"Retry-After": "1"})
    result = batch_enqueue(project=project, batch=events, sent_at=sent_at, facts=request_facts(request))
    return Acceptance(accepted=result.accepted, rejected=result.rejected)
