"""schemathesis against the OpenAPI schema of `/api/v1/`: every operation, fuzzed in-process.

The schema is read from the running app, and every operation gets inputs
generated from it (valid ones, then ones the schema forbids), sent through the
WSGI application with alice's personal API key, on paths filled with real
objects of her project, so the fuzzing reaches the views' logic instead of
stopping at a 404. No answer may be a server error, and every answer whose
status the schema documents must match the schema.

Each example runs in a savepoint that is rolled back, so a DELETE or PATCH
leaves the objects as they were for the next example.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.http import HttpResponse
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.hardening.urlsweep import OBJECT_ARGUMENTS, Route
from tests.segments.conftest import tasks_run_inline  # noqa: F401 - an autouse fixture

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = int(os.environ.get("SIGHTLINE_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, response_schema_conformance]


class _Undo(Exception):
    pass


@pytest.fixture
def same_connection() -> Iterator[None]:
    """Keep the test's database connection open across WSGI requests.

    Django closes "old" connections when a request starts and ends; inside the
    test's transaction that would close the connection the test runs on.
    Django's own test client does the same unhooking.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _path_parameters(path: str, project_id: int, world: dict) -> dict[str, int]:
    """Every `{name}` of the OpenAPI path, filled the way the isolation sweep fills URL arguments."""
    route = Route(path.removeprefix("/").replace("{", "<").replace("}", ">"), None)
    url = route.url(project_id=project_id, world=world)
    values = url.strip("/").split("/")
    names = route.route.strip("/").split("/")
    return {name[1:-1]: int(value) for name, value in zip(names, values, strict=True) if name.startswith("<")}


def _summary(error: BaseException) -> str:
    """What went wrong, one line per distinct failure (the full report is long)."""
    found = getattr(error, "exceptions", None) or [error]
    lines = []
    for failure in found:
        title = getattr(failure, "title", "") or type(failure).__name__
        detail = str(getattr(failure, "message", "") or failure).strip().splitlines()
        lines.append(f"{title}: {detail[0][:300] if detail else ''}")
    reproduce = str(error).partition("Reproduce with:")[2].strip().splitlines()
    return "; ".join(lines) + (f" — {reproduce[0][:600]}" if reproduce else "")


def test_every_api_operation_answers_generated_input_without_a_server_error(
    alice_api_key, project, world, same_connection
):
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 70
    assert {f"{{{name}}}" for name in OBJECT_ARGUMENTS} & {p for o in operations for p in o.path.split("/")}
    # identity: the WSGI test client hands back a gzip-encoded body (a recording chunk) still compressed
    headers = {"Authorization": f"Bearer {alice_api_key}", "Accept-Encoding": "identity"}
    # deletions last: each example is undone anyway, but a failing one is easier to read
    operations.sort(key=lambda o: o.method.upper() == "DELETE")
    failures: list[str] = []
    for operation in operations:
        fixed = _path_parameters(operation.path, project.pk, world)
        # with the path fixed, only a body or a query string is left to make wrong
        modes = [GenerationMode.POSITIVE] + (
            [GenerationMode.NEGATIVE] if operation.body or operation.query else []
        )
        for mode in modes:
            strategy = operation.as_strategy(mode, path_parameters=fixed, headers=headers)

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def run(case: schemathesis.Case) -> None:
                try:
                    with transaction.atomic():
                        response = case.call()
                        case.validate_response(response, checks=CHECKS)
                        raise _Undo
                except _Undo:
                    pass

            try:
                run()
            except (Exception, BaseExceptionGroup) as error:  # collected, reported together below
                failures.append(f"{operation.label} ({mode.value}): {_summary(error)}")
    assert failures == [], "\n\n".join(failures)


# --- inputs that once answered 500 --------------------------------------------


def _api(client: Client, alice_api_key: str, method: str, url: str, body: bytes = b"") -> HttpResponse:
    return client.generic(
        method, url, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {alice_api_key}"
    )


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"1", b"false", b"null"])
@pytest.mark.parametrize("operation", ["segments/{segment}/freeze/", "segments/upload/"])
def test_a_segment_operation_refuses_a_body_that_is_not_an_object(
    client, alice_api_key, project, world, operation, body
):
    url = f"/api/v1/projects/{project.pk}/" + operation.format(segment=world["segment"].pk)
    response = _api(client, alice_api_key, "POST", url, body)
    assert response.status_code == 400 and response.json() == {"detail": "Send a JSON object."}


@pytest.mark.parametrize(
    ("method", "resource", "body"),
    [
        ("POST", "nudges/", b'{"name": "Go", "title": "a\\u0000b"}'),
        ("PATCH", "webhooks/{webhook}/", b'{"name": "\\ud800"}'),
        ("PATCH", "flags/{flag}/", b'{"goal": {"event": {"name": "a\\u0000b"}, "within_days": 7}}'),
        ("POST", "flags/evaluate", b'{"distinct_ids": ["a\\u0000b"]}'),
        ("POST", "segments/{segment}/freeze/", b'{"name": "a\\u0000b"}'),
        ("POST", "segments/upload/", b'{"name": "\\udfff", "distinct_ids": ["x"]}'),
    ],
)
def test_text_no_database_can_store_is_refused_with_400(
    client, alice_api_key, project, world, method, resource, body
):
    before = world["webhook"].name
    url = f"/api/v1/projects/{project.pk}/" + resource.format(**{k: o.pk for k, o in world.items()})
    response = _api(client, alice_api_key, method, url, body)
    assert response.status_code == 400 and "cannot be stored" in response.json()["detail"]
    world["webhook"].refresh_from_db()
    assert world["webhook"].name == before


def test_a_body_nested_too_deeply_to_parse_is_400(client, alice_api_key, project):
    body = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = _api(client, alice_api_key, "POST", f"/api/v1/projects/{project.pk}/actions/", body)
    assert response.status_code == 400


def test_a_page_larger_than_the_cap_is_cut_to_the_cap(client, alice_api_key, project, world):
    url = f"/api/v1/projects/{project.pk}/persons/?limit=99999999999999999999"
    response = _api(client, alice_api_key, "GET", url)
    assert response.status_code == 200 and len(response.json()["results"]) == 1


@pytest.mark.parametrize("value", ["³", "²", "٣", "99999999999999999999999"])
def test_a_digit_int_cannot_read_is_not_a_server_error(client, alice_api_key, project, value):
    """`str.isdigit()` passes superscripts, which `int()` refuses."""
    response = _api(client, alice_api_key, "GET", f"/api/v1/projects/{project.pk}/trends/?action={value}")
    assert response.status_code in (200, 400)
