"""`manage.py check --deploy` is clean with production settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "DATABASE_URL": "postgres://sightline:secret@db.internal:5432/sightline",
    "SECRET_KEY": "x" * 20 + "production-secret-key-from-the-environment-0123456789",
    "ALLOWED_HOSTS": "analytics.example.com",
    "SITE_URL": "https://analytics.example.com",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # a production environment: none of the development or test-runner variables
    dropped = {"DATABASE_URL", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    full_env = {k: v for k, v in os.environ.items() if k not in dropped}
    full_env.pop("PYTEST_CURRENT_TEST", None)
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_is_clean_for_the_ingestion_lane():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        **PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="config.settings_ingest",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_bad_boolean_fails_loudly():
    result = _manage("check", **{**PRODUCTION_ENV, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


def test_check_deploy_is_clean_on_the_embedded_database_with_debug_off():
    # a single machine in production: no DATABASE_URL, the generated secret, DEBUG off
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", DEBUG="0", SITE_URL="https://analytics.example.com"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_plain_http_site_with_debug_off_is_refused_naming_the_opt_out():
    result = _manage("check", **{**PRODUCTION_ENV, "SITE_URL": "http://analytics.example.com"})
    assert result.returncode != 0
    assert "ALLOW_PLAIN_HTTP=1" in result.stderr


def test_the_plain_http_opt_out_turns_transport_security_off():
    env = {**PRODUCTION_ENV, "SITE_URL": "http://analytics.example.com", "ALLOW_PLAIN_HTTP": "1"}
    result = _manage("diffsettings", "--all", **env)
    assert result.returncode == 0, result.stderr
    assert "SECURE_SSL_REDIRECT = False" in result.stdout
    assert "SESSION_COOKIE_SECURE = False" in result.stdout
    assert "CSRF_COOKIE_SECURE = False" in result.stdout
