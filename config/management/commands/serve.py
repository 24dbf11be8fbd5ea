"""`make run`: migrate, make sure the demo exists and has data, then serve the web app and the workers.

The workers are django-q2's (`qcluster`), the ingest queue's (`ingest_worker`)
and the background queries' (`analysis_worker`).

This is the process runner, so it lives with the project's configuration. It
meets the demo only through its commands (`seed_demo --if-empty`,
`demo_credentials`), so nothing below the demo app imports it.

Each child runs in a process group of its own, and this command stops the
whole group on Ctrl-C or SIGTERM (the web server's autoreloader has a child of
its own); if one of them exits, the other is stopped too. The embedded
PostgreSQL stops when the last process using it exits.

With chDB (`CLICKHOUSE_URL=chdb://…`) one process owns the event directory: the
web server then runs alone, without the autoreloader, with background tasks
inline (`Q_SYNC`), the ingest queue drained by each request, and analysis jobs
run by threads of the web server (`ANALYSIS_JOBS=thread`).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from config import database


class Command(BaseCommand):
    help = "Set up the database and demo data, then serve the web app and the background worker."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--no-seed",
            action="store_true",
            help="Do not fill an empty demo project with generated demo data.",
        )

    def handle(self, *args, port: int, host: str, **options):
        in_process = bool(settings.CLICKHOUSE) and settings.CLICKHOUSE["kind"] == "chdb"
        call_command("migrate", interactive=False, verbosity=0)
        call_command("clickhouse_migrate", verbosity=0)
        # Before the servers start: the first page anyone opens already has data.
        # Without seeding, the demo login still exists (and its project stays empty).
        call_command("seed_demo", if_empty=not options["no_seed"], ensure_only=options["no_seed"])
        login = io.StringIO()
        call_command("demo_credentials", json=True, no_key=True, stdout=login)
        demo = json.loads(login.getvalue())
        url = f"http://{host}:{port}/"
        self.stdout.write(
            self.style.SUCCESS("\nSightline is starting.\n")
            + f"  Open      {url}\n"
            + f"  Log in    {demo['email']} / {demo['password']}\n"
            + f"  Demo site {url}demo/\n"
            + f"  Database  {'embedded PostgreSQL in ' + str(settings.DATA_DIR / 'pg') if settings.EMBEDDED_DATABASE else 'DATABASE_URL'}\n"
            + f"  Events    {'ClickHouse (CLICKHOUSE_URL)' if settings.CLICKHOUSE else 'PostgreSQL'}\n"
            + "  Stop      Ctrl-C\n"
        )
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        stopping = []

        def stop(signum, frame):
            stopping.append(signum)

        # Handlers rather than KeyboardInterrupt: a shell that starts us in the
        # background makes us inherit an ignored SIGINT.
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        if in_process:
            call_command(
                "clickhouse_migrate", close=True, verbosity=0
            )  # hand the chDB directory to the web server
            env = {**os.environ, "Q_SYNC": "1", "INGEST_DRAIN_INLINE": "1", "ANALYSIS_JOBS": "thread"}
            web = subprocess.Popen(
                [*manage, "runserver", "--noreload", f"{host}:{port}"], start_new_session=True, env=env
            )
            children = [web]
        else:
            web = subprocess.Popen([*manage, "runserver", f"{host}:{port}"], start_new_session=True)
            children = [
                web,
                subprocess.Popen([*manage, "qcluster"], start_new_session=True),
                subprocess.Popen([*manage, "ingest_worker", "--verbosity", "0"], start_new_session=True),
                subprocess.Popen([*manage, "analysis_worker", "--verbosity", "0"], start_new_session=True),
            ]
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.3)
        finally:
            # The autoreloader's child shares the web server's group; the worker's
            # main process stops its own pool, so it gets the signal alone.
            if web.poll() is None:
                os.killpg(web.pid, signal.SIGTERM)
            for child in children[1:]:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(child.pid, signal.SIGKILL)
        if settings.EMBEDDED_DATABASE and database.started_here:
            connections.close_all()
            database.embedded_database_stop(settings.DATA_DIR)
        self.stdout.write("Stopped.")
