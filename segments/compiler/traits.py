"""Person and company trait conditions: current values, or their history as of a moment."""

from __future__ import annotations

from segments.compiler.base import CompilerBase
from tracking.properties import jsonb_filter_sql


class TraitConditions(CompilerBase):
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
