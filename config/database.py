"""Database configuration: DATABASE_URL when set, embedded PostgreSQL otherwise.

The embedded server is `pgserver` (PostgreSQL in a pip wheel) with its data
directory under `.data/pg`. It listens on a Unix socket only, so it never
conflicts with another PostgreSQL on the machine. The first Django process that
needs it starts it and it keeps running, like a local database service; `make
run` (`manage.py serve`) stops it on exit when it was the one that started it.
pgserver's own reference counting is not used: a process killed by a signal
never deregisters, which would keep the server up forever anyway.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

EMBEDDED_DB_NAME = "sightline"
started_here = False  # whether this process started the embedded server


def parse_database_url(url: str) -> dict:
    """Turn `postgres://user:pass@host:port/name?sslmode=require` into a Django DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgres:// URL (Sightline runs on PostgreSQL only); got scheme {parts.scheme!r}"
        )
    name = unquote(parts.path.lstrip("/"))
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    if not name:
        raise ImproperlyConfigured("DATABASE_URL must name a database, e.g. postgres://user@host/sightline")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("DATABASE_URL has an invalid port") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": query,
    }


def embedded_database(data_dir: Path) -> dict:
    """Start (or attach to) the embedded PostgreSQL and return its DATABASES entry."""
    import logging
    import warnings

    # pgserver logs every pg_ctl call at INFO, and platformdirs warns about an
    # unset XDG_RUNTIME_DIR on servers; neither helps someone running Sightline.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver  # imported lazily: production deployments never need it

    global started_here
    pg_dir = data_dir / "pg"
    pg_dir.parent.mkdir(parents=True, exist_ok=True)
    started_here = not _embedded_running(pg_dir)
    _repair_handle_list(pg_dir)
    server = _get_server(pgserver, pg_dir)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DB_NAME}';")  # noqa: S608 - a constant
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DB_NAME};")
    config = parse_database_url(server.get_uri(EMBEDDED_DB_NAME))
    config["OPTIONS"].pop("sslmode", None)
    return config


def _get_server(pgserver, pg_dir: Path, recovery_seconds: float = 300, attempts: int = 5):
    """Attach to (or start) the embedded server, past a handle list that another process was
    rewriting at the same moment: `make run` starts its web, drain and task processes together,
    and pgserver rewrites that list without a lock (see `_repair_handle_list`)."""
    import time

    for attempt in range(attempts - 1):
        try:
            return _get_server_once(pgserver, pg_dir, recovery_seconds)
        except ValueError:  # the list did not parse: json.JSONDecodeError
            _forget_instance(pg_dir)
            _repair_handle_list(pg_dir)
            time.sleep(0.05 * (attempt + 1))
    return _get_server_once(pgserver, pg_dir, recovery_seconds)  # the last attempt raises what it meets


def _forget_instance(pg_dir: Path) -> None:
    """Drop pgserver's cached handle for `pg_dir`, so the next get_server attaches afresh."""
    from pgserver.postgres_server import PostgresServer

    for key in [key for key in PostgresServer._instances if Path(key).resolve() == pg_dir.resolve()]:
        del PostgresServer._instances[key]


def _get_server_once(pgserver, pg_dir: Path, recovery_seconds: float):
    """pgserver gives `pg_ctl start` 10 seconds. After an unclean shutdown (a machine that lost
    power, a killed container) PostgreSQL first replays its write-ahead log, which can take
    longer; the server keeps starting in the background, so wait for it and attach."""
    import subprocess
    import time

    try:
        return pgserver.get_server(pg_dir, cleanup_mode=None)
    except subprocess.TimeoutExpired:
        from pgserver.utils import PostmasterInfo

        # the failed attempt registered itself; attaching must start afresh
        _forget_instance(pg_dir)

        deadline = time.monotonic() + recovery_seconds
        while time.monotonic() < deadline:
            info = PostmasterInfo.read_from_pgdata(pg_dir)
            if info is not None and info.is_running() and info.status == "ready":
                return pgserver.get_server(pg_dir, cleanup_mode=None)
            time.sleep(1)
        raise ImproperlyConfigured(
            f"the embedded PostgreSQL in {pg_dir} did not finish starting in {recovery_seconds:.0f} s;"
            f" its log is {pg_dir / 'log'}"
        ) from None


def _repair_handle_list(pg_dir: Path) -> None:
    """pgserver keeps the processes attached to a server in a JSON file it rewrites without a lock;
    processes starting and stopping at once can leave it empty, and every later start then fails
    to parse it. Sightline does not use that reference count (see the module docstring): an
    unreadable list is reset to an empty one."""
    import json

    handles = pg_dir / ".handle_pids.json"
    try:
        json.loads(handles.read_text())
    except FileNotFoundError:
        return
    except ValueError:
        handles.write_text("[]")


def _embedded_running(pg_dir: Path) -> bool:
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pg_dir)
    return info is not None and info.is_running()


def embedded_database_stop(data_dir: Path) -> None:
    """Stop the embedded server (fast shutdown: open sessions are disconnected)."""
    from pgserver._commands import pg_ctl
    from pgserver.postgres_server import PostgresServer

    pg_dir = data_dir / "pg"
    if _embedded_running(pg_dir):
        server = PostgresServer._instances.get(pg_dir)
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg_dir, user=server.system_user if server else None)
