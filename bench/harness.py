"""A scratch PostgreSQL database for a benchmark run, and Django pointed at it.

Two places to put it:

- `temp` (default): a throwaway PostgreSQL (the pgserver binaries the project
  already uses) with its data directory in a fresh folder under /tmp, given the
  memory settings docs/deploy.md asks of a deployment (shared_buffers a quarter of
  RAM, effective_cache_size three quarters; pgserver's own defaults are 128 MB and
  4 GB). Nothing else shares it, so PostgreSQL settings can be tried on it
  (`pg_settings`) and the developer's database and the test databases are never
  touched. The server is stopped and the folder removed at the end of the run.
- `embedded`: a database named `sightline_bench` in the project's embedded
  server (`.data/pg`), dropped at the end. Settings cannot be changed there.

Django is configured through the environment exactly as a deployment would be
(DATABASE_URL, SECRET_KEY, ALLOWED_HOSTS…), so gunicorn workers started by a
benchmark read the same settings as the benchmark process itself.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "sightline_bench"


def project_on_path() -> None:
    """Make `config`, `tracking`, `segments` importable when a script runs as `python bench/x.py`.

    The script's own folder comes first on sys.path, where `bench/segments.py`
    would shadow the `segments` app: replace it with the project root.
    """
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(here)]
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


class ScratchDatabase:
    """Create a scratch database (and maybe a throwaway server); `close()` removes everything."""

    def __init__(self, where: str = "temp", pg_settings: dict[str, str] | None = None, keep: bool = False):
        if where not in ("temp", "embedded"):
            raise ValueError("where must be 'temp' or 'embedded'")
        if pg_settings and where != "temp":
            raise ValueError("PostgreSQL settings can only be changed on a throwaway server (--server temp)")
        self.where = where
        self.keep = keep or os.environ.get("SIGHTLINE_BENCH_KEEP") == "1"
        # A throwaway server is configured as docs/deploy.md tells a deployment to be
        # (`--pg-setting` overrides); the embedded one keeps what it has.
        self.pg_settings = {**deploy_memory_settings(), **(pg_settings or {})} if where == "temp" else {}
        self.tmp_dir: Path | None = None
        self.pg_dir: Path | None = None
        self.url = ""
        self.admin_url = ""
        self.postmaster_pid: int | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def open(self) -> ScratchDatabase:
        logging.getLogger("pgserver").setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", module="platformdirs")
        import pgserver

        if self.where == "temp":
            self.tmp_dir = Path(tempfile.mkdtemp(prefix="sightline-bench-", dir="/tmp"))
            self.tmp_dir.chmod(0o755)
            self.pg_dir = self.tmp_dir / "pg"
        else:
            self.pg_dir = ROOT / ".data" / "pg"
        server = pgserver.get_server(self.pg_dir, cleanup_mode=None)
        if self.pg_settings:
            for name, value in self.pg_settings.items():
                server.psql(f"ALTER SYSTEM SET {name} = '{value}';")
            self._pg_ctl(["-w", "-m", "fast", "-l", str(self.pg_dir / "log"), "restart"])
            server = _reattach(self.pg_dir)
        self.admin_url = server.get_uri("postgres")
        self.postmaster_pid = server.get_pid()
        server.psql(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE);")
        server.psql(f"CREATE DATABASE {BENCH_DB};")
        self.url = server.get_uri(BENCH_DB)
        return self

    def close(self) -> None:
        if self.keep:
            print(f"kept: {self.url}", file=sys.stderr)
            return
        import psycopg

        try:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        except psycopg.Error as error:
            print(f"could not drop {BENCH_DB}: {error}", file=sys.stderr)
        if self.where == "temp" and self.tmp_dir is not None:
            try:
                self._pg_ctl(["-w", "-m", "fast", "stop"])
            finally:
                shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def __enter__(self) -> ScratchDatabase:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def _pg_ctl(self, args: list[str]) -> None:
        from pgserver._commands import pg_ctl

        user = "pgserver" if os.geteuid() == 0 else None
        pg_ctl(args, pgdata=self.pg_dir, user=user, timeout=120)

    # -- facts -------------------------------------------------------------------------
    def settings(self, names: list[str]) -> dict[str, str]:
        import psycopg

        with psycopg.connect(self.url) as conn:
            return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}

    def server_pids(self) -> list[int]:
        """The postmaster and all its children (backends, checkpointer, wal writer…)."""
        import psutil

        if self.postmaster_pid is None:
            return []
        try:
            root = psutil.Process(self.postmaster_pid)
            return [root.pid, *(c.pid for c in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def environment(self, data_dir: Path | None = None) -> dict[str, str]:
        """Environment variables that point Sightline (and gunicorn workers) at the scratch database."""
        data = data_dir or (self.tmp_dir or Path(tempfile.mkdtemp(prefix="sightline-bench-data-")))
        return {
            "DATABASE_URL": self.url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "SIGHTLINE_DATA_DIR": str(data / "sightline-data"),
            "LOG_LEVEL": "WARNING",
            "DB_CONN_MAX_AGE": "600",
        }


def deploy_memory_settings() -> dict[str, str]:
    """docs/deploy.md's memory settings for this machine: shared_buffers a quarter of RAM,
    effective_cache_size three quarters."""
    import psutil

    mb = psutil.virtual_memory().total // (1024 * 1024)
    return {"shared_buffers": f"{mb // 4}MB", "effective_cache_size": f"{mb * 3 // 4}MB"}


def vacuum_settled(conn, tables: list[str], *, attempts: int = 5) -> list[str]:
    """VACUUM (ANALYZE) `tables` (on an autocommit connection) until their visibility maps cover
    every page; prints and returns the tables still short after `attempts`.

    Index-only scans read the heap for every row on a page not marked all-visible, and two
    things right after a bulk load keep VACUUM from marking pages:
    - rows committed asynchronously (the loads use synchronous_commit = off) cannot be hinted
      as committed until the WAL holding their commit is flushed;
    - autovacuum's own ANALYZE of the big tables, which starts as the load ends, holds a
      snapshot older than the rows written just before.
    Both depend on timing: one run measured 84,000 heap fetches in a counting segment that
    reads none once the rollup was vacuumed again. Settling them measures every run on the
    same state, the one autovacuum reaches in a steady deployment.
    """
    conn.execute("SET synchronous_commit = on")
    conn.execute("SELECT txid_current()")  # a synchronous commit flushes the WAL of every earlier one
    conn.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
    for attempt in range(attempts + 1):
        short = [
            name
            for (name,) in conn.execute(
                "SELECT relname::text FROM pg_class WHERE relname = ANY(%s) AND relallvisible < relpages",
                [tables],
            ).fetchall()
        ]
        if not short or attempt == attempts:
            break
        for _ in range(600):  # let autovacuum's workers finish (they hold the snapshots)
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
            ).fetchone()[0]
            if not busy:
                break
            time.sleep(0.1)
        conn.execute("SELECT txid_current()")
        conn.execute(f"VACUUM {', '.join(short)}")
    if short:
        print(f"  not all-visible after {attempts + 1} vacuums: {', '.join(short)}", flush=True)
    return short


def _reattach(pg_dir: Path):
    """pgserver caches its handle; after a restart read the new postmaster info."""
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import PostmasterInfo

    server = PostgresServer._instances[pg_dir.resolve()]
    for _ in range(100):
        info = PostmasterInfo.read_from_pgdata(pg_dir)
        if info is not None and info.is_running() and info.status == "ready":
            server._postmaster_info = info
            return server
        time.sleep(0.1)
    raise RuntimeError("the benchmark server did not come back after restart")


def django_setup(db: ScratchDatabase, *, migrate: bool = True) -> dict[str, str]:
    """Configure this process for the scratch database, set Django up, migrate; returns the environment used."""
    env = db.environment()
    os.environ.update(env)
    project_on_path()
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        _create_unmigrated_tables()
    return env


def _create_unmigrated_tables() -> None:
    """Create tables for models that have no migration yet, so work in progress elsewhere cannot break a run."""
    from django.apps import apps
    from django.db import connection

    existing = set(connection.introspection.table_names())
    missing = [
        m
        for m in apps.get_models()
        if m._meta.managed and not m._meta.proxy and m._meta.db_table not in existing
    ]
    if not missing:
        return
    print(f"warning: no migration for {', '.join(m._meta.label for m in missing)}; created their tables directly",
          file=sys.stderr)  # fmt: skip
    with connection.schema_editor() as editor:
        for model in missing:
            editor.create_model(model)


def bench_project(*, name: str = "Bench", timezone: str = "UTC"):
    """An organization and project for the run; no ingest rate limit (it is per process and would throttle)."""
    from tracking.models import Organization, Project

    org = Organization.objects.create(name="Bench")
    return Project.objects.create(organization=org, name=name, timezone=timezone, ingest_rate_limit=0)


def parse_pg_settings(values: list[str] | None) -> dict[str, str]:
    settings: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.replace("_", "").isalnum():
            raise SystemExit(f"--pg-setting takes name=value, got {item!r}")
        settings[name.strip()] = value.strip()
    return settings


class CpuMeter:
    """CPU seconds used by groups of processes between start() and stop(), and by the whole machine.

    A process's CPU includes its reaped children's: PostgreSQL backends come and go with
    connections and gunicorn recycles its workers, and the time of one that exits moves
    to its parent (the postmaster, the gunicorn master), which is in the same group.
    Without it an exited backend's time vanished from its group and showed up as "other
    processes" (even making a group's figure negative).
    """

    def __init__(self) -> None:
        self.groups: dict[str, object] = {}
        self.before: dict[str, float] = {}
        self.after: dict[str, float] = {}
        self.machine_before = None
        self.machine_after = None
        self.wall = 0.0

    def add(self, name: str, pids_fn) -> None:
        self.groups[name] = pids_fn

    @staticmethod
    def _cpu(pids: list[int]) -> float:
        import psutil

        total = 0.0
        for pid in pids:
            try:
                t = psutil.Process(pid).cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                continue
        return total

    def start(self) -> None:
        import psutil

        self.pids = {name: list(fn()) for name, fn in self.groups.items()}
        self.before = {name: self._cpu(p) for name, p in self.pids.items()}
        self.machine_before = psutil.cpu_times()
        self.t0 = time.perf_counter()

    def stop(self) -> None:
        import psutil

        self.wall = time.perf_counter() - self.t0
        # include processes that appeared meanwhile (new backends); their whole CPU counts
        for name, fn in self.groups.items():
            pids = set(self.pids[name]) | set(fn())
            self.after[name] = self._cpu(list(pids))
            self.pids[name] = list(pids)
        self.machine_after = psutil.cpu_times()

    def used(self, name: str) -> float:
        return self.after[name] - self.before[name]

    def machine_busy(self) -> float:
        b, a = self.machine_before, self.machine_after
        busy = lambda t: t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)  # noqa: E731
        return busy(a) - busy(b)

    def report(self, cores: int) -> list[str]:
        capacity = self.wall * cores
        lines = []
        ours = 0.0
        for name in self.groups:
            used = self.used(name)
            ours += used
            lines.append(f"  {name:<22} {used:8.1f} s  {100 * used / capacity:5.1f}% of {cores} cores")
        other = max(0.0, self.machine_busy() - ours)
        lines.append(
            f"  {'other processes':<22} {other:8.1f} s  {100 * other / capacity:5.1f}% of {cores} cores"
        )
        return lines
