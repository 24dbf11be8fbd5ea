"""Tenant isolation, URL by URL: bob (organization B) finds nothing of project A anywhere.

The URLs come from the resolver (see tests/hardening/urlsweep.py), the objects
they point at from the real services (tests/hardening/world.py). For every
route, every method and every way bob can authenticate, A's objects must look
exactly like objects that do not exist: 404 (or 403), never a page, never a
redirect to a success page, never a 500, and nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import resolve

from tests.hardening.urlsweep import (
    SKIPPED_PREFIXES,
    UNSCOPED,
    Route,
    UnknownArgument,
    all_routes,
    skip_reason,
    swept_routes,
)
from tests.hardening.world import MARKER, row_counts, snapshot
from tests.segments.conftest import tasks_run_inline  # noqa: F401 - an autouse fixture
from tracking.models import Project

pytestmark = pytest.mark.django_db

REFUSED = (403, 404)
UI_METHODS = ("GET", "HX-GET", "POST")
API_METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
ORDER = ("GET", "HX-GET", "PATCH", "PUT", "POST", "DELETE")
# What a request that would succeed might carry; the body must not matter to a stranger.
FORM = {"name": "pwned", "label": "pwned", "status": "live", "enabled": "on", "email": "bob@bobco.test",
        "role": "owner", "days": "1", "threshold_percent": "1", "title": "pwned", "key": "pwned"}  # fmt: skip


def _request(client: Client, method: str, url: str, **headers: str) -> HttpResponse:
    if method == "GET":
        return client.get(url, **headers)
    if method == "HX-GET":
        return client.get(url, HTTP_HX_REQUEST="true", **headers)
    if method == "POST" and not url.startswith("/api/"):
        return client.post(url, FORM, **headers)
    return client.generic(method, url, data=b'{"name": "pwned"}', content_type="application/json", **headers)


def _sweep(
    client: Client,
    routes: Iterable[Route],
    methods: Callable[[Route], tuple[str, ...]],
    url_of: Callable[[Route], str],
    accept: Callable[[Route, str, int], bool],
    **headers: str,
) -> list[str]:
    """Request every route with every method; the failures, one line each.

    Reads go first and deletions last, so that a leak which destroys an object
    does not hide the leaks of the requests after it.
    """
    failures = []
    calls = [(route, method) for route in routes for method in methods(route)]
    calls.sort(key=lambda call: (ORDER.index(call[1]), "delete" in call[0].route))
    for route, method in calls:
        url = url_of(route)
        assert resolve(url).route == route.route, url
        response = _request(client, method, url, **headers)
        if not accept(route, method, response.status_code):
            failures.append(f"{method} {url} -> {response.status_code}")
        elif MARKER.encode() in response.content:
            failures.append(f"{method} {url} -> {response.status_code} showing project A's data")
    return failures


def _methods(route: Route) -> tuple[str, ...]:
    return API_METHODS if route.is_api else UI_METHODS


def _refused(route: Route, method: str, status: int) -> bool:
    return status in REFUSED


def _in_a(project: Project, world: dict) -> Callable[[Route], str]:
    return lambda route: route.url(project_id=project.pk, world=world)


def test_every_url_is_swept_or_skipped_for_a_stated_reason():
    routes = all_routes()
    unknown = sorted({f"{a} (in {r.route})" for r in swept_routes() for a in r.unknown_arguments()})
    assert unknown == [], f"URL arguments the sweep cannot fill, add them to urlsweep.py: {unknown}"
    unscoped = [r.route for r in swept_routes() if "project_id" not in r.arguments]
    assert unscoped == [], (
        f"URLs without a project: scope them, or list them in UNSCOPED with a reason: {unscoped}"
    )
    stale = [p for p in SKIPPED_PREFIXES if not any(r.route.startswith(p) for r in routes)]
    stale += [u for u in UNSCOPED if not any(r.route == u for r in routes)]
    assert stale == [], f"skip entries that match no URL any more: {stale}"
    assert len(swept_routes()) >= 130  # a walk that found nothing would prove nothing
    assert {skip_reason(r) for r in routes} - {None} == set(SKIPPED_PREFIXES.values())


def test_the_sweep_names_an_argument_it_cannot_fill():
    with pytest.raises(UnknownArgument, match="widget_id"):
        Route("p/<int:project_id>/widgets/<int:widget_id>/", None).url(project_id=1, world={})
    with pytest.raises(UnknownArgument, match="object_id"):
        Route("api/v1/projects/<int:project_id>/widgets/<int:object_id>/", None).url(project_id=1, world={})


def test_the_owner_reaches_every_url_of_the_sweep(
    events_backend, alice_client, alice_api_key, project, world
):
    """Guards the sweep itself: were A's objects made wrong, bob's 404s would prove nothing."""
    failures = []
    for route in swept_routes():
        url = route.url(project_id=project.pk, world=world)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {alice_api_key}"} if route.is_api else {}
        status = alice_client.get(url, **headers).status_code
        if status == 404 or status >= 500:
            failures.append(f"GET {url} -> {status}")
    assert failures == [], "\n".join(failures)


def test_another_organizations_member_finds_nothing_in_the_pages(events_backend, bob_client, project, world):
    before, counts = snapshot(world), row_counts()
    routes = [r for r in swept_routes() if not r.is_api]
    failures = _sweep(bob_client, routes, _methods, _in_a(project, world), _refused)
    assert failures == [], "\n".join(failures)
    assert snapshot(world) == before and row_counts() == counts


def test_another_organizations_member_finds_nothing_in_the_api_with_his_key(
    events_backend, client, bob_api_key, project, world
):
    before, counts = snapshot(world), row_counts()
    routes = [r for r in swept_routes() if r.is_api]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {bob_api_key}"}
    failures = _sweep(client, routes, _methods, _in_a(project, world), _refused, **auth)
    assert failures == [], "\n".join(failures)
    assert snapshot(world) == before and row_counts() == counts


def test_another_organizations_member_finds_nothing_in_the_api_with_his_session(bob_client, project, world):
    before, counts = snapshot(world), row_counts()
    routes = [r for r in swept_routes() if r.is_api]
    failures = _sweep(bob_client, routes, _methods, _in_a(project, world), _refused)
    assert failures == [], "\n".join(failures)
    assert snapshot(world) == before and row_counts() == counts


def test_another_organizations_objects_are_missing_under_ones_own_project(
    bob_client, bob_api_key, other_project, world
):
    """Bob asks for A's objects at his own project's addresses: they answer as if they did not exist."""
    before, counts = snapshot(world), row_counts()
    routes = [r for r in swept_routes() if r.object_arguments]
    assert len(routes) >= 70
    api_key = {"HTTP_AUTHORIZATION": f"Bearer {bob_api_key}"}

    def like_a_missing_object(client: Client, **headers: str) -> Callable[[Route, str, int], bool]:
        def accept(route: Route, method: str, status: int) -> bool:
            missing = _request(client, method, route.url(project_id=other_project.pk, world=None), **headers)
            # 405 says only that the method is wrong, the same for any id
            return status == missing.status_code and status in (*REFUSED, 405)

        return accept

    b_with_a_objects = _in_a(other_project, world)
    failures = _sweep(bob_client, routes, _methods, b_with_a_objects, like_a_missing_object(bob_client))
    api = [r for r in routes if r.is_api]
    failures += _sweep(
        bob_client, api, _methods, b_with_a_objects, like_a_missing_object(Client(), **api_key), **api_key
    )
    assert failures == [], "\n".join(failures)
    assert snapshot(world) == before and row_counts() == counts


def test_the_public_key_reads_and_writes_nothing_through_the_api(client, project, world):
    before, counts = snapshot(world), row_counts()
    routes = [r for r in swept_routes() if r.is_api] + [
        r for r in all_routes() if r.route == "api/v1/projects/"
    ]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {project.public_key}"}
    failures = _sweep(
        client, routes, _methods, _in_a(project, world), lambda r, m, s: s in (401, 403), **auth
    )
    assert failures == [], "\n".join(failures)
    assert snapshot(world) == before and row_counts() == counts


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page_or_refused(client, project, world):
    def accept(route: Route, method: str, status: int) -> bool:
        return status in (401, 403) if route.is_api else status in (302, 403, 404, 405)

    failures = _sweep(client, swept_routes(), lambda r: ("GET", "POST") if not r.is_api else API_METHODS,
                      _in_a(project, world), accept)  # fmt: skip
    assert failures == [], "\n".join(failures)
    for route in swept_routes()[::10]:
        if not route.is_api:
            response = client.get(route.url(project_id=project.pk, world=world))
            assert response.status_code == 302 and response["Location"].startswith("/login/"), route.route


def test_the_pages_of_ones_own_account_show_nothing_of_another_organization(
    bob_client, bob_api_key, other_project, project, world
):
    for url in ("/", "/projects/new/"):
        response = bob_client.get(url, follow=True)
        assert response.status_code == 200, url
        assert MARKER not in response.content.decode() and project.name not in response.content.decode(), url
    listed = bob_client.get("/api/v1/projects/", HTTP_AUTHORIZATION=f"Bearer {bob_api_key}")
    assert listed.status_code == 200
    assert project.name not in listed.content.decode() and other_project.name in listed.content.decode()
    # a new project in A's organization is refused
    response = bob_client.post("/projects/new/", {"name": "pwned", "organization": project.organization_id})
    assert response.status_code == 404
    assert not Project.objects.filter(name="pwned").exists()


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_another_organizations_project_is_not_found_whatever_the_method(client, bob_api_key, project, method):
    # the project's own endpoint once answered 405 before looking at the caller's membership
    response = client.generic(
        method, f"/api/v1/projects/{project.pk}/", HTTP_AUTHORIZATION=f"Bearer {bob_api_key}"
    )
    assert response.status_code == 404
