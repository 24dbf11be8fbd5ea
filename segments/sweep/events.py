"""Conditions on events: counts, aggregates, sequences, lifecycle verbs, ranks and survey answers."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from segments.compiler.rank import rank_threshold
from segments.sweep.base import TICK, Answer, SweepBase, Unsupported, _runs_to_masks
from tracking.eventstore import segments as event_store
from tracking.eventstore.days import day_start
from tracking.properties import compare, jsonb_filter_sql


class EventConditions(SweepBase):
    def c_behavior(self, node: dict) -> Answer:
        since, until, reach = self._window(node.get("window"))
        operator, value, event = node["count"]["operator"], node["count"]["value"], node["event"]
        if "name" in event and "action" not in event and not event.get("where"):
            bucketed = self._name_days(event["name"], since, until, reach)
            if bucketed is not None:
                return self._counted(None, reach=reach, operator=operator, value=value, bucketed=bucketed)
        rows = self._events(event, since, until, reach)
        return self._counted(rows, reach=reach, operator=operator, value=value)

    def _name_days(self, name: str, since, until, reach: int | None) -> list[tuple] | None:
        """`(person, lo, hi, c)` rows of a bare event name's count, read per day from the per-name rollup where
        all of a day's events count at the same boundaries, and from the events elsewhere; None on ClickHouse.

        An event at t counts from the first boundary at or after t to the last one at most `reach` days after
        it. Inside a day (boundaries are local midnights) both ends are the same for every moment except where
        t + reach crosses a boundary within the day (a daylight saving change inside the window): those days,
        and the window's partial first and last day, are read from the events. An event exactly at midnight
        counts from that midnight, a boundary earlier than the rest of its day: corrected event by event.
        """
        first = event_store.name_first_day(self.project.pk, name)
        if first is None:  # ClickHouse: no per-name rollup (the other fragments are None there too)
            return None
        since, until = self._bounded(since, until, reach)
        zone = self.project.zone
        points = [p.astimezone(UTC) for p in self.points]
        if since is None:
            (first_day,) = self._fetch(*first)[0]
            if first_day is None:
                return []
            since = day_start(first_day, zone)
        last = self.n - 1

        def lo(t: datetime) -> int:
            """The first boundary at or after t (the SQL's width_bucket(t - 1 microsecond, points))."""
            return bisect_left(points, t)

        def hi(t: datetime) -> int:
            """The last boundary at most `reach` days after t."""
            return last if reach is None else bisect_right(points, t + timedelta(days=reach)) - 1

        days, los, his, midnights, partial = [], [], [], {}, []
        day = since.astimezone(zone).date()
        while (start := day_start(day, zone)) < until:
            end = day_start(day + timedelta(days=1), zone)
            inside = (lo(start + TICK), hi(start + TICK))
            if start < since or end > until or inside != (lo(end - TICK), hi(end - TICK)):
                span = (max(start, since), min(end, until))
                if partial and partial[-1][1] == span[0]:  # consecutive days (a DST change's): one read
                    span = (partial.pop()[0], span[1])
                partial.append(span)
            else:
                days.append(day)
                los.append(inside[0])
                his.append(inside[1])
                if (lo(start), hi(start)) != inside:
                    midnights[start] = inside
            day += timedelta(days=1)
        rows: list[tuple] = []
        if days:
            rows += self._fetch(
                *event_store.name_day_buckets(self.project.pk, name, days=days, los=los, his=his)
            )
        for start, end in partial:
            counted, params = self._buckets(self._events({"name": name}, start, end, None), reach=reach)
            rows += self._fetch(counted, params)
        if midnights:
            for pid, ts in self._fetch(*event_store.name_events_at(self.project.pk, name, sorted(midnights))):
                inside = midnights.get(ts)
                if inside is not None:  # counted with its day's boundaries: move it to its own
                    rows += [(pid, lo(ts), hi(ts), 1), (pid, *inside, -1)]
        return rows

    def c_aggregate(self, node: dict) -> Answer:
        since, until, reach = self._window(node.get("window"))
        rows = self._events(node["event"], since, until, reach, prop=node["property"])
        value = Decimal(str(node["value"]))
        return Answer(
            self._runs(rows, reach=reach, measure=node["function"], operator=node["operator"], value=value)
        )

    def c_sequence(self, node: dict) -> Answer:
        if node.get("window_covers") == "first_step":
            raise Unsupported("a sequence whose window bounds its first step")
        since, until, reach = self._window(node.get("window"))
        since, until = self._bounded(since, until, reach)

        def completed(steps: list[dict]) -> Answer:
            # a chain counts from its last event until its start leaves the window
            found = event_store.sequence_chains(
                self.project.pk, steps, within_days=node["within_days"], since=since, until=until,
                action_steps=self.action_steps,
            )  # fmt: skip
            if found is None:
                raise Unsupported("events in ClickHouse")
            sql, params = found
            rows = f"SELECT c.person_id, c.ts, c.start, NULL::numeric FROM ({sql}) c", params
            return Answer(self._runs(rows, reach=reach))

        done = completed(node["steps"])
        if node["last_step"] == "did":
            return done
        return self._combine([completed(node["steps"][:-1]), self._not(done)], every=True)

    def _did(self, event: dict, *, reach: int | None, delay: int) -> Answer:
        """Did `event` in [T - reach days, T - delay days) (delay 0: up to T included)."""
        rows = self._events(event, None, None, reach)
        return Answer(self._runs(rows, reach=reach, delay=delay))

    def c_first_time(self, node: dict) -> Answer:
        d = int(node["within_last_days"])
        recent = self._did(node["event"], reach=d, delay=0)
        before = self._did(node["event"], reach=None, delay=d)
        return self._combine([recent, self._not(before)], every=True)

    def c_stopped(self, node: dict) -> Answer:
        d = int(node["days"])
        earlier = self._did(node["event"], reach=2 * d, delay=d)
        recent = self._did(node["event"], reach=d, delay=0)
        return self._combine([earlier, self._not(recent)], every=True)

    def c_restarted(self, node: dict) -> Answer:
        d = int(node["days"])
        recent = self._did(node["event"], reach=d, delay=0)
        gap = self._did(node["event"], reach=2 * d, delay=d)
        before = self._did(node["event"], reach=None, delay=2 * d)
        return self._combine([recent, self._not(gap), before], every=True)

    def c_rank(self, node: dict) -> Answer:
        """Each boundary's threshold from the histogram of everyone's scores then (rank_threshold, as the
        compiler), and who is on the right side of it."""
        measure = node["measure"]
        since, until, reach = self._window(node.get("window"))
        if measure["of"] == "active_days":  # a day counts while any of its events is in the window
            sql, params = self._events(measure["event"], since, until, reach)
            rows = (
                f"SELECT d.pid, min(d.t0), max(d.t0), NULL::numeric FROM ({sql}) d (pid, t0, t1, x)"
                " GROUP BY d.pid, (d.t0 AT TIME ZONE %s)::date",
                [*params, self.project.zone.key],
            )
        else:
            prop = measure.get("property") if measure["of"] == "sum" else None
            rows = self._events(measure["event"], since, until, reach, prop=prop)
        runs, params = self._running(rows, reach=reach, numbers=measure["of"] == "sum")
        score = "coalesce(sx, 0)" if measure["of"] == "sum" else "c"
        scored = self._fetch(
            f"SELECT pid, k, least(last, %s), {score} FROM ({runs}) s WHERE k < %s AND c > 0 AND {score} <> 0",
            [self.n - 1, *params, self.n],
        )
        universe = self.universe()
        population = [0] * (self.n + 1)
        for lo in universe.values():
            population[lo] += 1
        for k in range(1, self.n):
            population[k] += population[k - 1]
        histograms: list[dict[Decimal, int]] = [{} for _ in range(self.n)]
        spans = []
        for pid, lo, hi, value in scored:
            start = universe.get(pid)
            if start is None:
                continue
            value = Decimal(value)
            spans.append((pid, max(lo, start), hi, value))
            for k in range(max(lo, start), hi + 1):
                histograms[k][value] = histograms[k].get(value, 0) + 1
        operator = "gte" if node.get("direction", "top") == "top" else "lte"
        thresholds = []
        for k, histogram in enumerate(histograms):
            histogram[Decimal(0)] = population[k] - sum(histogram.values())
            thresholds.append(rank_threshold(histogram, population[k], node))
        zero = sum(
            1 << k for k, t in enumerate(thresholds) if t is not None and compare(Decimal(0), operator, t)
        )
        held: dict[int, int] = {}
        covered: dict[int, int] = {}
        for pid, lo, hi, value in spans:
            covered[pid] = covered.get(pid, 0) | ((2 << hi) - (1 << lo))
            bits = held.get(pid, 0)
            for k in range(lo, hi + 1):
                if thresholds[k] is not None and compare(value, operator, thresholds[k]):
                    bits |= 1 << k
            held[pid] = bits
        return Answer({pid: held[pid] | (zero & ~covered[pid]) for pid in held}, zero)

    def c_survey(self, node: dict) -> Answer:
        """The latest answer holds from its moment until the person's next one (survey_persons, as of T)."""
        found = event_store.survey_answers(
            self.project.pk, survey=node["survey"], question=node["question"], until=self.last + TICK
        )
        if found is None:
            raise Unsupported("events in ClickHouse")
        sql, params = found
        hi_sql, hi_params = self._until_next()
        spans = (
            f"SELECT v.person_id, {self._from('v.ts')} AS lo, {hi_sql} AS hi, v.answers"
            " FROM (SELECT a.person_id, a.ts, a.answers, lead(a.ts) OVER (PARTITION BY a.person_id ORDER BY a.ts)"
            f" AS next_at FROM ({sql}) a (person_id, ts, answers)) v"
        )
        spans_params = [*self._from_params(), *hi_params, *params]
        if node["operator"] == "is_not_set":  # not answered by then: before the first answer
            answered = Answer(
                _runs_to_masks(self._fetch(f"SELECT s.person_id, min(s.lo), %s FROM ({spans}) s GROUP BY 1",
                                           [self.n - 1, *spans_params]))
            )  # fmt: skip
            return self._not(answered)
        flt, flt_params = jsonb_filter_sql("s.answers", node["question"], node["operator"], node.get("value"))
        rows = self._fetch(
            f"SELECT s.person_id, s.lo, s.hi FROM ({spans}) s WHERE s.lo <= s.hi AND ({flt})",
            [*spans_params, *flt_params],
        )
        return Answer(_runs_to_masks(rows))
