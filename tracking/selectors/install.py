"""The install check: are events arriving, from which hosts, and what was refused."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Max, Min, Sum
from django.utils import timezone

from tracking.ingest.health import ProjectLag, project_lag_get
from tracking.models import IngestRejection, IngestSource, Project

RECENT = timedelta(hours=24)


@dataclass
class InstallCheck:
    first_received: datetime | None
    last_received: datetime | None
    events_received: int
    sources: list[IngestSource] = field(default_factory=list)
    rejected_recently: int = 0
    latest_rejections: list[IngestRejection] = field(default_factory=list)
    lag: ProjectLag | None = None  # events acknowledged but not stored yet (the ingest queue)

    @property
    def receiving(self) -> bool:
        return self.last_received is not None


def install_check_get(*, project: Project, now: datetime | None = None, hosts: int = 10) -> InstallCheck:
    """What ingestion recorded for the project: hosts (IngestSource) and dead letters of the last day."""
    now = now or timezone.now()
    sources = IngestSource.objects.filter(project_id=project.pk)
    totals = sources.aggregate(first=Min("first_seen"), last=Max("last_seen"), events=Sum("event_count"))
    # rejection_project_received (project, -received_at) serves both reads.
    rejections = IngestRejection.objects.filter(project_id=project.pk, received_at__gte=now - RECENT)
    return InstallCheck(
        first_received=totals["first"],
        last_received=totals["last"],
        events_received=totals["events"] or 0,
        sources=list(sources.order_by("-last_seen", "host")[:hosts]),
        rejected_recently=rejections.count(),
        latest_rejections=list(rejections.order_by("-received_at", "-id")[:5]),
        lag=project_lag_get(project_id=project.pk, now=now),
    )
