"""The web app's pages under hostile query strings and form posts: never a 500.

The API has its schema fuzzed (test_api_schema_fuzz.py); the pages have no
schema, so their parameters are read from the code itself: every name a view
takes from `request.GET` / `request.POST` and every field a form declares. Each
page of the owner's project (the routes of the isolation sweep) is then asked
for with all of them set to one awkward value at a time, as a GET and as a form
POST, and as an htmx GET for each part of the page its view renders alone: the
ids of the templates' elements that the view's module names (an htmx request
without a target is answered as a GET).
"""

from __future__ import annotations

import functools
import importlib
import re
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import resolve

from tests.hardening.urlsweep import Route, swept_routes
from tests.segments.conftest import tasks_run_inline  # noqa: F401 - an autouse fixture

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
APPS = ("tracking", "segments", "analysis", "replay", "interventions")
_READ = re.compile(r"request\.(?:GET|POST)\.(?:get|getlist)\(\s*\"(\w+)\"")
_FIELD = re.compile(r"^\s+(\w+) = forms\.\w+\(", re.MULTILINE)

# One value per run of the pages: numbers int() cannot read or the database cannot
# hold, half-written JSON and subjects, dates that are not, text too long for a column.
VALUES = {
    "superscript": "³",
    "huge": "9" * 30,
    "negative": "-1",
    "half json": '{"match": "all", "conditions": [',
    "json of the wrong shape": '[1, {"type": null}]',
    "subject without id": "a:",
    "not a date": "2026-13-45",
    "long text": "x" * 5000,
    "markup": "<script>'\"&",
}


_ID = re.compile(r'\bid="([A-Za-z][\w-]*)"')
_F_PREFIX = re.compile(r'\bf"([A-Za-z][\w-]*-)\{')


@functools.cache
def _element_ids() -> frozenset[str]:
    ids: set[str] = set()
    for path in (ROOT / "templates").rglob("*.html"):
        ids.update(_ID.findall(path.read_text()))
    return frozenset(ids)


@functools.cache
def _fragment_targets(module: str) -> tuple[str, ...]:
    """The element ids a view module names: the parts of its pages htmx may ask it for alone."""
    source = Path(importlib.import_module(module).__file__).read_text()
    if "htmx_target(" not in source:
        # a view that tells an htmx request from a page load without asking which part: one request
        return ("",) if "wants_fragment(" in source else ()
    prefixes = tuple(_F_PREFIX.findall(source))  # f"flag-{which}s": flag-rules, flag-variants
    return tuple(
        sorted(i for i in _element_ids() if f'"{i}"' in source or (prefixes and i.startswith(prefixes)))
    )


def _parameter_names() -> list[str]:
    names: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            names.update(_READ.findall(text))
            if path.name.startswith("forms") or path.parent.name == "forms":
                names.update(_FIELD.findall(text))
    names.discard("csrfmiddlewaretoken")
    return sorted(names)


def test_the_fragments_are_found_in_the_code():
    assert {"segment-status", "members", "breakdown"} <= set(_fragment_targets("segments.views.pages"))
    assert _fragment_targets("tracking.views.settings") == ()


def test_the_parameters_are_found_in_the_code():
    names = _parameter_names()
    # a scan that found nothing would make the fuzzing below prove nothing
    assert {"segments", "dropped_step", "within_value", "breakdown", "op", "name", "url"} <= set(names)


@pytest.mark.parametrize("value", list(VALUES.values()), ids=list(VALUES))
def test_no_page_answers_an_awkward_parameter_with_a_server_error(
    alice_client: Client, project, world, value
):
    _sweep_with(alice_client, project, world, value)


# With events in ClickHouse, the values that reach its statements: numbers and dates out of range
@pytest.mark.parametrize(
    "value",
    [VALUES["huge"], VALUES["negative"], VALUES["not a date"]],
    ids=["huge", "negative", "not a date"],
)
def test_no_page_on_clickhouse_answers_an_awkward_parameter_with_a_server_error(
    clickhouse, alice_client: Client, project, world, value
):
    _sweep_with(alice_client, project, world, value)


def _sweep_with(alice_client: Client, project, world, value: str) -> None:
    params = dict.fromkeys(_parameter_names(), value)
    form = urlencode(params)
    routes: list[Route] = [r for r in swept_routes() if not r.is_api]
    # deletions last: one that succeeds leaves the routes after it looking at a missing object
    routes.sort(key=lambda r: "delete" in r.route)
    failures = []
    for method in ("GET", "HX-GET", "POST"):
        for route in routes:
            url = route.url(project_id=project.pk, world=world)
            if method == "POST":  # as a browser posts a form
                answers = [
                    (method, alice_client.post(url, form, content_type="application/x-www-form-urlencoded"))
                ]
            elif method == "GET":
                answers = [(method, alice_client.get(url, params))]
            else:
                view = resolve(urlsplit(url).path).func
                answers = [
                    (
                        f"{method} #{target}",
                        alice_client.get(url, params, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=target),
                    )
                    for target in _fragment_targets(view.__module__)
                ]
            failures += [f"{how} {url} -> {r.status_code}" for how, r in answers if r.status_code >= 500]
    assert failures == [], "\n".join(failures)
