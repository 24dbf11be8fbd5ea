"""Person and company traits as their history held them, and the segments a definition names."""

from __future__ import annotations

from segments.compiler import CompileError, effective_definition
from segments.models import Segment
from segments.sweep.base import Answer, SweepBase, _runs_to_masks
from tracking.properties import jsonb_filter_sql


class TraitConditions(SweepBase):
    def c_person(self, node: dict) -> Answer:
        return self._trait("person", node)

    def c_company(self, node: dict) -> Answer:
        return self._trait("company", node)

    def _trait(self, subject: str, node: dict) -> Answer:
        """Per write, the value from it to the next write (the latest `$set` by then, else the earliest
        `$set_once`, as the compiler's trait_as_of orders them); before the first write, not set; without
        writes, the current value."""
        key, operator, value = node["property"], node["operator"], node["value"]
        if subject == "person":
            table, column, once = "tracking_persontrait", "person_id", "t.once"
        else:
            table, column, once = "tracking_companytrait", "company_id", "false"
        flt, flt_params = jsonb_filter_sql("v.props", key, operator, value)
        hi_sql, hi_params = self._until_next()
        values = (
            f"WITH g AS (SELECT t.{column} AS id, t.at, max(t.id) FILTER (WHERE NOT {once}) AS set_id,"
            f" max(t.id) FILTER (WHERE {once}) AS once_id FROM {table} t"
            " WHERE t.project_id = %s AND t.key = %s AND t.at <= %s GROUP BY 1, 2),"
            " h AS (SELECT id, at, lead(at) OVER w AS next_at, set_id, once_id, count(set_id) OVER w AS grp"
            " FROM g WINDOW w AS (PARTITION BY id ORDER BY at)),"
            " v AS (SELECT id, at, next_at, first_value(set_id) OVER (PARTITION BY id, grp ORDER BY at) AS set_id,"
            " first_value(once_id) OVER (PARTITION BY id ORDER BY once_id IS NULL, at) AS once_id FROM h)"
            f" SELECT v.id, {self._from('v.at')} AS lo, {hi_sql} AS hi,"
            " jsonb_build_object(%s::text, CASE WHEN v.set_id IS NOT NULL THEN s.value ELSE o.value END) AS props"
            f" FROM v LEFT JOIN {table} s ON s.id = v.set_id LEFT JOIN {table} o ON o.id = v.once_id"
        )
        values_params = [self.project.pk, key, self.last, *self._from_params(), *hi_params, key]
        spans = (
            f"SELECT v.id, v.lo, v.hi FROM ({values}) v WHERE v.lo <= v.hi AND ({flt})",
            [*values_params, *flt_params],
        )
        unset, unset_params = jsonb_filter_sql("u.props", key, operator, value)
        if self._fetch(
            f"SELECT coalesce({unset}, false) FROM (SELECT '{{}}'::jsonb AS props) u", unset_params
        )[0][0]:
            # not set before the first write: from the first boundary to the last one before it
            before = (
                f"SELECT t.{column}, 0, {self._from('min(t.at)')} - 1 FROM {table} t"
                f" WHERE t.project_id = %s AND t.key = %s GROUP BY t.{column}"
            )
            spans = (
                f"{spans[0]} UNION ALL {before}",
                [*spans[1], *self._from_params(), self.project.pk, key],
            )
        known = f"SELECT t.{column} FROM {table} t WHERE t.project_id = %s AND t.key = %s"
        if subject == "person":
            runs = f"SELECT x.id, x.lo, x.hi FROM ({spans[0]}) x (id, lo, hi) WHERE x.lo <= x.hi"
            runs_params = spans[1]
            now_flt, now_params = jsonb_filter_sql("p.properties", key, operator, value)
            current = (
                f"SELECT p.id FROM tracking_person p WHERE p.project_id = %s AND NOT (p.id IN ({known}))"
                f" AND ({now_flt})"
            )
        else:  # the person's company's values; persons without a company have none
            runs = (
                f"SELECT p.id, x.lo, x.hi FROM ({spans[0]}) x (id, lo, hi)"
                " JOIN tracking_person p ON p.company_id = x.id WHERE p.project_id = %s AND x.lo <= x.hi"
            )
            runs_params = [*spans[1], self.project.pk]
            now_flt, now_params = jsonb_filter_sql("c.properties", key, operator, value)
            current = (
                "SELECT p.id FROM tracking_person p LEFT JOIN tracking_company c ON c.id = p.company_id"
                f" WHERE p.project_id = %s AND NOT coalesce(c.id IN ({known}), false) AND ({now_flt})"
            )
        masks = _runs_to_masks(self._fetch(runs, runs_params))
        for (pid,) in self._fetch(current, [self.project.pk, self.project.pk, key, *now_params]):
            masks[pid] = self.all
        return Answer(masks)

    # -- segments ----------------------------------------------------------------------------------
    def c_segment(self, node: dict) -> Answer:
        segment = Segment.objects.filter(pk=node["segment"], project_id=self.project.pk).first()
        if segment is None:
            raise CompileError(f"segment {node['segment']} no longer exists")
        if segment.pk in self.stack:
            raise CompileError("segments refer to each other in a cycle")
        if segment.is_dynamic:
            outer, self.stack = self.stack, (*self.stack, segment.pk)
            try:
                answer = self.group(effective_definition(segment))
            finally:
                self.stack = outer
        else:  # the periods that cover each boundary
            hi_sql, hi_params = self._until_next()
            rows = self._fetch(
                f"SELECT v.person_id, {self._from('v.entered_at')}, {hi_sql}"
                " FROM (SELECT person_id, entered_at, exited_at AS next_at FROM segments_segmentmembership"
                " WHERE segment_id = %s AND entered_at <= %s) v",
                [*self._from_params(), *hi_params, segment.pk, self.last],
            )
            answer = Answer(_runs_to_masks((pid, lo, hi) for pid, lo, hi in rows if lo <= hi))
        return self._not(answer) if node.get("negate") else answer
