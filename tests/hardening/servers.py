"""Real, separate processes for fault tests: a PostgreSQL of their own and a gunicorn serving Sightline on it.

Nothing here touches the test database: the fault tests stop and start *this*
PostgreSQL, so the rest of the suite is unaffected.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Postgres:
    """A throwaway embedded PostgreSQL (pgserver) that tests may stop and restart."""

    data_dir: Path

    def start(self, database: str, *, template: str | None = None) -> str:
        """Starts the server if it is not running; `database` is created (as a copy of `template`)
        if it does not exist. Returns its URL."""
        import pgserver

        server = pgserver.get_server(self.data_dir, cleanup_mode=None)
        if "(1 row)" not in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';"):
            copy = f" TEMPLATE {template}" if template else ""
            server.psql(f"CREATE DATABASE {database}{copy};")
        return server.get_uri(database)

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        user = "pgserver" if os.geteuid() == 0 else None
        if user:
            # pgserver opened the folders above the data directory to its user at start-up; a
            # pytest session starting meanwhile closes /tmp/pytest-of-root again (0700), and
            # pg_ctl would then fail to stop the server, leaving it running.
            from pgserver.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.data_dir)
        pg_ctl(list(args), pgdata=self.data_dir, user=user)

    def stop(self) -> None:
        self._pg_ctl("-w", "-m", "fast", "stop")

    def restart(self) -> None:
        # pgserver starts it again with its own socket options
        from pgserver.postgres_server import PostgresServer

        PostgresServer._instances.pop(self.data_dir, None)
        import pgserver

        pgserver.get_server(self.data_dir, cleanup_mode=None)


@dataclass
class MigratedPostgres:
    """One throwaway server per test session with Sightline's schema and demo credentials written once,
    into a template: each fault test's world is a database copied from it in a moment."""

    pg: Postgres
    public_key: str

    @classmethod
    def create(cls, data_dir: Path) -> MigratedPostgres:
        pg = Postgres(data_dir)
        env = production_env(pg.start("sightline_template"))
        manage(env, "migrate", "--no-input", "-v0")
        key = json.loads(manage(env, "demo_credentials", "--json").strip().splitlines()[-1])["public_key"]
        return cls(pg, key)

    def database(self, name: str) -> str:
        """The URL of a fresh, migrated database called `name`."""
        return self.pg.start(name, template="sightline_template")


def production_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_ALLOW"))}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="fault-tests-" + "k" * 60,
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        DB_CONN_MAX_AGE="60",
        LOG_LEVEL="WARNING",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode:
        raise RuntimeError(result.stderr[-2000:])
    return result.stdout


class Gunicorn:
    """gunicorn with the production configuration (gunicorn.conf.py); `args` override it as on a command line.

    With `log`, the access and error logs go to that file (read it with `log_text()`). It is ready when
    `ready_path` answers (the ingestion lane, DJANGO_SETTINGS_MODULE=config.settings_ingest, has no /login/).
    """

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int = 2,
        timeout: int = 30,
        args: tuple[str, ...] = (),
        log: Path | None = None,
        ready_path: str = "/login/",
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        output = open(log, "ab") if log else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--config", str(ROOT / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--timeout", str(timeout), "--graceful-timeout", "5", "--no-control-socket",
             *args],
            cwd=ROOT, env=env, stdout=output or subprocess.DEVNULL, stderr=output or subprocess.PIPE,
        )  # fmt: skip
        if output:
            output.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + ready_path, timeout=2)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.log_text()[-2000:]) from None
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def log_text(self) -> str:
        if self.log:
            return self.log.read_text(errors="replace")
        return self.process.stderr.read().decode(errors="replace") if self.process.poll() is not None else ""

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the gunicorn master) right now."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
