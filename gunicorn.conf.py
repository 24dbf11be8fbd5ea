"""gunicorn settings for a Sightline web node: `gunicorn config.wsgi` reads this file from the project root.

    gunicorn config.wsgi                       # this file is picked up from the working directory
    gunicorn config.wsgi -c gunicorn.conf.py   # the same, explicitly
    WEB_CONCURRENCY=8 PORT=9000 gunicorn config.wsgi

Command-line options override anything set here. See docs/deploy.md for the
reasoning; in short:

- **sync workers, 2 x CPUs + 1.** Every request (an ingest batch, a page)
  is short and mostly waits on PostgreSQL; one request per process keeps a
  stuck request from affecting anything but itself.
- **A 30 s timeout is the hard limit on a request.** A sync worker that is
  silent for `timeout` seconds is aborted and replaced. That is what bounds a
  client that sends its headers and then trickles the body: it holds one
  worker for at most 30 s, never for ever (tests/hardening/test_slow_client.py).
  With threaded workers (`gthread`) the timeout would not apply to a single
  thread reading a slow body, so keep the sync class.
- **A buffering reverse proxy in front (nginx, or a load balancer that buffers
  whole requests)** is still the answer to many slow clients at once: it reads
  each request completely before handing it to gunicorn, so a worker only ever
  sees complete requests. Without it, as many slow clients as there are
  workers can make a node unresponsive for up to `timeout` seconds at a time.
"""

from __future__ import annotations

import os
import sys


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours taskset/cpuset limits
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# -- where and how many ----------------------------------------------------------------
bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
# WEB_CONCURRENCY is gunicorn's own variable; in a container whose CPU quota is
# smaller than the host's CPU count, set it explicitly.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpus() + 1)
worker_class = "sync"
backlog = 2048  # connections queued in the kernel while every worker is busy

# -- time limits -----------------------------------------------------------------------
# The longest any request may take, reading a slow body included. Ingest
# batches answer in well under a second and pages within a few seconds even
# under load (bench/load.py); segment computations run in the background
# worker, not here.
timeout = 30
# Analysis pages (funnels, retention, paths) run their statements with a time
# limit and answer "try a shorter range" when it is reached; that answer must
# come before the worker is aborted, so the limit defaults to 5 s less than the
# timeout here (without this file the application's default is 60 s).
os.environ.setdefault("ANALYSIS_TIMEOUT_MS", str((timeout - 5) * 1000))
# On SIGTERM (a deploy, a scale-down) workers finish what they are doing for up
# to this long before they are killed: as long as the longest legitimate request.
graceful_timeout = 30
# Sync workers close the connection after every response, so this only matters
# for a threaded worker class; there it must exceed the idle timeout of the
# proxy's upstream connections, so that the proxy, not gunicorn, closes them.
keepalive = 5

# -- limits on what a request may be ---------------------------------------------------
# Request bodies are capped by the application (INGEST_MAX_BODY_BYTES on /i/v1/,
# 5 MB for a segment CSV upload) and, before that, by the proxy
# (client_max_body_size): gunicorn itself has no body limit.
# The events explorer, filters and searches are GET forms: allow long URLs
# (8190 is gunicorn's maximum; the default is 4094).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# -- worker lifecycle ------------------------------------------------------------------
# Load Django once in the master and fork workers from it: less memory, and a
# worker replaced after a timeout (or after max_requests) is serving again in
# milliseconds instead of re-importing everything. Django opens no database
# connection at import; pre_fork below makes sure none is ever inherited.
# The price: code changes need a full restart, not a HUP (see docs/deploy.md).
preload_app = True
# Recycle workers now and then so a slow leak can never grow without bound;
# the jitter keeps them from restarting all at once.
max_requests = 10000
max_requests_jitter = 1000
# The heartbeat file every worker touches: in memory, so a slow or overlay disk
# cannot make healthy workers look stuck.
if os.path.isdir("/dev/shm"):  # noqa: S108 - gunicorn's own heartbeat files, created private
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# -- logging ---------------------------------------------------------------------------
# Access log on stdout, errors on stderr (Django logs to stderr too). The client
# address comes from X-Forwarded-For behind a proxy. Paths are logged without
# their query strings: those carry people's search terms (e-mail addresses…).
# %(M)s is the request time in milliseconds.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '%(h)s fwd=%({x-forwarded-for}i)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms pid=%(p)s "%(a)s"'
proc_name = "sightline-web"


def when_ready(server) -> None:
    # Compile the crawler patterns (about 1,500 regexes) once, in the master: a worker
    # forked after a timeout then answers its first batch without compiling them.
    from tracking.traffic.bots import user_agent_is_bot

    user_agent_is_bot.__wrapped__("Mozilla/5.0 (warm-up)")
    limit = int(os.environ.get("ANALYSIS_TIMEOUT_MS", "0") or 0)
    if limit >= server.cfg.timeout * 1000:
        server.log.warning(
            "ANALYSIS_TIMEOUT_MS=%s is not below the worker timeout (%ss): a long analysis is cut off"
            " by the timeout (a 500) instead of answering 'try a shorter range'",
            limit,
            server.cfg.timeout,
        )


def pre_fork(server, worker) -> None:
    """Never hand a database connection opened in the master to a worker."""
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def worker_abort(worker) -> None:
    """A worker is being aborted by the timeout: say why in words, beside gunicorn's WORKER TIMEOUT line."""
    worker.log.warning(
        "worker %s aborted: a request took more than %ss, or its client sent it too slowly",
        worker.pid,
        worker.cfg.timeout,
    )
