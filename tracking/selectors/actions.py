"""Reads for actions: lists, their matching events, counts and the builder's live preview.

Every query is scoped by `project_id` and bounded in time where it aggregates;
the action's condition comes from `tracking.matching.actions.action_where_sql`
(which explains the indexes it relies on).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, connection, transaction
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from psycopg.errors import QueryCanceled

from tracking import elements as chain
from tracking.matching.actions import action_where_sql
from tracking.models import Action, Event, Project

WINDOW_DAYS = 30
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


def action_stats(
    *, project: Project, actions: Iterable[Action], days: int = WINDOW_DAYS, now: datetime | None = None
) -> dict[int, ActionStats]:
    """Events and unique persons per action over the last `days`, in one pass over the window."""
    actions = [a for a in actions if a.steps]
    if not actions:
        return {}
    until = now or timezone.now()
    since = until - timedelta(days=days)
    columns: list[str] = []
    column_params: list = []
    conditions: list[str] = []
    condition_params: list = []
    for action in actions:
        condition, params = action_where_sql(action.steps, alias="e")
        columns.append(
            f"count(*) FILTER (WHERE {condition}), count(DISTINCT e.person_id) FILTER (WHERE {condition})"
        )
        column_params += params + params
        conditions.append(condition)
        condition_params += params
    # relies on event_project_name_ts for steps with an event name, else the BRIN on timestamp
    sql = (
        f"SELECT {', '.join(columns)} FROM tracking_event e"  # noqa: S608 - code constants and %s parameters only
        f" WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s AND ({' OR '.join(conditions)})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*column_params, project.pk, since, until, *condition_params])
        row = cursor.fetchone()
    return {a.pk: ActionStats(events=row[2 * i], persons=row[2 * i + 1]) for i, a in enumerate(actions)}


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
    until = now or timezone.now()
    since = until - timedelta(days=days)
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
    from tracking.matching.suggest import suggest_selector

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
