"""Company segments, and the person condition that reaches them.

A company segment compiles to

    SELECT c.id FROM tracking_company c WHERE c.project_id = %s AND <boolean tree>

where every condition is a boolean over `c`:
- company traits: jsonb tests on `c.properties` (their history as of a moment);
- `people`: how many of the company's current people match a person definition,
  `c.id IN (SELECT p.company_id … GROUP BY p.company_id HAVING count(*) CMP n)`,
  or `NOT (c.id IN (… the negated count))` when zero people satisfies it;
- `aggregate`: the person-level aggregate over all the company's people's
  events, combined from per-person partials (sum, count, min, max) that the
  event store returns, so both backends combine them in PostgreSQL alike;
- `segment`: another company segment (dynamic: its tree inline; static: its
  open memberships).

A person's `company_segment` condition reads the company segment's open
memberships (company_membership_open), as a nested static segment does: the
refresh re-evaluates the people of companies whose membership changed
(segments.services). As of a moment it evaluates the company segment inline
as of then.

Incremental refresh restricts a company segment to `company_ids`; the nested
person conditions are then restricted to those companies' people.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from django.db import connection

from segments.compiler.base import (
    Clause,
    CompileError,
    CompilerBase,
    Members,
    _Context,
    members_sql,
    nested_negate,
)
from segments.compiler.traits import TraitConditions
from segments.models import Segment, SegmentSubject
from tracking.eventstore import segments as event_store
from tracking.properties import compare_sql

_COMBINED = {
    "sum": "sum(a.s)",
    "avg": "sum(a.s) / sum(a.n)",
    "min": "min(a.mn)",
    "max": "max(a.mx)",
}


def people_of(project_id: int, company_ids: list[int]) -> list[int]:
    """The current people of these companies (relies on the person company foreign key's index)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM tracking_person WHERE project_id = %s AND company_id = ANY(%s::bigint[]) ORDER BY id",
            [project_id, company_ids],
        )
        return [row[0] for row in cursor.fetchall()]


def company_segment(project_id: int, segment_id: int) -> Segment:
    segment = Segment.objects.filter(pk=segment_id, project_id=project_id).first()
    if segment is None:
        raise CompileError(f"segment {segment_id} no longer exists")
    if segment.subject != SegmentSubject.COMPANY:
        raise CompileError(f"segment {segment_id} is not a segment of companies")
    return segment


def stored_members(segment: Segment, ctx: _Context) -> tuple[str, list]:
    """`SELECT company_id` of a company segment's stored members: the open periods, or as of a
    moment the periods covering it (relies on company_membership_entered)."""
    if ctx.as_of:
        return (
            "SELECT m.company_id FROM segments_companymembership m WHERE m.segment_id = %s"
            " AND m.entered_at <= %s AND (m.exited_at IS NULL OR m.exited_at > %s)",
            [segment.pk, ctx.now, ctx.now],
        )
    return (
        "SELECT m.company_id FROM segments_companymembership m WHERE m.segment_id = %s AND m.exited_at IS NULL",
        [segment.pk],
    )


class CompanySegmentCondition(CompilerBase):
    """The person condition `company_segment`."""

    def c_company_segment(self, node: dict) -> tuple[str, list]:
        segment = company_segment(self.ctx.project_id, node["segment"])
        if segment.pk in self.ctx.stack:
            raise CompileError("segments refer to each other in a cycle")
        if self.ctx.as_of and segment.is_dynamic:
            inner_ctx = replace(self.ctx, person_ids=None, stack=(*self.ctx.stack, segment.pk))
            tree, params = CompanyCompiler(inner_ctx).group(segment.definition)
            sql = f"SELECT c.id FROM tracking_company c WHERE c.project_id = %s AND ({tree})"
            params = [self.ctx.project_id, *params]
        else:
            sql, params = stored_members(segment, self.ctx)
        # a person without a company is in no company segment (NULL IN (…) is not false)
        held = f"coalesce(p.company_id IN ({sql}), false)"
        return (f"NOT ({held})" if node.get("negate") else held), params


class CompanyCompiler(TraitConditions):
    """A company definition's boolean tree as SQL over `c` (companies).

    `ctx.person_ids`, when set, are the people of the companies being refreshed.
    """

    ROW = "c.id"

    def c_people(self, node: dict) -> Members:
        from segments.compiler import Compiler

        tree, tree_params = Compiler(self.ctx).group(node["definition"])
        restrict, restrict_params = self.restrict("p.id")
        if self.ctx.as_of:
            restrict, restrict_params = f"{restrict} AND p.first_seen <= %s", [*restrict_params, self.ctx.now]

        def companies(operator: str) -> tuple[str, list]:
            return (
                "SELECT p.company_id FROM tracking_person p LEFT JOIN tracking_company c ON c.id = p.company_id"
                f" WHERE p.project_id = %s AND p.company_id IS NOT NULL{restrict} AND ({tree})"
                f" GROUP BY p.company_id HAVING count(*) {compare_sql(operator)} %s",
                [self.ctx.project_id, *restrict_params, *tree_params, node["count"]["value"]],
            )

        return self.counted(companies, node["count"]["operator"], node["count"]["value"])

    def c_aggregate(self, node: dict) -> Members:
        partials, params = event_store.aggregate_partials(
            self.ctx.project_id, node["event"], prop=node["property"], **self.event_window(node)
        )
        sql = (
            f"SELECT pp.company_id FROM ({partials}) a(person_id, s, n, mn, mx)"
            " JOIN tracking_person pp ON pp.id = a.person_id WHERE pp.company_id IS NOT NULL"
            f" GROUP BY pp.company_id HAVING {_COMBINED[node['function']]} {compare_sql(node['operator'])} %s"
        )
        return Members(sql, [*params, Decimal(str(node["value"]))])

    def c_segment(self, node: dict) -> Clause:
        segment = company_segment(self.ctx.project_id, node["segment"])
        if segment.pk in self.ctx.stack:
            raise CompileError("segments refer to each other in a cycle")
        if segment.is_dynamic:
            inner = CompanyCompiler(replace(self.ctx, stack=(*self.ctx.stack, segment.pk)))
            return inner.compose({**segment.definition, "negate": nested_negate(segment.definition, node)})
        found = Members(*stored_members(segment, self.ctx))
        return found.negated() if node.get("negate") else found


def compile_companies(
    definition: dict, *, ctx: _Context, company_ids: list[int] | None = None
) -> tuple[str, list]:
    """The SQL selecting the ids of the project's companies matching a company definition."""
    restrict, restrict_params = "", []
    if company_ids is not None:
        ctx = replace(ctx, person_ids=people_of(ctx.project_id, company_ids))
        restrict, restrict_params = " AND c.id = ANY(%s::bigint[])", [company_ids]
    compiler = CompanyCompiler(ctx)
    found = compiler.compose(definition)
    # Every set a company condition selects is read from the project's persons or memberships:
    # a full computation made only of sets needs no read of the companies' table (a refresh
    # of a few companies is driven from their rows, as for persons).
    members = members_sql(found) if isinstance(found, list) and company_ids is None else None
    if members is not None:
        return members.sql, members.params
    where, params = compiler.boolean(found)
    sql = f"SELECT c.id FROM tracking_company c WHERE c.project_id = %s{restrict} AND ({where})"
    return sql, [ctx.project_id, *restrict_params, *params]
