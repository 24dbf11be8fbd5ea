"""The people an analysis shows for one of its parts: as a segment definition where one says it exactly, else as SQL.

A part is a funnel step's conversions or drop-offs (for everyone or one
breakdown value), a comparison's group, a retention cell (or a cohort), or a
node of a paths tree. `source_resolve` checks the part against the analysis's
checked query.

A funnel part over fixed dates, with a conversion window of whole days, no
session breakdown and the default traffic filter, is exactly a definition: a
`sequence` whose window bounds the first step (`"window_covers": "first_step"`:
later steps may follow the range's end, up to the window, as the funnel counts
them), `did_not` for drop-offs, plus the breakdown value as a person, company
or segment condition. It becomes a dynamic segment, kept live.

Everything else becomes a static segment of `SELECT person_id …` built from the
very statements the analysis counts with, so it holds exactly the number the
page shows. The reasons are shown to the user: a rolling range is calendar days
in the project's time zone while `{"last_days": n}` is n × 24 hours; a
conversion window in hours or minutes has no `within_days`; a session breakdown
takes the session of each person's first step; and the comparison's
population, retention's cohorts by first-seen period and the paths' "next step
in the same session" have no condition at all. An approximately equal live
segment would disagree with the analysis it claims to come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from analysis.compare import CompareQuery
from analysis.funnels import PROPERTY_BREAKDOWNS, FunnelQuery, funnel_persons_sql
from analysis.metrics import population_sql
from analysis.params import ParamError
from analysis.paths import PathNode, PathsQuery, firsts_sql, paths_compute
from analysis.retention import RetentionQuery, cohort_ctes_sql, cohort_starts
from analysis.selectors import members_sql
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter, person_filter_sql

KEPT_LIVE = (
    "Kept live: the funnel's rule is a segment definition (a sequence whose date range bounds the first step), "
    "so people enter and leave as their events arrive."
)
FIXED = " So these are the funnel's people as they are now, kept as a fixed list."
REASONS = {
    "funnel": "This funnel cannot be written exactly as a segment definition." + FIXED,
    "compare": (
        "A comparison group is the segment's current members within the metric's population (and only those "
        "whose outcome is known), which no segment condition describes. So these are the group's people as "
        "they are now, kept as a fixed list."
    ),
    "retention": (
        "A retention cell is a cohort by first-seen period that came back in a period measured from each "
        "person's first moment, which no segment condition describes. So these are the cell's people as they "
        "are now, kept as a fixed list."
    ),
    "paths": (
        "A paths node is the steps right after (or before) each person's first start event in the same session, "
        "which no segment condition describes. So these are the node's people as they are now, kept as a fixed list."
    ),
}


@dataclass
class Source:
    """One part of an analysis: who it shows, and how to say and find it again."""

    kind: str
    people: tuple[str, list]  # SELECT person_id …
    part: dict  # the part, normalised (what the API takes)
    label: str  # "Created from the funnel …"
    default_name: str
    definition: dict | None = None  # the exact definition, when there is one: a dynamic segment
    why: str = ""  # why it is kept live, or why as a fixed list

    @property
    def reason(self) -> str:
        return self.why or REASONS[self.kind]

    @property
    def dynamic(self) -> bool:
        return self.definition is not None


def _int(raw: Any, field: str) -> int:
    if isinstance(raw, str) and raw.strip().lstrip("-").isdecimal():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ParamError({field: ["must be a whole number"]})
    return raw


def _optional_int(raw: Any, field: str) -> int | None:
    return None if raw in (None, "") else _int(raw, field)


def _range_words(query: Any) -> str:
    start, end = query.range.date_from, query.range.date_to
    return f"{start:%b} {start.day}, {start.year} – {end:%b} {end.day}, {end.year}"


def _prefixed(error: ParamError) -> ParamError:
    return error.prefixed("part")


# -- funnels ---------------------------------------------------------------------------------


def _funnel(project: Project, query: FunnelQuery, part: dict) -> Source:
    step = _int(part.get("step"), "step")
    outcome = part.get("outcome", "dropped")
    value = part.get("value")
    if value is not None and not isinstance(value, str):
        raise ParamError({"value": ["must be a breakdown value (text), or null for everyone"]})
    if value is not None and query.breakdown is None:
        raise ParamError({"value": ["the funnel has no breakdown; leave value out"]})
    people = funnel_persons_sql(project=project, query=query, step=step, outcome=outcome, value=value)
    labels = [s.short_label or s.label for s in query.steps]
    this = labels[step - 1]
    if outcome == "dropped":
        what = f"drop-offs after step {step} “{this}” (did not reach “{labels[step]}”)"
        name = f"Dropped after {this}"
    else:
        what = f"conversions to step {step} “{this}”"
        name = f"Reached {this}"
    if value is not None and query.breakdown is not None:
        shown = value or "(none)"
        if query.breakdown.type == "segment":
            shown = next((s.name for s in query.breakdown.segments if str(s.pk) == value), value)
        what += f", {query.breakdown.label} “{shown}”"
        name += f" ({shown})"
    label = (
        f"Created from the funnel {' → '.join(labels)} (first step {_range_words(query)}, "
        f"within {query.within}): {what}"
    )
    definition, why = funnel_definition(query, step=step, outcome=outcome, value=value)
    part = {"step": step, "outcome": outcome, "value": value}
    return Source("funnel", people, part, label, name, definition=definition, why=why)


def funnel_definition(
    query: FunnelQuery, *, step: int, outcome: str, value: str | None
) -> tuple[dict | None, str]:
    """The segment definition meaning exactly this funnel part, and why; or None and why it cannot."""
    if query.range.last_days:
        return None, (
            f"The funnel's range rolls (the last {query.range.last_days} calendar days in the project's time zone), "
            "while a segment's rolling window is the last days × 24 hours." + FIXED
        )
    days, rest = divmod(query.within.delta, timedelta(days=1))
    if rest:
        return None, (
            f"The funnel's conversion window ({query.within}) is not whole days, "
            "while a segment's sequence counts whole days." + FIXED
        )
    if query.traffic != TrafficFilter():
        return None, "The funnel lets bots or internal users in, whom a segment's counts leave out." + FIXED
    conditions: list[dict] = []
    breakdown = query.breakdown
    if value is not None and breakdown is not None:
        if breakdown.type == "segment":
            conditions.append({"type": "segment", "segment": int(value), "negate": False})
        elif breakdown.type in PROPERTY_BREAKDOWNS and value:
            conditions.append(
                {"type": breakdown.type, "property": breakdown.prop, "operator": "eq", "value": value}
            )
        elif breakdown.type in PROPERTY_BREAKDOWNS:
            return None, (
                f"The “(none)” row of a {breakdown.label} breakdown joins a missing property with an empty one, "
                "which one condition does not say." + FIXED
            )
        else:
            return None, (
                f"A {breakdown.label} breakdown takes the session of each person's first step, "
                "which no segment condition says." + FIXED
            )
    window = {"from": query.range.date_from.isoformat(), "to": query.range.date_to.isoformat()}
    steps = [spec.to_json() for spec in query.steps]
    if outcome == "converted" and step == 1:
        rule = {
            "type": "behavior",
            "event": steps[0],
            "count": {"operator": "gte", "value": 1},
            "window": window,
        }
    else:
        rule = {
            "type": "sequence",
            "steps": steps[:step] if outcome == "converted" else steps[: step + 1],
            "within_days": days,
            "last_step": "did" if outcome == "converted" else "did_not",
            "window": window,
            "window_covers": "first_step",
        }
    return {"match": "all", "negate": False, "conditions": [rule, *conditions]}, KEPT_LIVE


# -- comparisons -----------------------------------------------------------------------------


def _compare(project: Project, query: CompareQuery, part: dict) -> Source:
    groups = query.groups
    index = _int(part.get("group"), "group")
    if not 0 <= index < len(groups):
        raise ParamError(
            {"group": [f"must be between 0 and {len(groups) - 1} (the comparison's groups in order)"]}
        )
    group = groups[index]
    population, params = population_sql(
        query.metric, project=project, date_range=query.range, now=timezone.now()
    )
    members, member_params = members_sql(group.segment)
    counted, counted_params = person_filter_sql("pop.person_id", project=project, traffic=query.traffic)
    # the comparison's own filter: outcome known (mature), counted, and in (or out of) the segment
    sql = (
        f"SELECT pop.person_id FROM ({population}) pop WHERE pop.mature AND {counted}"  # noqa: S608 - constant SQL, values as %s parameters
        f" AND {'NOT ' if group.rest else ''}pop.person_id IN ({members})"
    )
    metric = query.metric
    label = (
        f"Created from the comparison of {metric.name or metric.kind_label} ({_range_words(query)}): "
        f"the group “{group.label}”, {metric.population_label}"
    )
    people = (sql, [*params, *counted_params, *member_params])
    return Source(
        "compare", people, {"group": index}, label, f"{group.label} in {metric.name or metric.kind_label}"
    )


# -- retention -------------------------------------------------------------------------------


def _retention(project: Project, query: RetentionQuery, part: dict) -> Source:
    raw = part.get("cohort")
    try:
        cohort = date.fromisoformat(str(raw))
    except ValueError:
        raise ParamError({"cohort": ["must be a cohort's first day (YYYY-MM-DD)"]}) from None
    cohorts = cohort_starts(query)
    if cohort not in cohorts:
        raise ParamError(
            {"cohort": [f"no cohort starts on {cohort.isoformat()}; the first is {cohorts[0].isoformat()}"]}
        )
    group_id = _optional_int(part.get("group"), "group")
    segment = next((s for s in query.segments if s.pk == group_id), None)
    if group_id is not None and segment is None:
        raise ParamError({"group": ["must be one of the retention's segments, or empty for everyone"]})
    period = _optional_int(part.get("period"), "period")
    if period is not None and not 0 <= period < query.periods:
        raise ParamError({"period": [f"must be between 0 and {query.periods - 1}"]})
    ctes, params = cohort_ctes_sql(project=project, query=query)
    where, where_params = " WHERE c.cohort = %s", [cohort]
    if segment is not None:
        members, member_params = members_sql(segment)
        where += f" AND c.person_id IN ({members})"
        where_params += member_params
    if period is not None:
        where += " AND c.person_id IN (SELECT r.person_id FROM returned r WHERE r.period = %s)"
        where_params.append(period)
    people = (f"WITH {ctes} SELECT c.person_id FROM cohort c{where}", [*params, *where_params])  # noqa: S608 - constant SQL, values as %s parameters
    unit = query.period
    group = segment.name if segment else "Everyone"
    cohort_words = f"the {unit} of {cohort:%b} {cohort.day}, {cohort.year}"
    if period is None:
        what = f"first seen in {cohort_words}"
        name = f"First seen {cohort.isoformat()}"
    else:
        what = f"first seen in {cohort_words} who did {query.event_label} in {unit} {period}"
        name = f"Came back in {unit} {period} ({cohort.isoformat()})"
    label = f"Created from retention ({_range_words(query)}): {group}, {what}"
    normalised = {"cohort": cohort.isoformat(), "group": group_id, "period": period}
    return Source(
        "retention", people, normalised, label, name if segment is None else f"{name}, {segment.name}"
    )


# -- paths -----------------------------------------------------------------------------------

OTHER = {"other": True}


def _path_part(raw: Any) -> list:
    """The node's path from the start: labels, the last may be null (the session's edge) or {"other": true}."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= 3:
        raise ParamError({"path": ["must be a list of 1 to 3 steps from the start"]})
    for index, item in enumerate(raw):
        last = index == len(raw) - 1
        if isinstance(item, str):
            continue
        if last and (item is None or item == OTHER):
            continue
        raise ParamError(
            {
                f"path[{index}]": [
                    "must be a step's label" + ('; the last may be null or {"other": true}' if last else "")
                ]
            }
        )
    return raw


def _node(children: list[PathNode], path: list) -> tuple[PathNode, list[PathNode]] | None:
    """The node at `path` and its siblings, as the tree shows them; None when the tree does not show it."""
    siblings = children
    for index, item in enumerate(path):
        if item == OTHER:
            found = next((n for n in siblings if n.folded), None)
        else:
            found = next((n for n in siblings if not n.folded and n.label == item), None)
        if found is None:
            return None
        if index == len(path) - 1:
            return found, siblings
        siblings = found.children
    return None


def _paths(project: Project, query: PathsQuery, part: dict) -> Source:
    group_id = _optional_int(part.get("group"), "group")
    segment = next((s for s in query.segments if s.pk == group_id), None)
    if group_id is not None and segment is None:
        raise ParamError({"group": ["must be one of the paths' segments, or empty for everyone"]})
    path = _path_part(part.get("path"))
    result = paths_compute(project=project, query=query)
    group = next(g for g in result.groups if g.segment_id == group_id)
    found = _node(group.children, path)
    if found is None:
        raise ParamError({"path": ["the paths tree does not show this node (it shows the top steps only)"]})
    node, siblings = found
    firsts, params = firsts_sql(query, project)
    where, where_params = [], []
    if segment is not None:
        members, member_params = members_sql(segment)
        where.append(f"f.person_id IN ({members})")
        where_params += member_params
    for depth, item in enumerate(path, start=1):
        column = f"f.s{depth}"  # s1…s3: constants
        if item is None:
            where.append(f"{column} IS NULL")
        elif item == OTHER:
            shown = [n.label for n in siblings if not n.folded]
            labels = [label for label in shown if label is not None]
            # folded: every step the tree does not show beside it, the session's edge included unless shown
            edge = "false" if None in shown else f"{column} IS NULL"
            where.append(f"({edge} OR NOT ({column} = ANY(%s)))")
            where_params.append(labels)
        else:
            where.append(f"{column} = %s")
            where_params.append(item)
    people = (
        f"WITH firsts AS ({firsts}) SELECT f.person_id FROM firsts f WHERE {' AND '.join(where)}",  # noqa: S608 - constant SQL, values as %s parameters
        [*params, *where_params],
    )
    words = " → ".join(
        node.edge if item is None else "other steps" if item == OTHER else item for item in path
    )
    direction = "after" if query.direction == "next" else "before"
    label = (
        f"Created from paths {direction} {query.start_label} ({_range_words(query)}): "
        f"{segment.name if segment else 'Everyone'}, {words}"
    )
    name = f"{query.start_label} → {words}" if query.direction == "next" else f"{words} → {query.start_label}"
    return Source("paths", people, {"group": group_id, "path": path}, label, name[:200])


RESOLVERS = {"funnel": _funnel, "compare": _compare, "retention": _retention, "paths": _paths}


def source_resolve(*, project: Project, kind: str, query: Any, part: Any) -> Source:
    """The part of a checked analysis query; ParamError names the bad field (`part.step`)."""
    if not isinstance(part, dict):
        raise ParamError({"part": ["must be an object naming the step, group, cell or node"]})
    try:
        return RESOLVERS[kind](project, query, part)
    except ParamError as error:
        raise _prefixed(error) from None


def resolved_params(query: Any) -> dict:
    """The query's parameters with a rolling range fixed to the days it covered, for a link that shows the same."""
    params = query.to_json()
    params.pop("last_days", None)
    params.update(date_from=query.range.date_from.isoformat(), date_to=query.range.date_to.isoformat())
    return params


__all__ = ["REASONS", "Source", "resolved_params", "source_resolve"]
