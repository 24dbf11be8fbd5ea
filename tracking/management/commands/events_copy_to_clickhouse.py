"""Copy a project's events from PostgreSQL into ClickHouse; resumable, with progress."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tracking import eventstore
from tracking.models import Project


class Command(BaseCommand):
    help = (
        "Copy one project's events from PostgreSQL into ClickHouse. Run it with CLICKHOUSE_URL set;"
        " an interrupted copy resumes where it stopped, and events already in ClickHouse are never copied twice."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", type=int, required=True, help="the project's id")
        parser.add_argument("--restart", action="store_true", help="start from the first event again")
        parser.add_argument("--block", type=int, default=50_000, help="events per insert (default 50,000)")

    def handle(self, *args, project: int, restart: bool, block: int, **options) -> None:
        if not eventstore.using_clickhouse():
            raise CommandError("CLICKHOUSE_URL is not set: there is no ClickHouse to copy the events to.")
        if not Project.objects.filter(pk=project).exists():
            raise CommandError(f"There is no project {project}.")
        if block < 1:
            raise CommandError("--block must be at least 1.")
        from tracking.eventstore.clickhouse import schema
        from tracking.eventstore.clickhouse.client import client
        from tracking.eventstore.copy import events_copy_to_clickhouse

        schema.migrate(client())

        def report(progress) -> None:
            share = progress.copied / progress.total * 100 if progress.total else 100.0
            self.stdout.write(f"  {progress.copied:,} of {progress.total:,} events ({share:.0f}%)")

        done = events_copy_to_clickhouse(project, restart=restart, block=block, report=report)
        self.stdout.write(
            self.style.SUCCESS(f"Copied project {project}: {done.copied:,} of {done.total:,} events.")
        )
