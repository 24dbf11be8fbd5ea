"""gunicorn configuration used by `bench/ingest.py --profile …` to see where a worker's time goes.

`BENCH_PROFILE=timing` wraps the stages of the ingestion pipeline with wall-clock
and CPU timers (the CPU clock of the calling thread: the gap between the two is
time spent waiting, mostly for PostgreSQL). `BENCH_PROFILE=cprofile` runs
cProfile in every worker. Each worker writes what it measured into
`BENCH_PROFILE_DIR` when it exits; bench/ingest.py adds the workers up.

The wrappers replace module attributes after the application is loaded, so the
product code is measured as it is, without being changed.
"""

from __future__ import annotations

import os
import threading
import time

_stats: dict[str, list[float]] = {}
_lock = threading.Lock()
_profiler = None


def _record(name: str, wall: float, cpu: float) -> None:
    with _lock:
        entry = _stats.get(name)
        if entry is None:
            entry = _stats[name] = [0, 0.0, 0.0]
        entry[0] += 1
        entry[1] += wall
        entry[2] += cpu


def _timed(name: str, fn):
    perf, cpu_clock = time.perf_counter, time.thread_time

    def wrapper(*args, **kwargs):
        w0, c0 = perf(), cpu_clock()
        try:
            return fn(*args, **kwargs)
        finally:
            _record(name, perf() - w0, cpu_clock() - c0)

    wrapper.__wrapped__ = fn
    return wrapper


def _patch(module, attribute: str, name: str) -> None:
    setattr(module, attribute, _timed(name, getattr(module, attribute)))


def _install_timing(worker) -> None:
    """The stages of an ingestion request: checked without the database, then one INSERT into the queue."""
    from django.core.handlers.base import BaseHandler
    from django.db.backends.base import base as db_base

    from tracking.ingest import accept, pipeline, queue, views

    worker.wsgi = _timed("request (WSGI, whole)", worker.wsgi)
    _patch(BaseHandler, "resolve_request", "resolve the URL")
    _patch(db_base.BaseDatabaseWrapper, "close_if_health_check_failed", "connection health check")
    _patch(views, "read_json", "body: read, gunzip, JSON parse")
    _patch(views, "project_for_key", "project lookup (cached)")
    _patch(views, "batch_accept", "batch_accept (whole)")
    _patch(accept, "rate_limited", "rate limit check")
    _patch(pipeline, "clean_event", "validate: clean_event (per event)")
    _patch(queue, "batch_check", "validate: batch_check (whole)")
    _patch(queue, "batch_encode", "encode the queue payload")
    _patch(queue, "queue_check_pressure", "queue pressure check")
    _patch(queue, "queue_append", "queue append (whole: INSERT, inline drain if any)")


def post_worker_init(worker) -> None:
    global _profiler
    mode = os.environ.get("BENCH_PROFILE", "")
    if mode == "timing":
        _install_timing(worker)
    elif mode == "cprofile":
        import cProfile

        _profiler = cProfile.Profile()
        _profiler.enable()


def worker_exit(server, worker) -> None:
    import json

    out = os.environ.get("BENCH_PROFILE_DIR")
    if not out:
        return
    pid = os.getpid()
    if _profiler is not None:
        _profiler.disable()
        _profiler.dump_stats(os.path.join(out, f"worker-{pid}.pstats"))
    if _stats:
        with open(os.path.join(out, f"worker-{pid}.json"), "w") as fh:
            json.dump(_stats, fh)
