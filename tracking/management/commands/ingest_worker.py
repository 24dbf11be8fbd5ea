"""`manage.py ingest_worker`: store what the ingestion endpoints queued, in large chunks.

Run as many as the database carries (docs/deploy.md): each takes the project
waiting longest that no other worker holds. SIGTERM or Ctrl-C finishes the
chunk in hand, then stops.
"""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand

from tracking.ingest.drain import Drained, queue_work


class Command(BaseCommand):
    help = "Drain the ingest queue: store queued events and recordings in chunks, per project, in order."

    def add_arguments(self, parser):
        parser.add_argument(
            "--until-empty", action="store_true", help="Stop when the queue is empty instead of waiting."
        )
        parser.add_argument(
            "--idle", type=float, default=0.1, help="Seconds to wait before looking again at an empty queue."
        )

    def handle(self, *args, until_empty: bool, idle: float, **options):
        stopping: list[int] = []

        def stop(signum, frame):
            stopping.append(signum)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        verbose = options["verbosity"] > 1
        started = time.monotonic()

        def report(drained: Drained) -> None:
            if verbose:
                self.stdout.write(
                    f"project {drained.project_id}: {drained.events} events in {drained.items} items"
                )

        total = queue_work(
            should_stop=lambda: bool(stopping), idle_seconds=idle, until_empty=until_empty, on_chunk=report
        )
        if options["verbosity"]:
            self.stdout.write(f"Stored {total} events in {time.monotonic() - started:.1f} s.")
