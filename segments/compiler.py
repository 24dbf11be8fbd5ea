"""Segment definition -> one parameterised SQL statement returning person ids.

The statement has the shape

    SELECT p.id FROM tracking_person p LEFT JOIN tracking_company c ON c.id = p.company_id
    WHERE p.project_id = %s AND <boolean tree>

where every condition is a boolean over `p` (and `c`): person and company
traits are direct jsonb tests; behavioural conditions are `p.id IN (subquery)`
over sessions, the daily rollup, or a fragment from the event store
(`tracking.eventstore.segments`: a subquery over the events table on PostgreSQL,
the ids ClickHouse found otherwise). Subqueries are uncorrelated, so PostgreSQL
computes each once and hashes it (or turns it into a semi-join when it sits at
the top of the tree). Conditions satisfied by zero events ("never did", "fewer
than 3") are written as `NOT (p.id IN (persons whose count does not satisfy
it))`, so people with no events at all are included without scanning them.

Incremental refresh passes `person_ids`: every subquery is then restricted to
those persons as well, which makes the cost grow with the touched persons'
events, not with history.

Indexes each construct relies on:
- behavior/aggregate/sequence/survey: see tracking/eventstore/postgres/segments.py;
- active_days: the daily rollup tracking_personday (person_day_unique);
- device/geo/session: session_project_started / session_project_person;
- person traits: person_properties_gin is not used by `->>` tests; a full
  computation scans the project's persons, which are far fewer than events.

As of a moment (`as_of=True`, `now` the moment): only persons first seen by
then, only events, sessions and survey answers at or before it, windows ending
at it, traits as their history (tracking.PersonTrait, CompanyTrait) held them
then, nested segments as of then (a static one by its membership periods). A
trait with no history for a person is taken at its current value
(`trait_fallbacks` says which). Identities are today's: events of persons merged
later count for the merged person at any moment.

Values are always %s parameters; the SQL text is built only from constants.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from segments.definition import SESSION_NUMBERS
from segments.models import Segment
from tracking.eventstore import segments as event_store
from tracking.models import Action
from tracking.properties import column_filter_sql, compare_sql, jsonb_filter_sql

ZERO_SATISFIES = {"eq": lambda n: n == 0, "neq": lambda n: n != 0, "gt": lambda n: False,
                  "gte": lambda n: n <= 0, "lt": lambda n: n > 0, "lte": lambda n: n >= 0}  # fmt: skip
_NEGATED = {"eq": "neq", "neq": "eq", "gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}


class CompileError(ValueError):
    pass


@dataclass
class Query:
    sql: str
    params: list = field(default_factory=list)


@dataclass
class _Context:
    project_id: int
    tz: zoneinfo.ZoneInfo
    now: datetime
    person_ids: list[int] | None
    stack: tuple[int, ...] = ()
    actions: dict[int, list] = field(default_factory=dict)
    as_of: bool = False

    @property
    def until(self) -> datetime | None:
        """The exclusive end of what counts as of `now` (None: everything stored)."""
        return self.now + _TICK if self.as_of else None


# A session's numbers: its length (exact, to the microsecond) and its page views.
_SESSION_NUMBER_SQL = {
    "duration_seconds": "extract(epoch from s.ended_at - s.started_at)",
    "pageview_count": "s.pageview_count",
}
_TICK = timedelta(microseconds=1)  # both event stores keep microseconds: "<= now" is "< now + 1 µs"


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def window_bounds(
    window: dict | None, *, now: datetime, tz: zoneinfo.ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """[start, end) of a window; dates are whole days in the project's time zone, `to` included."""
    if not window:
        return None, None
    if "last_days" in window:
        return now - timedelta(days=window["last_days"]), None
    start = datetime.combine(date.fromisoformat(window["from"]), time.min, tzinfo=tz)
    end = datetime.combine(date.fromisoformat(window["to"]) + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


class Compiler:
    def __init__(self, ctx: _Context):
        self.ctx = ctx

    # -- plumbing -----------------------------------------------------------------
    def restrict(self, column: str) -> tuple[str, list]:
        if self.ctx.person_ids is None:
            return "", []
        return f" AND {column} = ANY(%s::bigint[])", [self.ctx.person_ids]

    def window_sql(self, window: dict | None, column: str) -> tuple[str, list]:
        start, end = window_bounds(window, now=self.ctx.now, tz=self.ctx.tz)
        end = _earlier(end, self.ctx.until)
        sql, params = "", []
        if start is not None:
            sql += f" AND {column} >= %s"
            params.append(start)
        if end is not None:
            sql += f" AND {column} < %s"
            params.append(end)
        return sql, params

    def action_steps(self, action_id: int) -> list:
        if action_id not in self.ctx.actions:
            action = Action.objects.filter(pk=action_id, project_id=self.ctx.project_id).first()
            if action is None:
                raise CompileError(f"action {action_id} no longer exists")
            self.ctx.actions[action_id] = action.steps
        return self.ctx.actions[action_id]

    def event_window(self, node: dict) -> dict:
        """The window and the context every event-store fragment takes."""
        since, until = window_bounds(node.get("window"), now=self.ctx.now, tz=self.ctx.tz)
        return {
            "since": since,
            "until": _earlier(until, self.ctx.until),
            "person_ids": self.ctx.person_ids,
            "action_steps": self.action_steps,
        }

    @staticmethod
    def counted(persons: Callable[[str], tuple[str, list]], operator: str, value) -> tuple[str, list]:
        """Membership by a count per person; people with no rows count as zero.

        `persons(op)` selects the persons (with rows) whose count `op` `value`.
        """
        if ZERO_SATISFIES[operator](value):
            sql, params = persons(_NEGATED[operator])
            return f"NOT (p.id IN ({sql}))", params
        sql, params = persons(operator)
        return f"p.id IN ({sql})", params

    # -- the tree -----------------------------------------------------------------------
    def group(self, node: dict) -> tuple[str, list]:
        parts, params = [], []
        for child in node.get("conditions", []):
            sql, p = self.group(child) if "conditions" in child else self.condition(child)
            parts.append(f"({sql})")
            params.extend(p)
        if not parts:
            sql = "true" if node.get("match", "all") == "all" else "false"
        else:
            sql = (" AND " if node.get("match", "all") == "all" else " OR ").join(parts)
        if node.get("negate"):
            sql = f"NOT ({sql})"
        return sql, params

    def condition(self, node: dict) -> tuple[str, list]:
        return getattr(self, f"c_{node['type']}")(node)

    def c_person(self, node: dict) -> tuple[str, list]:
        if self.ctx.as_of:
            return self.trait_as_of("person", node)
        return jsonb_filter_sql("p.properties", node["property"], node["operator"], node["value"])

    def c_company(self, node: dict) -> tuple[str, list]:
        # c comes from a LEFT JOIN: without a company, properties behave as an empty object
        if self.ctx.as_of:
            return self.trait_as_of("company", node)
        return jsonb_filter_sql("c.properties", node["property"], node["operator"], node["value"])

    def trait_as_of(self, subject: str, node: dict) -> tuple[str, list]:
        """The trait's value as of `now` where its history has it, else its current value.

        Of a person's writes at or before `now`: the latest `$set`, else the
        earliest `$set_once`; none yet (all writes later) is "not set". Relies on
        person_trait_key / company_trait_key (project_id, key, subject, at).
        """
        key = node["property"]
        if subject == "person":
            table, column, row, current, once = (
                "tracking_persontrait",
                "person_id",
                "p.id",
                "p.properties",
                True,
            )
            r_sql, r_params = self.restrict("t.person_id")
        else:
            table, column, row, current, once = (
                "tracking_companytrait",
                "company_id",
                "c.id",
                "c.properties",
                False,
            )
            r_sql, r_params = "", []
            if self.ctx.person_ids is not None:
                r_sql = " AND t.company_id IN (SELECT company_id FROM tracking_person WHERE id = ANY(%s::bigint[]))"
                r_params = [self.ctx.person_ids]
        then = self.ctx.now
        order_once = ", t.once, CASE WHEN t.once THEN t.at END" if once else ""
        latest = (
            f"SELECT DISTINCT ON (t.{column}) t.{column} AS id,"
            f" CASE WHEN t.at <= %s THEN jsonb_build_object(%s::text, t.value) ELSE '{{}}'::jsonb END AS props"
            f" FROM {table} t WHERE t.project_id = %s AND t.key = %s{r_sql}"
            f" ORDER BY t.{column}, (t.at <= %s) DESC{order_once}, t.at DESC, t.id DESC"
        )
        latest_params = [then, key, self.ctx.project_id, key, *r_params, then]
        flt_then, flt_then_params = jsonb_filter_sql("h.props", key, node["operator"], node["value"])
        flt_now, flt_now_params = jsonb_filter_sql(current, key, node["operator"], node["value"])
        known = f"SELECT t.{column} FROM {table} t WHERE t.project_id = %s AND t.key = %s{r_sql}"
        # coalesce: a person without a company has c.id NULL, and NULL IN (…) is not false
        sql = (
            f"coalesce({row} IN (SELECT h.id FROM ({latest}) h WHERE {flt_then}), false)"
            f" OR (NOT coalesce({row} IN ({known}), false) AND ({flt_now}))"
        )
        return sql, [
            *latest_params, *flt_then_params, self.ctx.project_id, key, *r_params, *flt_now_params,
        ]  # fmt: skip

    def _session_condition(self, node: dict) -> tuple[str, list]:
        flt_sql, flt_params = column_filter_sql(f"s.{node['property']}", node["operator"], node["value"])
        w_sql, w_params = self.window_sql(node.get("window"), "s.started_at")  # as of: started by then
        r_sql, r_params = self.restrict("s.person_id")
        return (
            f"p.id IN (SELECT s.person_id FROM tracking_session s WHERE s.project_id = %s AND ({flt_sql}){w_sql}{r_sql})",
            [self.ctx.project_id, *flt_params, *w_params, *r_params],
        )

    c_device = _session_condition
    c_geo = _session_condition

    def c_session(self, node: dict) -> tuple[str, list]:
        """The number of the person's sessions started in the window that pass every filter.

        As of a moment: sessions started at or before it, with their final facts
        (duration, page count, exit path as stored now). Relies on
        session_project_started (project_id, started_at), or session_project_person
        on an incremental refresh.
        """
        parts, params = [], []
        for f in node["where"]:
            if f["property"] in SESSION_NUMBERS:
                parts.append(f"{_SESSION_NUMBER_SQL[f['property']]} {compare_sql(f['operator'])} %s")
                params.append(Decimal(str(f["value"])))
            else:
                sql, p = column_filter_sql(f"s.{f['property']}", f["operator"], f["value"])
                parts.append(f"({sql})")
                params.extend(p)
        w_sql, w_params = self.window_sql(node.get("window"), "s.started_at")
        r_sql, r_params = self.restrict("s.person_id")
        where = "".join(f" AND {part}" for part in parts)
        sessions = f"FROM tracking_session s WHERE s.project_id = %s{where}{w_sql}{r_sql}"
        sessions_params = [self.ctx.project_id, *params, *w_params, *r_params]
        count = node["count"]
        if (count["operator"], count["value"]) in (("gte", 1), ("gt", 0)):  # any session: no grouping
            return f"p.id IN (SELECT s.person_id {sessions})", sessions_params
        return self.counted(
            lambda op: (
                f"SELECT s.person_id {sessions} GROUP BY s.person_id HAVING count(*) {compare_sql(op)} %s",
                [*sessions_params, count["value"]],
            ),
            count["operator"],
            count["value"],
        )

    def c_behavior(self, node: dict) -> tuple[str, list]:
        count = node["count"]
        context = self.event_window(node)
        return self.counted(
            lambda op: event_store.count_persons(
                self.ctx.project_id, node["event"], operator=op, value=count["value"], **context
            ),
            count["operator"],
            count["value"],
        )

    def c_active_days(self, node: dict) -> tuple[str, list]:
        # Reads the daily rollup (tracking.PersonDay, person_day_unique), one row per
        # person-day in the project's time zone. A "last N days" window starts mid-day:
        # a day counts when its last event is inside it; date windows are whole days.
        # As of a moment: a day counts when it had an event in the window by then (its
        # first event at or before the moment, its last inside the window).
        window = node["window"]
        if "last_days" in window:
            start, _ = window_bounds(window, now=self.ctx.now, tz=self.ctx.tz)
            days_sql, days_params = "d.last_at >= %s", [start]
        else:
            days_sql = "d.day >= %s AND d.day <= %s"
            days_params = [date.fromisoformat(window["from"]), date.fromisoformat(window["to"])]
        if self.ctx.as_of:
            days_sql, days_params = f"{days_sql} AND d.first_at <= %s", [*days_params, self.ctx.now]
        r_sql, r_params = self.restrict("d.person_id")
        count = node["count"]
        return self.counted(
            lambda op: (
                f"SELECT d.person_id FROM tracking_personday d WHERE d.project_id = %s AND {days_sql}{r_sql}"
                f" GROUP BY d.person_id HAVING count(*) {compare_sql(op)} %s",
                [self.ctx.project_id, *days_params, *r_params, count["value"]],
            ),
            count["operator"],
            count["value"],
        )

    def c_aggregate(self, node: dict) -> tuple[str, list]:
        sql, params = event_store.aggregate_persons(
            self.ctx.project_id,
            node["event"],
            prop=node["property"],
            function=node["function"],
            operator=node["operator"],
            value=node["value"],
            **self.event_window(node),
        )
        return f"p.id IN ({sql})", params

    def c_sequence(self, node: dict) -> tuple[str, list]:
        steps, days = node["steps"], node["within_days"]
        context = self.event_window(node)
        full_sql, full_params = event_store.sequence_persons(
            self.ctx.project_id, steps, within_days=days, **context
        )
        if node["last_step"] == "did":
            return f"p.id IN ({full_sql})", full_params
        # reached the steps before the last one, and never completed the whole sequence
        prefix_sql, prefix_params = event_store.sequence_persons(
            self.ctx.project_id, steps[:-1], within_days=days, **context
        )
        return f"p.id IN ({prefix_sql}) AND NOT (p.id IN ({full_sql}))", [*prefix_params, *full_params]

    def c_first_seen(self, node: dict) -> tuple[str, list]:
        column = "p.first_seen" if node["type"] == "first_seen" else "p.last_seen"
        cutoff = self.ctx.now - timedelta(days=node["value"])
        within = node["operator"] == "within_last_days"
        if self.ctx.as_of and node["type"] == "last_seen":
            # Seen in [cutoff, now]: a day of the rollup with its first event by then and its
            # last at or after the cutoff (a window of at least a day cannot fall in one day's gap).
            r_sql, r_params = self.restrict("d.person_id")
            sql = (
                "p.id IN (SELECT d.person_id FROM tracking_personday d WHERE d.project_id = %s"
                f" AND d.last_at >= %s AND d.first_at <= %s{r_sql})"
            )
            params = [self.ctx.project_id, cutoff, self.ctx.now, *r_params]
            return (sql if within else f"NOT ({sql})"), params
        return f"{column} {'>=' if within else '<'} %s", [cutoff]

    c_last_seen = c_first_seen

    # -- lifecycle verbs: "did E" over consecutive periods ending now ------------------------
    def did(self, event: dict, since: datetime | None, until: datetime | None) -> tuple[str, list]:
        """`p.id IN (persons with an event matching `event` in [since, until))`, capped at the moment."""
        sql, params = event_store.count_persons(
            self.ctx.project_id,
            event,
            since=since,
            until=_earlier(until, self.ctx.until),
            operator="gte",
            value=1,
            person_ids=self.ctx.person_ids,
            action_steps=self.action_steps,
        )
        return f"p.id IN ({sql})", params

    def c_first_time(self, node: dict) -> tuple[str, list]:
        # did E in the last d days, and never before them
        start = self.ctx.now - timedelta(days=node["within_last_days"])
        recent, recent_params = self.did(node["event"], start, None)
        before, before_params = self.did(node["event"], None, start)
        return f"{recent} AND NOT ({before})", [*recent_params, *before_params]

    def c_stopped(self, node: dict) -> tuple[str, list]:
        # did E in the d days before the last d, and not in the last d
        mid = self.ctx.now - timedelta(days=node["days"])
        start = mid - timedelta(days=node["days"])
        earlier, earlier_params = self.did(node["event"], start, mid)
        recent, recent_params = self.did(node["event"], mid, None)
        return f"{earlier} AND NOT ({recent})", [*earlier_params, *recent_params]

    def c_restarted(self, node: dict) -> tuple[str, list]:
        # did E in the last d days, not in the d days before, and at some time before that
        mid = self.ctx.now - timedelta(days=node["days"])
        start = mid - timedelta(days=node["days"])
        recent, recent_params = self.did(node["event"], mid, None)
        gap, gap_params = self.did(node["event"], start, mid)
        before, before_params = self.did(node["event"], None, start)
        return f"{recent} AND NOT ({gap}) AND {before}", [*recent_params, *gap_params, *before_params]

    def c_survey(self, node: dict) -> tuple[str, list]:
        # the person's latest answer to that question
        answered = node["operator"] == "is_not_set"
        sql, params = event_store.survey_persons(
            self.ctx.project_id,
            survey=node["survey"],
            question=node["question"],
            operator=None if answered else node["operator"],
            value=node.get("value"),
            person_ids=self.ctx.person_ids,
            until=self.ctx.until,
        )
        return (f"NOT (p.id IN ({sql}))" if answered else f"p.id IN ({sql})"), params

    def c_segment(self, node: dict) -> tuple[str, list]:
        segment = Segment.objects.filter(pk=node["segment"], project_id=self.ctx.project_id).first()
        if segment is None:
            raise CompileError(f"segment {node['segment']} no longer exists")
        if segment.pk in self.ctx.stack:
            raise CompileError("segments refer to each other in a cycle")
        if segment.is_dynamic:
            inner = Compiler(
                _Context(
                    self.ctx.project_id,
                    self.ctx.tz,
                    self.ctx.now,
                    self.ctx.person_ids,
                    (*self.ctx.stack, segment.pk),
                    self.ctx.actions,
                    self.ctx.as_of,
                )
            )
            sql, params = inner.group(effective_definition(segment))
        elif self.ctx.as_of:
            # the period that covers the moment (relies on membership_segment_entered)
            sql = (
                "p.id IN (SELECT m.person_id FROM segments_segmentmembership m"
                " WHERE m.segment_id = %s AND m.entered_at <= %s AND (m.exited_at IS NULL OR m.exited_at > %s))"
            )
            params = [segment.pk, self.ctx.now, self.ctx.now]
        else:
            sql = (
                "p.id IN (SELECT m.person_id FROM segments_segmentmembership m"
                " WHERE m.segment_id = %s AND m.exited_at IS NULL)"
            )
            params = [segment.pk]
        return (f"NOT ({sql})" if node.get("negate") else sql), params


def effective_definition(segment) -> dict:
    """A segment's definition as computed: a model group also excludes the model's earlier groups."""
    if segment.model_id is None:
        return segment.definition
    others = segment.model.groups.filter(is_model_remainder=False).exclude(pk=segment.pk)
    if not segment.is_model_remainder:
        others = [g for g in others if (g.model_position, g.pk) < (segment.model_position, segment.pk)]
    excluded = [{**g.definition, "negate": not g.definition.get("negate", False)} for g in others]
    own = [] if segment.is_model_remainder else [segment.definition]
    return {"match": "all", "negate": False, "conditions": [*own, *excluded]}


def compile_definition(
    definition: dict,
    *,
    project,
    now: datetime,
    person_ids: list[int] | None = None,
    segment_id: int | None = None,
    as_of: bool = False,
) -> Query:
    """The SQL that selects the ids of persons matching `definition` in `project`.

    `as_of`: evaluated as the stored history stood at `now` (see the module's notes).
    """
    # "last N days" is N days of 24 h back from the moment: in UTC, where datetime arithmetic is
    # elapsed time (in a zone it is wall-clock time, an hour off across a DST change)
    now = now.astimezone(UTC)
    ctx = _Context(
        project.pk, project.zone, now, person_ids, (segment_id,) if segment_id else (), as_of=as_of
    )
    where, params = Compiler(ctx).group(definition)
    restrict = ""
    restrict_params: list[Any] = []
    if person_ids is not None:
        restrict, restrict_params = " AND p.id = ANY(%s::bigint[])", [person_ids]
    if as_of:  # relies on the index on first_seen
        restrict, restrict_params = f"{restrict} AND p.first_seen <= %s", [*restrict_params, now]
    sql = (
        "SELECT p.id FROM tracking_person p LEFT JOIN tracking_company c ON c.id = p.company_id"
        f" WHERE p.project_id = %s{restrict} AND ({where})"
    )
    return Query(sql, [project.pk, *restrict_params, *params])


def compile_segment(
    segment, *, now: datetime, person_ids: list[int] | None = None, as_of: bool = False
) -> Query:
    return compile_definition(
        effective_definition(segment),
        project=segment.project,
        now=now,
        person_ids=person_ids,
        segment_id=segment.pk,
        as_of=as_of,
    )
