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
the top of the tree). A full computation whose tree is made only of such sets, at
least one of which must hold, skips the persons: `SELECT x.id FROM (<a set>) x(id)
WHERE <the others>` (`base.members_sql`; see `_sets_name_persons` for when).
Conditions satisfied by zero events ("never did", "fewer than 3") are written
as `NOT (p.id IN (persons whose count does not satisfy it))`, so people with no
events at all are included without scanning them.

Incremental refresh passes `person_ids`: every subquery is then restricted to
those persons as well, which makes the cost grow with the touched persons'
events, not with history.

Indexes each construct relies on:
- behavior/aggregate/sequence/survey: see tracking/eventstore/postgres/segments.py;
- active_days: the daily rollup tracking_personday (person_day_unique);
- rank: its threshold is found when compiling (segments/compiler/rank.py), one
  query over the event store's per-person scores and the project's persons;
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

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from segments.compiler.activity import ActivityConditions
from segments.compiler.base import (
    Clause,
    CompileError,
    Members,
    Query,
    _Context,
    members_sql,
    nested_negate,
    window_bounds,
)
from segments.compiler.companies import CompanySegmentCondition, compile_companies
from segments.compiler.events import EventConditions
from segments.compiler.rank import RankConditions
from segments.compiler.traits import TraitConditions
from segments.definition import referenced_segments
from segments.models import Segment
from tracking.eventstore import using_clickhouse

__all__ = [
    "CompileError",
    "Query",
    "compile_definition",
    "compile_segment",
    "effective_definition",
    "segment_depends",
    "window_bounds",
]


class Compiler(TraitConditions, ActivityConditions, EventConditions, RankConditions, CompanySegmentCondition):
    """A definition's boolean tree as SQL over `p` (persons) and `c` (their company)."""

    def c_segment(self, node: dict) -> Clause:
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
            definition = effective_definition(segment)
            return inner.compose({**definition, "negate": nested_negate(definition, node)})
        if self.ctx.as_of:
            # the period that covers the moment (relies on membership_segment_entered)
            found = Members(
                "SELECT m.person_id FROM segments_segmentmembership m"
                " WHERE m.segment_id = %s AND m.entered_at <= %s AND (m.exited_at IS NULL OR m.exited_at > %s)",
                [segment.pk, self.ctx.now, self.ctx.now],
            )
        else:
            found = Members(
                "SELECT m.person_id FROM segments_segmentmembership m"
                " WHERE m.segment_id = %s AND m.exited_at IS NULL",
                [segment.pk],
            )
        return found.negated() if node.get("negate") else found


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


def segment_depends(segment, predicate: Callable[[dict], bool], seen: set[int] | None = None) -> bool:
    """Whether `predicate` holds for the segment's definition as computed, or for a dynamic segment it names
    (directly or through others): those are compiled into it."""
    seen = seen if seen is not None else set()
    if segment.pk in seen:
        return False
    seen.add(segment.pk)
    definition = effective_definition(segment)
    if predicate(definition):
        return True
    nested = Segment.objects.filter(pk__in=referenced_segments(definition), project_id=segment.project_id)
    return any(ref.is_dynamic and segment_depends(ref, predicate, seen) for ref in nested)


def compile_definition(
    definition: dict,
    *,
    project,
    now: datetime,
    person_ids: list[int] | None = None,
    segment_id: int | None = None,
    as_of: bool = False,
    subject: str = "person",
) -> Query:
    """The SQL that selects the ids of persons matching `definition` in `project`.

    `as_of`: evaluated as the stored history stood at `now` (see the module's notes).
    `subject` "company": the ids of companies matching a company definition, and
    `person_ids` are company ids to restrict to (segments.compiler.companies).
    """
    # "last N days" is N days of 24 h back from the moment: in UTC, where datetime arithmetic is
    # elapsed time (in a zone it is wall-clock time, an hour off across a DST change)
    now = now.astimezone(UTC)
    stack = (segment_id,) if segment_id else ()
    if subject == "company":
        ctx = _Context(project.pk, project.zone, now, None, stack, as_of=as_of)
        return Query(*compile_companies(definition, ctx=ctx, company_ids=person_ids))
    ctx = _Context(project.pk, project.zone, now, person_ids, stack, as_of=as_of)
    compiler = Compiler(ctx)
    found = compiler.compose(definition)
    members = (
        members_sql(found) if isinstance(found, list) and _sets_name_persons(as_of, person_ids) else None
    )
    if members is not None:
        return Query(members.sql, members.params)
    where, params = compiler.boolean(found)
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


def _sets_name_persons(as_of: bool, person_ids: list[int] | None) -> bool:
    """Whether a full computation made only of sets can be answered without reading the persons' table.

    On PostgreSQL every set is read from tables whose person ids are the project's
    persons (events, their daily rollups, sessions and memberships are moved with
    merges and deleted with their person), so the sets' ids need no check against
    `tracking_person`. Not as of a moment, where only persons first seen by then
    count, nor with events in ClickHouse, whose merges and erasures are written outside
    PostgreSQL's transaction, so its ids may name a person merged or erased meanwhile.

    A refresh of a few persons keeps the persons' table too: the planner then drives
    every condition from those persons' rows, by their index, where a set on its own
    may be read by the event name's index over all of history.
    """
    return person_ids is None and not as_of and not using_clickhouse()


def compile_segment(
    segment, *, now: datetime, person_ids: list[int] | None = None, as_of: bool = False
) -> Query:
    """The SQL selecting the segment's members: person ids, or company ids for a company segment
    (then `person_ids` are the company ids to restrict to)."""
    return compile_definition(
        effective_definition(segment),
        project=segment.project,
        now=now,
        person_ids=person_ids,
        segment_id=segment.pk,
        as_of=as_of,
        subject=segment.subject,
    )
