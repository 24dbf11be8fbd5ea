"""Rank conditions: the top (or bottom) n people, or n percent of them, by a score over their events.

A rank depends on everyone, so it is settled when the statement is compiled:
one query through the event store finds the score of the person at the
boundary (the threshold), and the condition becomes "score >= threshold" (top)
or "score <= threshold" (bottom) over the per-person scores, people with no
matching events scoring 0. Comparing with the boundary's score is what includes
every person tied with it: a person is in the top k exactly when fewer than k
people score more than they do.

The population ranked is the project's persons (as of a moment: those first
seen by then), whatever the rest of the tree and whichever persons an
incremental evaluation restricts the statement to.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.db import connection

from segments.compiler.base import CompilerBase
from tracking.eventstore import segments as event_store
from tracking.properties import compare_sql


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
    def c_rank(self, node: dict) -> tuple[str, list]:
        measure = node["measure"]
        context = self.event_window(node)
        scores, scores_params = event_store.person_scores(
            self.ctx.project_id,
            measure["event"],
            measure=measure["of"],
            prop=measure.get("property"),
            zone=self.ctx.tz.key,
            since=context["since"],
            until=context["until"],
            action_steps=self.action_steps,
        )
        histogram, population = self._histogram(scores, scores_params)
        threshold = rank_threshold(histogram, population, node)
        if threshold is None:
            return "false", []
        operator = "gte" if node.get("direction", "top") == "top" else "lte"
        return self.counted(
            lambda op: (
                f"SELECT s.person_id FROM ({scores}) s WHERE s.score {compare_sql(op)} %s",
                [*scores_params, threshold],
            ),
            operator,
            threshold,
        )

    def _histogram(self, scores: str, scores_params: list) -> tuple[dict[Decimal, int], int]:
        """How many persons of the population have each score (0: also those without events), and how many there are.

        The population is counted on person_project_last_seen (project_id, …),
        or on the first_seen index as of a moment; the scored persons are joined
        to it by primary key, so persons outside it (not yet seen as of the
        moment) are not ranked.
        """
        seen_sql, seen_params = "", []
        if self.ctx.as_of:
            seen_sql, seen_params = " AND p.first_seen <= %s", [self.ctx.now]
        sql = (
            f"SELECT NULL::numeric, count(*) FROM tracking_person p WHERE p.project_id = %s{seen_sql}"
            f" UNION ALL SELECT s.score, count(*) FROM ({scores}) s JOIN tracking_person p ON p.id = s.person_id"
            f" WHERE p.project_id = %s{seen_sql} GROUP BY s.score"
        )
        params = [self.ctx.project_id, *seen_params, *scores_params, self.ctx.project_id, *seen_params]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        population = next(count for score, count in rows if score is None)
        histogram: dict[Decimal, int] = {}
        for score, count in rows:
            if score is not None:
                histogram[Decimal(score)] = histogram.get(Decimal(score), 0) + count
        scored = sum(histogram.values())
        histogram[Decimal(0)] = histogram.get(Decimal(0), 0) + population - scored
        return histogram, population
