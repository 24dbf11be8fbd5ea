"""Run background queries (analyses, previews, dashboard cards): `manage.py analysis_worker`."""

from __future__ import annotations

import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.worker import Worker


class Command(BaseCommand):
    help = "Claim and run queued analysis jobs until stopped (SIGTERM hands running jobs back to the queue)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--threads",
            type=int,
            default=settings.ANALYSIS_WORKER_THREADS,
            help="Jobs run at once by this process (default ANALYSIS_WORKER_THREADS).",
        )

    def handle(self, *args, threads: int, **options):
        worker = Worker(threads=max(1, threads))

        def stop(signum, frame):
            worker.stop()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        if options["verbosity"]:
            self.stdout.write(f"Running analysis jobs on {worker.threads} threads.")
        worker.run()
