"""One way to talk to ClickHouse, whether it runs in this process (chDB) or on a server.

Every statement binds its values as server-side parameters (`{name:Type}`),
never by formatting them into the text; `Params` hands out the names. Long
lists of integers travel beside the statement instead, as a table (`Rows`).
Results come back as tuples of Python values (datetime, UUID, Decimal, int, str),
or, for long results handed on whole, as a pyarrow Table (`query_table`).
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings

from web import budget
from web.outage import StorageUnavailable

_lock = threading.Lock()
_client: Client | None = None
_client_config: dict | None = None


class ClickHouseUnavailable(StorageUnavailable):
    """ClickHouse did not answer (down, unreachable, or the statement failed on its side)."""


class Params(dict):
    """Named parameters for one statement: `p.add(value, "String")` returns `{p0:String}`."""

    def add(self, value: Any, type_: str) -> str:
        name = f"p{len(self)}"
        self[name] = value
        return f"{{{name}:{type_}}}"


class Rows:
    """Integer columns this process holds (a cohort's ids and first moments), sent with one query as a table.

    ClickHouse reads them in its binary row format: bound as array parameters,
    500,000 ids and moments took it 1.9 s to parse. `Client.rows_table` gives the
    table to select from; pass the same `Rows` to `Client.query`.
    """

    def __init__(self, name: str, columns: Sequence[str], values: Sequence[Sequence[int]]) -> None:
        import numpy as np

        self.name = name
        self.structure = ", ".join(f"{column} Int64" for column in columns)
        # RowBinary: each row's values one after the other, little-endian
        self.data = np.column_stack([np.asarray(v, dtype="<i8") for v in values]).tobytes()
        self.path: str | None = None  # chDB's file of the rows (ChdbClient.rows_table)


class Client:
    database: str
    cluster: str = ""

    def query(self, sql: str, params: dict | None = None, rows: Sequence[Rows] = ()) -> list[tuple]:
        raise NotImplementedError

    def query_table(self, sql: str, params: dict | None = None, rows: Sequence[Rows] = ()):
        """The result as a pyarrow Table, by column: for long results handed on whole (tracking.eventstore.arrays.unnest_sql)."""
        raise NotImplementedError

    def rows_table(self, rows: Rows) -> str:
        """The table expression that reads `rows` in a statement run by `query(…, rows=[rows])`."""
        raise NotImplementedError

    def command(self, sql: str, params: dict | None = None) -> None:
        raise NotImplementedError

    def insert_json(self, table: str, rows: Iterable[dict]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def table(self, name: str) -> str:
        return f"{self.database}.{name}"

    def on_cluster(self) -> str:
        return f" ON CLUSTER {self.cluster}" if self.cluster else ""


def _json_default(value: Any) -> Any:
    return str(value)


def _dumps_rows(rows: Iterable[dict]) -> bytes:
    return b"\n".join(orjson.dumps(row, default=_json_default) for row in rows)


class ChdbClient(Client):
    """chDB in this process: one session on one directory, shared by the process's threads."""

    def __init__(self, path: str, database: str) -> None:
        from chdb import session  # a dev/bench dependency, imported only when configured

        self.database = database
        self._session = session.Session(path)
        self._lock = threading.Lock()
        self._session.query(f"CREATE DATABASE IF NOT EXISTS {database}")

    def _run(self, sql: str, params: dict | None, fmt: str):
        budget.check()  # one query at a time in process: a cancelled job stops between queries
        try:
            with self._lock:
                if params:
                    return self._session.query(sql, fmt, params=_plain(params))
                return self._session.query(sql, fmt)
        except Exception as error:  # chDB raises RuntimeError with ClickHouse's message
            raise ClickHouseUnavailable(str(error).strip()) from error

    def query(self, sql: str, params: dict | None = None, rows: Sequence[Rows] = ()) -> list[tuple]:
        table = self.query_table(sql, params, rows)
        if table.num_columns == 0:
            return []
        return list(zip(*(_python_values(column) for column in table.columns), strict=True))

    def query_table(self, sql: str, params: dict | None = None, rows: Sequence[Rows] = ()):
        # chDB reads files of this machine: each table of rows is a file while the query runs
        try:
            for table_rows in rows:
                with open(table_rows.path, "wb") as out:  # set by rows_table
                    out.write(table_rows.data)
            return self._run(sql, params, "ArrowTable")
        finally:
            for table_rows in rows:
                Path(table_rows.path).unlink(missing_ok=True)

    def rows_table(self, rows: Rows) -> str:
        rows.path = os.path.join(tempfile.gettempdir(), f"sightline-{rows.name}-{uuid.uuid4().hex}.bin")
        return f"file('{_escaped(rows.path)}', 'RowBinary', '{rows.structure}')"

    def command(self, sql: str, params: dict | None = None) -> None:
        self._run(sql, params, "Null")

    def insert_json(self, table: str, rows: Iterable[dict]) -> None:
        body = _dumps_rows(rows)
        if body:
            self._run(f"INSERT INTO {table} FORMAT JSONEachRow\n" + body.decode(), None, "Null")

    def close(self) -> None:
        self._session.close()


def _python_values(column) -> list:
    """A result column as Python values. Timestamps go through NumPy: Arrow's own conversion
    builds a zone-aware datetime per value, some 80 times slower, which dominated large results."""
    import pyarrow as pa

    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        naive = column.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False).tolist()
        return [None if value is None else value.replace(tzinfo=UTC) for value in naive]
    return column.to_pylist()


class HttpClient(Client):
    """A ClickHouse server (or a cluster's load balancer) over HTTP, through clickhouse-connect."""

    def __init__(self, config: dict) -> None:
        import clickhouse_connect

        self.database = config["database"]
        self.cluster = config.get("cluster", "")
        try:
            self._client = clickhouse_connect.get_client(
                host=config["host"],
                port=config["port"],
                username=config["username"],
                password=config["password"],
                secure=config["secure"],
                database="default",
                settings={"async_insert": 0},
                connect_timeout=5,
            )
        except Exception as error:
            raise ClickHouseUnavailable(f"cannot reach ClickHouse at {config['host']}: {error}") from error

    def query(self, sql: str, params: dict | None = None, rows: Sequence[Rows] = ()) -> list[tuple]:
        budget.check()
        try:
            result = self._client.query(
                sql, parameters=params or None, settings=_job_settings(), external_data=_external(rows)
            )
            return result.result_rows
        except Exception as error:
            raise ClickHouseUnavailable(str(error).strip()) from error

    def query_table(self, sql: str, params: dict | None = None, rows: Sequence[Rows] = ()):
        budget.check()
        try:
            return self._client.query_arrow(
                sql,
                parameters=params or None,
                settings=_job_settings(),
                use_strings=True,
                external_data=_external(rows),
            )
        except Exception as error:
            raise ClickHouseUnavailable(str(error).strip()) from error

    def rows_table(self, rows: Rows) -> str:
        return rows.name

    def command(self, sql: str, params: dict | None = None) -> None:
        try:
            self._client.command(sql, parameters=params or None)
        except Exception as error:
            raise ClickHouseUnavailable(str(error).strip()) from error

    def insert_json(self, table: str, rows: Iterable[dict]) -> None:
        body = _dumps_rows(rows)
        if not body:
            return
        try:
            self._client.raw_insert(table, insert_block=body, fmt="JSONEachRow")
        except Exception as error:
            raise ClickHouseUnavailable(str(error).strip()) from error

    def close(self) -> None:
        self._client.close()


def _external(rows: Sequence[Rows]):
    """The server's external tables: sent with the query, named in it."""
    if not rows:
        return None
    from clickhouse_connect.driver.external import ExternalData

    external = ExternalData()
    for table_rows in rows:
        external.add_file(
            file_name=table_rows.name, data=table_rows.data, fmt="RowBinary", structure=table_rows.structure
        )
    return external


def _job_settings() -> dict | None:
    """Inside a background job: a query id `KILL QUERY` can find, and the job's remaining time as the limit."""
    tag = budget.query_tag()
    if tag is None:
        return None
    return {"query_id": tag, "max_execution_time": max(1, budget.time_limit_ms(0) // 1000)}


def kill_job_queries(job_id: int) -> None:
    """Stop a cancelled job's queries on a ClickHouse server (chDB stops it between queries instead)."""
    ch = client()
    if isinstance(ch, HttpClient):
        ch.command(
            "KILL QUERY WHERE startsWith(query_id, {prefix:String}) ASYNC",
            {"prefix": f"sightline-job-{job_id}-"},
        )


def _plain(params: dict) -> dict:
    # chDB reads a parameter's value in the escaped (TSV) text format, arrays as
    # ClickHouse literals: give it exactly that text for every value
    return {name: _param_text(value) for name, value in params.items()}


def _param_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, list | tuple):
        return _literal_text(value)  # a literal: its strings are quoted and escaped inside
    return _escaped(_literal_text(value))


_TSV = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


def _escaped(text: str) -> str:
    return text.translate(_TSV)


def _literal_text(value: Any, *, nested: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    elif isinstance(value, list | tuple):
        if all(type(v) is int for v in value):
            # ids and microseconds, the long arrays (a cohort's 500,000 members): 15 times faster
            return "[" + ",".join(map(str, value)) + "]"
        return "[" + ",".join(_literal_text(v, nested=True) for v in value) + "]"
    elif value is None:
        return "NULL"
    else:
        text = str(value)
    if nested and not isinstance(value, int | float | Decimal):
        return "'" + _escaped(text).replace("'", "\\'") + "'"
    return text


def client() -> Client:
    """The process's ClickHouse client for settings.CLICKHOUSE, opened on first use (and again if it changes)."""
    global _client, _client_config
    config = settings.CLICKHOUSE
    if _client is None or _client_config != config:
        with _lock:
            if _client is None or _client_config != config:
                if not config:
                    raise RuntimeError("events are stored in PostgreSQL: CLICKHOUSE_URL is not set")
                if _client is not None:
                    _client.close()
                    _client = None
                _client = (
                    ChdbClient(config["path"], config["database"])
                    if config["kind"] == "chdb"
                    else HttpClient(config)
                )
                _client_config = dict(config)
    return _client


def client_reset() -> None:
    """Forget the client (a forked worker must not share its parent's session)."""
    global _client, _client_config
    with _lock:
        if _client is not None:
            _client.close()
        _client = _client_config = None
