"""Create or upgrade the ClickHouse schema for events (idempotent; `serve` runs it at start-up like `migrate`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tracking import eventstore


class Command(BaseCommand):
    help = "Create or upgrade the ClickHouse event tables. Does nothing when CLICKHOUSE_URL is unset."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--close",
            action="store_true",
            help="close this process's ClickHouse client afterwards (chDB: hand its directory to another process)",
        )

    def handle(self, *args, **options) -> None:
        if not eventstore.using_clickhouse():
            if options["verbosity"]:
                self.stdout.write("Events are stored in PostgreSQL (CLICKHOUSE_URL is unset): nothing to do.")
            return
        from tracking.eventstore.clickhouse import schema
        from tracking.eventstore.clickhouse.client import ClickHouseUnavailable, client, client_reset

        try:
            done = schema.migrate(client())
        except ClickHouseUnavailable as error:
            raise CommandError(f"ClickHouse (CLICKHOUSE_URL) did not accept the schema: {error}") from error
        finally:
            if options["close"]:
                client_reset()
        if options["verbosity"]:
            for statement in done:
                self.stdout.write(f"  {statement}")
            self.stdout.write(self.style.SUCCESS("ClickHouse schema is up to date."))
