"""Why a set of people has few recordings: their sessions, and what kept each one unrecorded.

"Watch their sessions" for 24 people who dropped out of a funnel may find 3
recordings. The reasons are facts of the project and of those people's sessions,
so they are counted rather than guessed: recording switched off, sampling, the
recording retention, sessions from before the first recording, people without a
session at all, and what is left unexplained (the browser sent none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from replay.models import Recording
from tracking.models import Project, Session


@dataclass(frozen=True)
class RecordingCoverage:
    persons: int
    persons_with_sessions: int
    persons_recorded: int
    sessions: int
    recorded_sessions: int
    recording_enabled: bool
    sample_rate: float
    retention_days: int
    past_retention: int  # sessions that started before the retention cutoff
    before_first_recording: int  # sessions (within retention) from before the project's first recording
    first_recording_at: datetime | None

    @property
    def sample_percent(self) -> int:
        return round(self.sample_rate * 100)

    @property
    def persons_without_sessions(self) -> int:
        return self.persons - self.persons_with_sessions

    @property
    def unexplained(self) -> int:
        """Sessions recording could have covered that have none (sampling aside)."""
        return max(
            self.sessions - self.past_retention - self.before_first_recording - self.recorded_sessions, 0
        )


def recording_coverage(*, project: Project, person_ids: tuple[int, ...] | list[int]) -> RecordingCoverage:
    """How many of these people's sessions have a recording, and the counts behind the gap."""
    ids = list(dict.fromkeys(person_ids))
    cutoff = timezone.now() - timedelta(days=project.recording_retention_days)
    first = Recording.objects.filter(project=project).aggregate(first=Min("started_at"))["first"]
    # session_project_person (project_id, person_id, started_at) serves these counts
    sessions = Session.objects.filter(project=project, person_id__in=ids).aggregate(
        total=Count("id"),
        persons=Count("person_id", distinct=True),
        past_retention=Count("id", filter=Q(started_at__lt=cutoff)),
        before_first=Count("id", filter=Q(started_at__gte=cutoff, started_at__lt=first))
        if first
        else Count("id"),
    )
    recorded = Recording.objects.filter(project=project, person_id__in=ids).aggregate(
        sessions=Count("session_key", distinct=True), persons=Count("person_id", distinct=True)
    )
    return RecordingCoverage(
        persons=len(ids),
        persons_with_sessions=sessions["persons"],
        persons_recorded=recorded["persons"],
        sessions=sessions["total"],
        recorded_sessions=recorded["sessions"],
        recording_enabled=project.recording_enabled,
        sample_rate=project.recording_sample_rate,
        retention_days=project.recording_retention_days,
        past_retention=sessions["past_retention"],
        before_first_recording=sessions["before_first"] - (0 if first else sessions["past_retention"]),
        first_recording_at=first,
    )
