"""Event-store configuration: CLICKHOUSE_URL when set, events in PostgreSQL otherwise.

- `http://user:password@host:8123/database` or `https://…`: a ClickHouse server
  or cluster, through clickhouse-connect;
- `chdb:///absolute/path` or `chdb://relative/path` (relative to the data
  directory): chDB, ClickHouse inside this process. One process owns a chDB
  directory, so this is for tests, benchmarks and single-process runs.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_NAME = "CLICKHOUSE_URL"
_IDENTIFIER_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def parse_clickhouse_url(url: str, data_dir: Path) -> dict:
    """Turn CLICKHOUSE_URL into the event store's settings; a bad URL stops start-up naming the variable."""
    parts = urlsplit(url.strip())
    if parts.scheme == "chdb":
        # chdb:///abs/path has an empty netloc; chdb://relative/path puts the first segment there
        raw = unquote(parts.netloc + parts.path)
        if not raw or raw == "/":
            raise ImproperlyConfigured(
                f"{_NAME} must name a directory, e.g. chdb:///var/lib/sightline/events"
            )
        path = Path(raw) if parts.netloc == "" else data_dir / raw
        return {"kind": "chdb", "path": str(path), "database": "sightline"}
    if parts.scheme not in {"http", "https"}:
        raise ImproperlyConfigured(
            f"{_NAME} must be an http://, https:// or chdb:// URL; got {parts.scheme or 'no scheme'!r}"
        )
    if not parts.hostname:
        raise ImproperlyConfigured(
            f"{_NAME} must name a host, e.g. http://default:secret@clickhouse:8123/sightline"
        )
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{_NAME} has an invalid port") from None
    database = unquote(parts.path.strip("/")) or "default"
    if not set(database) <= _IDENTIFIER_CHARS:
        raise ImproperlyConfigured(f"{_NAME} names the database {database!r}; use letters, digits and _ only")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    cluster = query.pop("cluster", "")
    if cluster and not set(cluster) <= _IDENTIFIER_CHARS:
        raise ImproperlyConfigured(f"{_NAME} names the cluster {cluster!r}; use letters, digits and _ only")
    return {
        "kind": "http",
        "host": parts.hostname,
        "port": port or (8443 if parts.scheme == "https" else 8123),
        "secure": parts.scheme == "https",
        "username": unquote(parts.username or "default"),
        "password": unquote(parts.password or ""),
        "database": database,
        "cluster": cluster,
    }
