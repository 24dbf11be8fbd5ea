"""Reads for actions: lists, their matching events, counts and the builder's live preview.

Events are read through the event store (`tracking.eventstore.explore`), scoped
by project and bounded in time where they are counted; an action's condition is
`tracking.matching.actions.action_where_sql` on PostgreSQL (which explains the
indexes it relies on) and its twin `filters.action_where` on ClickHouse.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from tracking import elements as chain
from tracking.eventstore import analysis as eventstore_analysis
from tracking.eventstore import explore
from tracking.matching.suggest import suggest_selector
from tracking.models import Action, Project
from tracking.selectors.events import event_get
from tracking.traffic.filtering import EVERYONE, excluded_persons_sql

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


class MatchedEvents:
    """The events an action matches, newest first, read a slice at a time from the event store:
    sliced and counted like a queryset, so list pages and the API paginate with LIMIT/OFFSET."""

    def __init__(self, project_id: int, steps: list[dict]) -> None:
        self.project_id, self.steps = project_id, steps
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = explore.action_matched_count(self.project_id, self.steps)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop = index.start or 0, index.stop
            if index.step not in (None, 1) or start < 0 or stop is None or stop < 0:
                raise ValueError("only [start:stop] slices")
            if stop <= start:
                return []
            return explore.action_matched_events(
                self.project_id, self.steps, offset=start, limit=stop - start
            )
        found = self[index : index + 1]
        if not found:
            raise IndexError(index)
        return found[0]


def action_events(*, project: Project, steps: list[dict]) -> MatchedEvents:
    """Matching events, newest first (ties by uuid): slice it to read a page."""
    return MatchedEvents(project.pk, steps)


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


@dataclass
class ActionDays:
    """A saved action's events and unique persons per day of `action_window`, for its chart."""

    days: list[datetime]  # local (naive) midnights
    counts: list[int]
    persons: list[int]
    total: int = 0
    total_persons: int = 0


def action_days(
    *, project: Project, action: Action, days: int = WINDOW_DAYS, now: datetime | None = None
) -> ActionDays:
    """Per local day of the last `days` (`action_window`), everyone's traffic counted.

    The same question as the events explorer's trend of the action without a
    breakdown (one `trend_rows` statement, grouped by `date_trunc('day')` in the
    project's time zone); only its per-day and overall rows are read.
    """
    since, until = action_window(project=project, days=days, now=now)
    first = since.replace(tzinfo=None)
    buckets = [first + timedelta(days=i) for i in range(days)]
    index = {bucket: i for i, bucket in enumerate(buckets)}
    out = ActionDays(days=buckets, counts=[0] * days, persons=[0] * days)
    rows = eventstore_analysis.trend_rows(
        project_id=project.pk, zone=str(project.zone), interval="day", start=since, end=until,
        event=None, action_steps=action.steps, filters=[], breakdown=None,
        excluded=excluded_persons_sql(project=project, traffic=EVERYONE), top_values=1,
    )  # fmt: skip
    for bucket, _top, _shown, count, persons, no_bucket, no_value in rows:
        if no_bucket and no_value:
            out.total, out.total_persons = count, persons
        elif no_value and bucket in index:
            out.counts[index[bucket]], out.persons[index[bucket]] = count, persons
    return out


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
    """One pass over the window for all the actions."""
    counts = explore.action_match_counts(project.pk, [a.steps for a in actions], since=since, until=until)
    return {
        a.pk: ActionStats(events=n, persons=persons) for a, (n, persons) in zip(actions, counts, strict=True)
    }


def action_preview(
    *,
    project: Project,
    steps: list[dict],
    days: int = WINDOW_DAYS,
    now: datetime | None = None,
    limit: int = 8,
) -> Preview:
    """What validated steps match over the last `days`: counts, top clicked elements, top pages.

    Runs while someone types, so it gives up after PREVIEW_TIMEOUT_MS (`timed_out`).
    """
    since, until = action_window(project=project, days=days, now=now)
    summary = explore.action_match_summary(
        project.pk, steps, since=since, until=until, limit=limit, timeout_ms=PREVIEW_TIMEOUT_MS
    )
    preview = Preview(days=days)
    if summary is None:
        preview.timed_out = True
        return preview
    preview.events, preview.persons = summary.events, summary.persons
    for target, text, count in summary.elements:
        elements = chain.decode(chain.RS + target + chain.RS)
        label = chain.describe(elements[0]) if elements else target
        preview.elements.append(SampleElement(label=label, text=text, count=count))
    preview.pages = [SamplePage(path=path, count=count) for path, count in summary.pages]
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


def action_draft_from_event(*, project: Project, event_id: str, on_page: bool = False) -> ActionDraft:
    """Name and one step describing an event of the project (by uuid): its name and clicked element.

    A click's step matches the element on every page unless `on_page` asks for the page
    too; an event without an element (a page view) is described by its page.
    """

    event = event_get(project=project, event_uuid=event_id)
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
