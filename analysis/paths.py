"""Paths: where people go next (or came from) after a page or an action, by segment.

Each person's first start event in the range (a page view of the chosen path,
or an event matching the chosen event spec / action) anchors their path; the
three steps after it (or before it) in the same session make the path. A step is
the page path for page views, the clicked text for autocaptured clicks, and the
event name otherwise; repeats in a row (reloads, double clicks) count once.
Sessions that end before three steps end the path early.

The event store gives each person's three steps (the first anchor, the events
of that session on the anchor's side ordered by time, repeats folded:
tracking.eventstore.analysis.path_steps_sql), and the event store counts them
per prefix of the path and per group (everyone, and each segment's current
members: tracking.eventstore.analysis.path_counts_sql). The tree is assembled
from those counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analysis.events import EventSpec, parse_event
from analysis.params import TRAFFIC_FIELDS, Checker, DateRange, ParamError, range_bounds
from analysis.reads import fetch_all, limited
from analysis.selectors import tagged_members_sql
from segments.models import Segment
from tracking.eventstore.analysis import path_counts_sql, path_steps_sql
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter, excluded_persons_sql

DEPTH = 3
BRANCHES = (6, 4, 3)  # children shown per node at depth 1, 2, 3; the rest are folded
DIRECTIONS = ("next", "previous")
STEP_KINDS = ("pageviews", "events")
# bookkeeping events that are not something a person did on the page
SKIPPED_EVENTS = ("$pageleave", "$identify", "$groupidentify", "$set", "$survey_shown", "$survey_dismissed")
MAX_PATH = 1000


@dataclass
class PathsQuery:
    range: DateRange
    start_path: str | None = None
    start_event: EventSpec | None = None
    direction: str = "next"
    steps: str = "pageviews"
    segments: list[Segment] = field(default_factory=list)
    traffic: TrafficFilter = field(default_factory=TrafficFilter)

    @property
    def start_label(self) -> str:
        return (
            self.start_path
            if self.start_path is not None
            else (self.start_event.label if self.start_event else "")
        )

    def to_json(self) -> dict:
        start = {"path": self.start_path} if self.start_path is not None else self.start_event.to_json()  # type: ignore[union-attr]
        return {
            **self.range.to_json(),
            "start": start,
            "direction": self.direction,
            "steps": self.steps,
            "segments": [s.pk for s in self.segments],
            **self.traffic.to_json(),
        }


def paths_params(data: Any, *, project: Project) -> PathsQuery:
    if not isinstance(data, dict):
        raise ParamError({"non_field_errors": ["send an object of parameters"]})
    checker = Checker(project=project)
    checker.unknown_keys(
        data,
        ("date_from", "date_to", "last_days", "start", "direction", "steps", "segments", *TRAFFIC_FIELDS),
    )
    start = checker.obj(data.get("start"), "start")
    start_path, start_event = None, None
    if start is not None:
        if "path" in start:
            checker.unknown_keys(start, ("path",), "start.")
            start_path = checker.string(start.get("path"), "start.path", limit=MAX_PATH)
            if start_path is not None and not start_path.startswith("/"):
                checker.error("start.path", "a page path starts with /, e.g. /pricing")
        else:
            start_event = parse_event(start, "start", checker)
    direction = checker.choice(data.get("direction", "next"), "direction", DIRECTIONS)
    steps = checker.choice(data.get("steps", "pageviews"), "steps", STEP_KINDS)
    segments = checker.segments(data.get("segments"), "segments")
    date_range = checker.date_range(data)
    traffic = checker.traffic(data)
    checker.done()
    assert date_range is not None and direction is not None and steps is not None
    return PathsQuery(
        range=date_range,
        start_path=start_path,
        start_event=start_event,
        direction=direction,
        steps=steps,
        segments=segments,
        traffic=traffic,
    )


@dataclass
class PathNode:
    label: str | None  # None: the session ended (or began) here
    count: int
    share: float  # of the group's persons at the start
    children: list[PathNode] = field(default_factory=list)
    folded: bool = False  # "other steps": several labels folded together
    edge: str = "(session ends)"  # what a missing step means in this direction

    @property
    def display(self) -> str:
        if self.folded:
            return "other steps"
        return self.label if self.label is not None else self.edge

    def to_json(self) -> dict:
        return {
            "step": self.label,
            "other": self.folded,
            "persons": self.count,
            "share": self.share,
            "next": [c.to_json() for c in self.children],
        }


@dataclass
class PathGroup:
    label: str
    segment_id: int | None
    persons: int
    children: list[PathNode]

    def to_json(self) -> dict:
        return {
            "group": self.label,
            "segment": self.segment_id,
            "persons": self.persons,
            "steps": [c.to_json() for c in self.children],
        }


@dataclass
class PathsResult:
    query: PathsQuery
    groups: list[PathGroup]

    def to_json(self) -> dict:
        return {
            "query": self.query.to_json(),
            "membership": "current members of each segment",
            "groups": [g.to_json() for g in self.groups],
        }


def _steps_args(query: PathsQuery, project: Project) -> dict:
    start, end = range_bounds(query.range, project)
    return dict(
        project_id=project.pk,
        start=start,
        end=end,
        anchor=query.start_event.step() if query.start_event else None,
        start_path=query.start_path,
        pageviews_only=query.steps == "pageviews",
        skipped=SKIPPED_EVENTS,
        forward=query.direction == "next",
        excluded=excluded_persons_sql(project=project, traffic=query.traffic),
    )


def firsts_sql(query: PathsQuery, project: Project) -> tuple[str, list]:
    """`SELECT person_id, s1, s2, s3`: each person's first anchor in the range and the three steps on its side."""
    return path_steps_sql(**_steps_args(query, project))


def _counts_sql(query: PathsQuery, project: Project) -> tuple[str, list]:
    """`group_id, depth, s1, s2, s3, persons`: the steps counted per prefix, for everyone and each segment."""
    members, member_params = tagged_members_sql(query.segments)
    groups = (f"SELECT m.segment_id AS group_id, m.person_id FROM ({members}) m", member_params)  # noqa: S608 - constant SQL, values as %s parameters
    return path_counts_sql(**_steps_args(query, project), groups=groups)


def _children(counts: dict[tuple, int], prefix: tuple, total: int, depth: int, edge: str) -> list[PathNode]:
    """The top children of a path prefix from the grouped counts; the rest folded into one node."""
    options = [
        (key[-1], count)
        for key, count in counts.items()
        if len(key) == len(prefix) + 1 and key[:-1] == prefix
    ]
    options.sort(key=lambda item: (-item[1], item[0] is None, item[0] or ""))
    limit = BRANCHES[depth]
    nodes = []
    for label, count in options[:limit]:
        node = PathNode(label=label, count=count, share=count / total if total else 0.0, edge=edge)
        if label is not None and depth + 1 < DEPTH:
            node.children = _children(counts, (*prefix, label), total, depth + 1, edge)
        nodes.append(node)
    rest = sum(count for _, count in options[limit:])
    if rest:
        nodes.append(
            PathNode(label=None, count=rest, share=rest / total if total else 0.0, folded=True, edge=edge)
        )
    return nodes


def paths_compute(*, project: Project, query: PathsQuery) -> PathsResult:
    with limited():  # the event store may read the events while it builds the counts (PostgreSQL's walk)
        counts, params = _counts_sql(query, project)
        statement = f"SELECT c.group_id, c.depth, c.s1, c.s2, c.s3, c.persons FROM ({counts}) c"  # noqa: S608 - constant SQL, values as %s parameters
        records = fetch_all(statement, params)
    per_group: dict[int, dict[tuple, int]] = {}
    totals: dict[int, int] = {}
    for grp, depth, s1, s2, s3, count in records:
        if depth == 0:
            totals[grp] = count
            continue
        key = (s1, s2, s3)[:depth]
        # a path that ended before this depth has nothing to add here
        if any(part is None for part in key[:-1]):
            continue
        per_group.setdefault(grp, {})[key] = count
    groups = [("Everyone", None, 0)] + [(s.name, s.pk, s.pk) for s in query.segments]
    edge = "(session ends)" if query.direction == "next" else "(session starts)"
    out = []
    for label, segment_id, grp in groups:
        total = totals.get(grp, 0)
        out.append(PathGroup(label, segment_id, total, _children(per_group.get(grp, {}), (), total, 0, edge)))
    return PathsResult(query=query, groups=out)
