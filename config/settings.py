"""Sightline settings: one module, configured entirely from the environment.

See README.md ("Configuration") for every variable. Development needs none of
them: the database is embedded and a secret key is generated into `.data/`.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.clickhouse import parse_clickhouse_url
from config.database import embedded_database, parse_database_url
from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("SIGHTLINE_DATA_DIR", str(BASE_DIR / ".data")))
TESTING = "pytest" in sys.modules or env_bool("SIGHTLINE_TESTING", False)

DEBUG = env_bool("DEBUG", False)
DATABASE_URL = env_str("DATABASE_URL")
EMBEDDED_DATABASE = not DATABASE_URL


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")
        return key
    if not (DEBUG or EMBEDDED_DATABASE or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off and DATABASE_URL is set")
    # Development only: generate once and keep it, so sessions survive restarts.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

_dev_hosts = ["localhost", "127.0.0.1", "[::1]", "testserver"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", _dev_hosts if (DEBUG or EMBEDDED_DATABASE) else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names Sightline is served on")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The URL the snippet and e-mails point at, e.g. https://analytics.example.com
SITE_URL = (env_str("SITE_URL", "") or "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "django_htmx",
    "template_partials",
    "django_q",
    "config",
    "tracking",
    "jobs",
    "segments",
    "analysis",
    "replay",
    "interventions",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "web.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "web.outage.StorageOutageMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tracking.context_processors.navigation",
            ],
        },
    },
]

if EMBEDDED_DATABASE:
    _db = embedded_database(DATA_DIR)
else:
    _db = parse_database_url(DATABASE_URL)
_db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
_db["CONN_HEALTH_CHECKS"] = True
# Separate test databases let several test runs share one PostgreSQL server.
_db["TEST"] = {"NAME": env_str("SIGHTLINE_TEST_DB", "test_sightline")}
DATABASES = {"default": _db}

# Where events live: PostgreSQL (the default) or ClickHouse (config.clickhouse).
CLICKHOUSE_URL = env_str("CLICKHOUSE_URL", "")
CLICKHOUSE = parse_clickhouse_url(CLICKHOUSE_URL, DATA_DIR) if CLICKHOUSE_URL else None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tracking.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
# static/dist holds esbuild's output (the snippet at /static/sightline.js and the
# app bundles); static/css holds hand-written styles.
STATICFILES_DIRS = [BASE_DIR / "static" / "dist", ("css", BASE_DIR / "static" / "css")]
WHITENOISE_MAX_AGE = 300  # the snippet URL is not fingerprinted: keep caches short
# Serve straight from the source folders too, so development needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Storage: recordings and uploads go through Django's storage API. Files under
# .data/ by default; S3-compatible object storage when SIGHTLINE_S3_BUCKET is set.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
_s3_bucket = env_str("SIGHTLINE_S3_BUCKET")
if _s3_bucket:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _s3_bucket,
            "endpoint_url": env_str("SIGHTLINE_S3_ENDPOINT_URL"),
            "region_name": env_str("SIGHTLINE_S3_REGION"),
            "access_key": env_str("SIGHTLINE_S3_ACCESS_KEY_ID"),
            "secret_key": env_str("SIGHTLINE_S3_SECRET_ACCESS_KEY"),
            "default_acl": "private",
            "querystring_auth": True,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# E-mail: console in development, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Sightline <noreply@sightline.local>")

# Security: strict whenever DEBUG is off, whatever the database (a single machine on
# the embedded database is a production set-up too), so `manage.py check --deploy`
# is clean. Serving production over plain HTTP takes an explicit ALLOW_PLAIN_HTTP=1;
# the test runner's client speaks plain HTTP as well.
ALLOW_PLAIN_HTTP = env_bool("ALLOW_PLAIN_HTTP", False)
_https_only = not (DEBUG or TESTING or ALLOW_PLAIN_HTTP)
if _https_only and SITE_URL.startswith("http://"):
    raise ImproperlyConfigured(
        f"SITE_URL is {SITE_URL}, plain HTTP, but with DEBUG off Sightline redirects every request to "
        "HTTPS and sends its cookies over HTTPS only. Put TLS in front and use an https:// SITE_URL, "
        "or set ALLOW_PLAIN_HTTP=1 to serve over plain HTTP (logins can then be stolen on the network)."
    )
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https_only)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
# HSTS is sent on HTTPS responses only, so the test client's plain HTTP never meets it.
SECURE_HSTS_SECONDS = env_int(
    "SECURE_HSTS_SECONDS", 0 if (DEBUG or ALLOW_PLAIN_HTTP) else 31536000, minimum=0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS >= 31536000)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _https_only)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy for the app (django-csp 4). The replay viewer widens
# img/font/style sources on its own view only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tracking.api.authentication.PersonalApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "web.api.parsers.JSONParser",
        "web.api.parsers.FormParser",
        "web.api.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "web.api.pagination.Pagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "web.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sightline API",
    "DESCRIPTION": "Management API of Sightline. Authenticate with `Authorization: Bearer sk_…`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # several models have a "kind" with different choices: name each enum
    "ENUM_NAME_OVERRIDES": {
        "SegmentKindEnum": "segments.models.SegmentKind",
        "MetricKindEnum": "analysis.models.MetricKind",
        "AnalysisKindEnum": "analysis.models.AnalysisKind",
    },
}

# Background work: django-q2 on the ORM broker, or Redis when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL")
Q_CLUSTER = {
    "name": "sightline",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "queue_limit": 50,
    "bulk": 10,
    "poll": 0.2,
    "catch_up": False,
    "label": "Background tasks",
    "sync": env_bool("Q_SYNC", False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sightline"}
    )
}

# Ingestion limits (see docs/wire-protocol.md).
INGEST_MAX_BODY_BYTES = env_int("INGEST_MAX_BODY_BYTES", 1_000_000, minimum=1024)
INGEST_MAX_DECOMPRESSED_BYTES = env_int("INGEST_MAX_DECOMPRESSED_BYTES", 5_000_000, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(INGEST_MAX_BODY_BYTES, 2_621_440) + 1
GEOIP_PATH = env_str("GEOIP_PATH")
# The ingest queue (docs/deploy.md, "Ingestion"): ingestion answers once a request is
# appended; `manage.py ingest_worker` stores it in chunks. Past either limit ingestion
# answers 429 with Retry-After (0 turns a limit off). INGEST_DRAIN_INLINE drains a
# project's queue right after each append, in the request (tests, single-process runs).
INGEST_QUEUE_MAX_EVENTS = env_int("INGEST_QUEUE_MAX_EVENTS", 2_000_000, minimum=0)
INGEST_QUEUE_MAX_AGE_SECONDS = env_int("INGEST_QUEUE_MAX_AGE_SECONDS", 600, minimum=0)
INGEST_RETRY_AFTER_SECONDS = env_int("INGEST_RETRY_AFTER_SECONDS", 5, minimum=1)
INGEST_DRAIN_CHUNK_EVENTS = env_int("INGEST_DRAIN_CHUNK_EVENTS", 5000, minimum=1)
INGEST_DRAIN_CHUNK_ITEMS = env_int("INGEST_DRAIN_CHUNK_ITEMS", 1000, minimum=1)
INGEST_DRAIN_INLINE = env_bool("INGEST_DRAIN_INLINE", False)
INGEST_HEALTH_TOKEN = env_str("INGEST_HEALTH_TOKEN")

# Segments: memory for one segment computation's hashed subqueries, and how often
# segments whose windows move with time ("in the last 14 days") are recomputed.
SEGMENT_WORK_MEM = env_str("SEGMENT_WORK_MEM", "256MB")
SEGMENT_TIME_REFRESH_SECONDS = env_int("SEGMENT_TIME_REFRESH_SECONDS", 60, minimum=10)
# Membership history: how many days back a new or changed segment's history is
# reconstructed (0: not at all), and the time limit of that background job.
SEGMENT_HISTORY_DAYS = env_int("SEGMENT_HISTORY_DAYS", 180, minimum=0)
SEGMENT_HISTORY_TIMEOUT_SECONDS = env_int("SEGMENT_HISTORY_TIMEOUT_SECONDS", 3600, minimum=60)
# Analysis queries (funnels, retention, paths): sort memory and a time limit, so a
# huge range answers "try a shorter range" instead of holding a connection.
ANALYSIS_WORK_MEM = env_str("ANALYSIS_WORK_MEM", "256MB")
ANALYSIS_TIMEOUT_MS = env_int("ANALYSIS_TIMEOUT_MS", 60_000, minimum=1000)
# Background queries (docs/analysis.md, "Jobs"): where they run ("worker": the
# analysis_worker processes; "thread": threads of the web process, for chDB;
# "inline": in the request, for tests), how long one may take, how many of a
# project's run at once, and how long a page or an API call waits before it
# shows progress or answers 202 instead of the result.
ANALYSIS_JOBS = env_str("ANALYSIS_JOBS", "worker")
if ANALYSIS_JOBS not in ("worker", "thread", "inline"):
    raise ImproperlyConfigured("ANALYSIS_JOBS must be worker, thread or inline")
ANALYSIS_JOB_TIMEOUT_SECONDS = env_int("ANALYSIS_JOB_TIMEOUT_SECONDS", 600, minimum=10)
ANALYSIS_JOBS_PER_PROJECT = env_int("ANALYSIS_JOBS_PER_PROJECT", 2, minimum=1)
ANALYSIS_WORKER_THREADS = env_int("ANALYSIS_WORKER_THREADS", 2, minimum=1)
ANALYSIS_API_WAIT_SECONDS = 1.0
ANALYSIS_PAGE_WAIT_SECONDS = 0.15
# A stale cached card (newer events since) younger than this is shown without recomputing.
ANALYSIS_STALE_RECOMPUTE_SECONDS = env_int("ANALYSIS_STALE_RECOMPUTE_SECONDS", 60, minimum=0)
GEO_COUNTRY_HEADER = env_str("GEO_COUNTRY_HEADER")  # e.g. CF-IPCountry, when a trusted proxy sets it

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "pgserver": {"level": "WARNING"}},
}
