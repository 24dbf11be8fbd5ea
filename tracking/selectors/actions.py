"""Reads for actions: lists, their matching events, counts and the builder's live preview.

Every query is scoped by `project_id` and bounded in time where it aggregates;
the action's condition comes from `tracking.matching.actions.action_where_sql`
(which explains the indexes it relies on).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from psycopg.errors import QueryCanceled

from tracking import elements as chain
from tracking.matching.actions import action_where_sql
from tracking.matching.suggest import suggest_selector
from tracking.models import Action, Event, Project

WINDOW_DAYS = 30
# How long the Actions list may show a count before counting again (events keep arriving).
STATS_CACHE_SECONDS = 300
# The live preview runs while someone types; it must never hog the database.
PREVIEW_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class ActionStats:
    events: int = 0
    persons: int = 0


@dataclass(frozen=True)
class SampleElement:
    label: str
    text: str
    count: int


@dataclass(frozen=True)
class SamplePage:
    path: str
    count: int


@dataclass
class Preview:
    events: int = 0
    persons: int = 0
    elements: list[SampleElement] = field(default_factory=list)
    pages: list[SamplePage] = field(default_factory=list)
    days: int = WINDOW_DAYS
    timed_out: bool = False


def action_list(*, project: Project) -> QuerySet[Action]:
    return Action.objects.filter(project=project).select_related("created_by").order_by("name")


def action_get(*, project: Project, action_id: int) -> Action:
    """The project's action, or 404 (another project's action is as absent as a missing one)."""
    action = Action.objects.filter(project=project, pk=action_id).select_related("created_by").first()
    if action is None:
        raise Http404("No such action")
    return action


def action_events(*, project: Project, steps: list[dict]) -> QuerySet[Event]:
    """Matching events, newest first: a queryset, so callers paginate with LIMIT/OFFSET.

    With an event name in every step this walks `event_project_name_ts` backwards.
    """
    sql, params = action_where_sql(steps, alias="tracking_event")
    return (
        Event.objects.filter(project_id=project.pk)
        .filter(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611 - constants; values are params
        .order_by("-timestamp", "-id")
    )


def action_window(
    *, project: Project, days: int = WINDOW_DAYS, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """ "The last `days` days": whole days in the project's time zone, today included.

    The one window behind every action count — the list, the builder's live preview
    and the saved action's chart — so they never disagree.
    """
    zone = project.zone
    today = (now or timezone.now()).astimezone(zone).date()
    since = datetime.combine(today - timedelta(days=days - 1), time(), tzinfo=zone)
    return since, datetime.combine(today + timedelta(days=1), time(), tzinfo=zone)


def _stats_key(project: Project, action: Action, since: datetime) -> str:
    steps = hashlib.sha256(json.dumps(action.steps, sort_keys=True).encode()).hexdigest()[:16]
    return f"action-stats:{project.pk}:{action.pk}:{steps}:{since.isoformat()}"


def action_stats(
    *, project: Project, actions: Iterable[Action], days: int = WINDOW_DAYS, now: datetime | None = None
) -> dict[int, ActionStats]:
    """Events and unique persons per action over the last `days` (`action_window`).

    Counting every action's condition over a month of events takes seconds on a
    busy project, so counts are cached for STATS_CACHE_SECONDS, keyed by the
    action's steps and the window: an edited action or a new day is counted afresh.
    """
    actions = [a for a in actions if a.steps]
    if not actions:
        return {}
    since, until = action_window(project=project, days=days, now=now)
    keys = {a.pk: _stats_key(project, a, since) for a in actions}
    cached = cache.get_many(list(keys.values()))
    found = {pk: ActionStats(*cached[key]) for pk, key in keys.items() if key in cached}
    missing = [a for a in actions if a.pk not in found]
    if missing:
        counted = _count(project, missing, since, until)
        cache.set_many({keys[pk]: (s.events, s.persons) for pk, s in counted.items()}, STATS_CACHE_SECONDS)
        found.update(counted)
    return found


def _count(
    project: Project, actions: list[Action], since: datetime, until: datetime
) -> dict[int, ActionStats]:
    """One pass over the window: each matching event is tagged with the actions it matches, once."""
    tags: list[str] = []
    params: list = []
    conditions: list[str] = []
    condition_params: list = []
    for i, action in enumerate(actions):
        condition, condition_sql_params = action_where_sql(action.steps, alias="e")
        tags.append(f"CASE WHEN {condition} THEN {i} END")
        params += condition_sql_params
        conditions.append(condition)
        condition_params += condition_sql_params
    # relies on event_project_name_ts for steps with an event name, else the BRIN on timestamp
    sql = (
        "SELECT t.i, count(*), count(DISTINCT t.person_id) FROM ("  # noqa: S608 - code constants and %s parameters only
        f"SELECT e.person_id, unnest(ARRAY[{', '.join(tags)}]) AS i FROM tracking_event e"
        f" WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s AND ({' OR '.join(conditions)})"
        ") t WHERE t.i IS NOT NULL GROUP BY t.i"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, project.pk, since, until, *condition_params])
        rows = {i: ActionStats(events=n, persons=persons) for i, n, persons in cursor.fetchall()}
    return {a.pk: rows.get(i, ActionStats()) for i, a in enumerate(actions)}


def action_preview(
    *,
    project: Project,
    steps: list[dict],
    days: int = WINDOW_DAYS,
    now: datetime | None = None,
    limit: int = 8,
) -> Preview:
    """What validated steps match over the last `days`: counts, top clicked elements, top pages.

    One statement: the matching rows are collected once, then aggregated three ways.
    """
    since, until = action_window(project=project, days=days, now=now)
    condition, params = action_where_sql(steps, alias="e")
    sql = f"""
        WITH m AS MATERIALIZED (
            SELECT e.person_id, e.path, split_part(e.elements_chain, %s, 2) AS target, e.el_text
            FROM tracking_event e
            WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s AND {condition}
        )
        SELECT 'total', NULL, NULL, count(*), count(DISTINCT person_id) FROM m
        UNION ALL
        (SELECT 'element', target, el_text, count(*), NULL FROM m WHERE target <> ''
         GROUP BY target, el_text ORDER BY 4 DESC, 2 LIMIT %s)
        UNION ALL
        (SELECT 'page', path, NULL, count(*), NULL FROM m GROUP BY path ORDER BY 4 DESC, 2 LIMIT %s)
    """  # noqa: S608 - code constants and %s parameters only
    preview = Preview(days=days)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(PREVIEW_TIMEOUT_MS)}")
            cursor.execute(sql, [chain.RS, project.pk, since, until, *params, limit, limit])
            rows = cursor.fetchall()
    except DatabaseError as error:
        if not isinstance(error.__cause__, QueryCanceled):
            raise
        preview.timed_out = True
        return preview
    for kind, value, text, count, persons in rows:
        if kind == "total":
            preview.events, preview.persons = count, persons
        elif kind == "element":
            elements = chain.decode(chain.RS + value + chain.RS)
            label = chain.describe(elements[0]) if elements else value
            preview.elements.append(SampleElement(label=label, text=text or "", count=count))
        else:
            preview.pages.append(SamplePage(path=value or "", count=count))
    return preview


@dataclass(frozen=True)
class ActionDraft:
    """A starting point for the builder, taken from one stored event."""

    name: str
    steps: list[dict]
    # The clicked element's page, offered rather than imposed: an element usually means the
    # same thing wherever it appears, and a page filter silently drops its other clicks.
    page_url: str = ""
    on_page: bool = False


def _page_url(url: str) -> tuple[str, str]:
    """(URL without query and fragment, matching mode) for a step pre-filled from an event."""
    base = url.split("#", 1)[0].split("?", 1)[0]
    if not base:
        return "", ""
    after_host = base.split("://", 1)[-1]
    root = "/" not in after_host or (after_host.endswith("/") and after_host.count("/") == 1)
    # "contains" the home page would match every page of the site
    return base, "exact" if root else "contains"


def action_draft_from_event(*, project: Project, event_id: int, on_page: bool = False) -> ActionDraft:
    """Name and one step describing an event of the project: its name and clicked element.

    A click's step matches the element on every page unless `on_page` asks for the page
    too; an event without an element (a page view) is described by its page.
    """

    event = Event.objects.filter(project_id=project.pk, pk=event_id).first()
    if event is None:
        raise Http404("No such event")
    step: dict = {"event": event.name}
    elements = chain.decode(event.elements_chain) if event.elements_chain else []
    selector = suggest_selector(elements)
    if selector:
        step["selector"] = selector
    url, matching = _page_url(event.url or "")
    page_optional = bool(selector)
    if url and (on_page or not page_optional):
        step["url"], step["url_matching"] = url, matching
    if elements:
        what = f"“{event.el_text}”" if event.el_text else chain.describe(elements[0])
        name = (
            f"Clicked {what}" if event.name in ("$autocapture", "$rageclick") else f"{event.name} on {what}"
        )
    elif event.name == "$pageview":
        name = f"Viewed {event.path or url or 'a page'}"
    else:
        name = event.name
    return ActionDraft(
        name=" ".join(name.split())[:200],
        steps=[step],
        page_url=url if page_optional else "",
        on_page=bool(url) and on_page and page_optional,
    )
