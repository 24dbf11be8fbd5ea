"""Small steps the browser tests share."""

from __future__ import annotations

import time
from collections.abc import Callable

from tracking import eventstore
from tracking.elements import decode
from tracking.eventstore import explore
from tracking.models import Event, Project


def flush(page) -> None:
    """Send the snippet's queue now and wait for the server's answer."""
    page.wait_for_function("() => window.sightline")
    page.evaluate("() => window.sightline.flush()")


def stored_events(page, until: Callable[[list[Event]], bool] = bool, *, timeout: float = 5.0) -> list[Event]:
    """Stored events, oldest first, once `until(events)` holds (beacons arrive on their own time).

    Waits through the page, not with sleep: Playwright only runs route handlers and
    request listeners while one of its calls is in progress.
    """
    deadline = time.monotonic() + timeout
    while True:
        events = _all_events()
        if until(events) or time.monotonic() > deadline:
            return events
        page.wait_for_timeout(50)


def _all_events() -> list:
    if not eventstore.using_clickhouse():
        # ties (events of one batch in the same millisecond) in the order they were sent
        return list(Event.objects.order_by("timestamp", "id"))
    stored = (
        e
        for project in Project.objects.all()
        for e in explore.event_list(project.pk, ascending=True, limit=10_000)
    )
    return sorted(stored, key=lambda e: (e.timestamp, str(e.uuid)))


def chain_of(event: Event) -> list[dict]:
    """The stored element chain without sibling positions, comparable with demo.site."""
    return [
        {k: v for k, v in element.items() if k not in ("nth_child", "nth_of_type")}
        for element in decode(event.elements_chain)
    ]


def autocaptured(events: list[Event], event_type: str) -> list[Event]:
    return [e for e in events if e.name == "$autocapture" and e.properties.get("$event_type") == event_type]


def target_ids(events: list[Event]) -> list[str]:
    return [decode(e.elements_chain)[0].get("id", "") for e in events]


def sign_in(context, user, origin: str) -> None:
    """Give the browser a logged-in session of `user` for the app's pages."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": origin}])
