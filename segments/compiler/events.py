"""Conditions on events, answered by the event store's fragments: counts, aggregates, sequences, surveys."""

from __future__ import annotations

from datetime import timedelta

from segments.compiler.base import CompilerBase, Members, _earlier, window_bounds
from tracking.eventstore import segments as event_store


class EventConditions(CompilerBase):
    def c_behavior(self, node: dict) -> Members:
        count = node["count"]
        context = self.event_window(node)
        return self.counted(
            lambda op: event_store.count_persons(
                self.ctx.project_id,
                node["event"],
                operator=op,
                value=count["value"],
                zone=self.ctx.tz,
                **context,
            ),
            count["operator"],
            count["value"],
        )

    def c_aggregate(self, node: dict) -> Members:
        sql, params = event_store.aggregate_persons(
            self.ctx.project_id,
            node["event"],
            prop=node["property"],
            function=node["function"],
            operator=node["operator"],
            value=node["value"],
            **self.event_window(node),
        )
        return Members(sql, params)

    def c_sequence(self, node: dict) -> list[Members]:
        steps, days = node["steps"], node["within_days"]
        context = self.event_window(node)
        if node.get("window_covers") == "first_step":
            # the window bounds where a chain starts; its later steps may follow the
            # window's end by up to within_days (never past the evaluation's own end)
            _, end = window_bounds(node.get("window"), now=self.ctx.now, tz=self.ctx.tz)
            if end is not None:
                context["first_until"] = _earlier(end, self.ctx.until)
                context["until"] = _earlier(end + timedelta(days=days), self.ctx.until)
        full_sql, full_params = event_store.sequence_persons(
            self.ctx.project_id, steps, within_days=days, **context
        )
        # a person completes a sequence as often as they like: the chains' persons repeat
        full = Members(full_sql, full_params, distinct=False)
        if node["last_step"] == "did":
            return [full]
        # reached the steps before the last one, and never completed the whole sequence
        prefix_sql, prefix_params = event_store.sequence_persons(
            self.ctx.project_id, steps[:-1], within_days=days, **context
        )
        return [Members(prefix_sql, prefix_params, distinct=False), full.negated()]

    def c_survey(self, node: dict) -> Members:
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
        found = Members(sql, params)  # each person's latest answer
        return found.negated() if answered else found
