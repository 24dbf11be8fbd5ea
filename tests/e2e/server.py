"""A tap on the live server: what it received, and a gate to close between tests.

Playwright does not report `sendBeacon` requests made while a page unloads, so
the browser's view of the traffic is completed by what the server read. The gate
makes emptying the database after a test safe: a beacon arriving late is answered
503 without touching the database instead of deadlocking with the flush.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterable

from tests.e2e.traffic import Sent


class ServerTap:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._open = True
        self.received: list[Sent] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of everything served

    def wrap(self, app: Callable) -> Callable:
        def tapped(environ: dict, start_response: Callable) -> Iterable[bytes]:
            with self._lock:
                if not self._open:
                    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                    return [b"between tests"]
                self._active += 1
            try:
                self._record(environ)
                return app(environ, start_response)
            finally:
                with self._lock:
                    self._active -= 1

        return tapped

    def _record(self, environ: dict) -> None:
        method, path, query = environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", "")
        with self._lock:
            self.requests.append((method, path))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if not length:
            return
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        sent = Sent(
            url=path + (f"?{query}" if query else ""),
            method=method,
            content_type=environ.get("CONTENT_TYPE", ""),
            raw=raw,
        )
        with self._lock:
            self.received.append(sent)

    def open(self) -> None:
        with self._lock:
            self.received.clear()
            self.requests.clear()
            self._open = True

    def close(self, *, timeout: float = 10.0) -> None:
        """Refuse new requests and wait for those in progress to finish."""
        with self._lock:
            self._open = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._active == 0:
                    return
            time.sleep(0.01)
