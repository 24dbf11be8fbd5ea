"""Rank conditions: the top (or bottom) n people, or n percent of them, by a score over their events.

A rank depends on everyone, so it is settled when the statement is compiled:
one query through the event store gives every scored person's score, the
score of the person at the boundary (the threshold) follows, and the condition
becomes "score >= threshold" (top) or "score <= threshold" (bottom), people
with no matching events scoring 0; the statement names the persons on one
side of it. Comparing with the boundary's score is what includes everyone tied
with it: a person is in the top k exactly when fewer than k people score more
than they do.

The population ranked is the project's persons (as of a moment: those first
seen by then), whatever the rest of the tree and whichever persons an
incremental evaluation restricts the statement to.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.db import connection

from segments.compiler.base import Clause, CompilerBase
from tracking.eventstore import segments as event_store
from tracking.properties import compare


def rank_threshold(histogram: dict[Decimal, int], population: int, node: dict) -> Decimal | None:
    """The score of the k-th person in rank order, or None when nobody is ranked.

    `histogram` counts the persons of the population by score, 0 included. k is
    `top.count` (everyone when it exceeds the population), or the first
    ceil(percent × population / 100) persons.
    """
    if population <= 0:
        return None
    top = node["top"]
    if "count" in top:
        k = min(int(top["count"]), population)
    else:
        k = min(math.ceil(Decimal(str(top["percent"])) * population / 100), population)
    seen = 0
    for score in sorted(histogram, reverse=node.get("direction", "top") == "top"):
        seen += histogram[score]
        if seen >= k:
            return score
    raise AssertionError("the histogram holds fewer persons than the population")


class RankConditions(CompilerBase):
    def c_rank(self, node: dict) -> Clause:
        scores, population = self._scores(node)
        histogram: dict[Decimal, int] = {Decimal(0): population - len(scores)}
        for score in scores.values():
            histogram[score] = histogram.get(score, 0) + 1
        threshold = rank_threshold(histogram, population, node)
        if threshold is None:
            return "false", []
        operator = "gte" if node.get("direction", "top") == "top" else "lte"

        def persons(op: str) -> tuple[str, list]:
            ids = [person for person, score in scores.items() if compare(score, op, threshold)]
            return event_store.ids_fragment(ids)

        return self.counted(persons, operator, threshold)

    def _scores(self, node: dict) -> tuple[dict[int, Decimal], int]:
        """The score of each person of the population with a matching event, and how many persons there are.

        One read of the events (the event store's per-person scores), joined to
        the population by primary key, so persons outside it (not yet seen as of
        the moment) are not ranked; the population is counted on
        person_project_last_seen (project_id, …), or on the first_seen index as
        of a moment. The statement then names the persons on either side of the
        threshold, rather than reading the events a second time.
        """
        measure = node["measure"]
        context = self.event_window(node)
        scores_sql, scores_params = event_store.person_scores(
            self.ctx.project_id,
            measure["event"],
            measure=measure["of"],
            prop=measure.get("property"),
            zone=self.ctx.tz.key,
            since=context["since"],
            until=context["until"],
            action_steps=self.action_steps,
        )
        seen_sql, seen_params = "", []
        if self.ctx.as_of:
            seen_sql, seen_params = " AND p.first_seen <= %s", [self.ctx.now]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM tracking_person p WHERE p.project_id = %s{seen_sql}",
                [self.ctx.project_id, *seen_params],
            )
            population = cursor.fetchone()[0]
            cursor.execute(
                f"SELECT s.person_id, s.score FROM ({scores_sql}) s JOIN tracking_person p ON p.id = s.person_id"
                f" WHERE p.project_id = %s{seen_sql}",
                [*scores_params, self.ctx.project_id, *seen_params],
            )
            scores = {person: Decimal(score) for person, score in cursor.fetchall()}
        return scores, population
