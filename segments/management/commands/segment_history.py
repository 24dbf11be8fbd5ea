"""Rebuild dynamic segments' membership history now, in this process (segments.history).

New and changed segments get theirs from a background job; this is for an
operator: after an upgrade, after importing old events, or to time a rebuild.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from segments.history import reconstruct
from segments.models import Segment, SegmentKind


class Command(BaseCommand):
    help = "Rebuild the membership history of dynamic segments over the stored events."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", type=int, help="Only this project's segments.")
        parser.add_argument("--segment", type=int, action="append", help="Only this segment (repeatable).")
        parser.add_argument("--days", type=int, help="How many days back (default: SEGMENT_HISTORY_DAYS).")
        parser.add_argument("--missing", action="store_true", help="Only segments without a history yet.")

    def handle(self, *args, **options) -> None:
        segments = Segment.objects.filter(kind=SegmentKind.DYNAMIC).select_related("project", "model")
        if options["project"]:
            segments = segments.filter(project_id=options["project"])
        if options["segment"]:
            segments = segments.filter(pk__in=options["segment"])
        if options["missing"]:
            segments = segments.filter(history_built_at__isnull=True)
        if options["days"] is not None and options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        for segment in segments.order_by("project_id", "pk"):
            result = reconstruct(segment, horizon_days=options["days"])
            how = "in one pass" if result.method == "sweep" else f"{result.full_evaluations} in full"
            self.stdout.write(
                f"{segment.project_id}/{segment.pk} {segment.name}: {result.days} days from {result.first_day},"
                f" {result.periods:,} periods, {result.size:,} members now,"
                f" {result.evaluated:,} person evaluations ({how}) in {result.elapsed_ms:,} ms"
            )
