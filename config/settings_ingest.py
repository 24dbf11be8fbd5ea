"""Settings for the ingestion lane: the endpoints snippets and SDKs call, and nothing else.

deploy/Procfile runs its `ingest` gunicorn group with these (docs/deploy.md,
"Separate lanes"). They are config.settings, the same database, secrets and
queue limits, with a shorter path through each request:

- the URLs are only ingestion's, decide and flags, the compatible endpoints and
  the health check (`config.urls_ingest`): resolving a batch's URL against the
  whole product's URLs cost 0.65 ms of CPU per request;
- no sessions, users, messages, CSP or htmx: ingestion is public, credential-free
  and answers JSON (`request.user` is absent; `/health/ingest` shows per-project
  figures to the monitoring token only);
- no connection health check: it is one extra round trip (`SELECT 1`) before
  every request. After the database restarts, the first request on a dead
  connection answers 503 with Retry-After, which every client retries, and the
  connection is replaced.
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES

ROOT_URLCONF = "config.urls_ingest"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "web.middleware.RefuseNulMiddleware",
    # every view here is csrf_exempt; kept so that nothing added later is left unprotected
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "web.outage.StorageOutageMiddleware",
]

# a copy: config.settings' own dict stays as it is wherever both modules are imported (tests)
DATABASES = {**DATABASES, "default": {**DATABASES["default"], "CONN_HEALTH_CHECKS": False}}

# The admin needs sessions, users and messages, and is not served here (config.urls_ingest has no admin URLs)
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]
