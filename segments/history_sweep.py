"""A definition evaluated at every day boundary in one pass over the stored history.

segments.history rebuilds a segment's past by asking who matched as of each day
boundary. Boundary by boundary, each step re-reads the events of the persons who
may have changed, and those are the active persons, who own most of the events:
180 steps cost 60-350 full computations. This module answers all boundaries at
once, with the meaning of the compiler's as-of evaluation (segments.compiler,
`as_of=True`):

- every condition becomes, per person, the runs of boundaries at which it holds
  (indices into the sorted boundaries), from one statement over its rows;
- the boolean tree then combines per-person bit masks in Python (bit k: holds at
  boundary k), complements included, and persons count from their first_seen on.

How rows become runs. A row (an event, a session, a day of the rollup) counts at
boundary T when it lies in the condition's window as of T. For "the last A days",
an event at t counts from the first boundary at or after t to the last one at or
before t + A days: `width_bucket` over the boundaries gives both. Per person, +1
at the first and -1 past the last, summed in boundary order, is the number of
rows at each boundary (and the same for a property's sum and its count); where
the comparison holds is a run. Lags are whole days of 86,400 s, as the compiler's
windows are, so a DST change moves nothing.

Traits: each write starts a value that holds until the person's next write (the
latest `$set` so far, else the earliest `$set_once`); before the first write the
trait is not set, and without writes it is the current value. Survey answers: the
latest holds until the next. Sequences: every event completing the chain, with
the latest start of a chain it completes, holds from itself until that start
leaves the window. Ranks: each boundary's threshold comes from the histogram of
everyone's running scores there (segments.compiler.rank.rank_threshold).

Not here, so evaluated boundary by boundary (`unsupported` says why): company
segments (a company's people and aggregates), the min or max of a property over
"the last N days" (a moving extreme is not a running total), a sequence whose
window bounds only its first step, and every event condition when events live in
ClickHouse (this pass would hand every matching event to PostgreSQL).

Values are always %s parameters; the SQL text is built only from constants.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from segments.compiler import CompileError, effective_definition, window_bounds
from segments.compiler.base import _NEGATED, ZERO_SATISFIES
from segments.compiler.rank import rank_threshold
from segments.definition import SESSION_NUMBERS, walk_conditions
from segments.models import Segment
from tracking.eventstore import segments as event_store
from tracking.eventstore import using_clickhouse
from tracking.models import Action
from tracking.properties import column_filter_sql, compare, compare_sql, jsonb_filter_sql
from web import budget

TICK = timedelta(microseconds=1)
EVENT_CONDITIONS = {
    "behavior",
    "aggregate",
    "sequence",
    "first_time",
    "stopped",
    "restarted",
    "rank",
    "survey",
}
CONDITIONS = EVENT_CONDITIONS | {
    "active_days", "first_seen", "last_seen", "person", "company", "segment", "device", "geo", "session",
}  # fmt: skip
_SESSION_NUMBER_SQL = {
    "duration_seconds": "extract(epoch from s.ended_at - s.started_at)",
    "pageview_count": "s.pageview_count",
}


class Unsupported(Exception):
    """The definition has a condition this pass does not evaluate."""


def unsupported(definition: dict, *, project, seen: frozenset[int] = frozenset()) -> str | None:
    """Why the definition (with the dynamic segments it names) cannot be swept, or None."""
    for node in walk_conditions(definition):
        kind = node["type"]
        if kind not in CONDITIONS:
            return f"a {kind} condition"
        if kind in EVENT_CONDITIONS and using_clickhouse():
            return "events in ClickHouse"
        if (
            kind == "aggregate"
            and node["function"] in ("min", "max")
            and "last_days" in (node.get("window") or {})
        ):
            return f"the {node['function']} over a moving window"
        if kind == "sequence" and node.get("window_covers") == "first_step":
            return "a sequence whose window bounds its first step"
        if kind == "segment" and node["segment"] not in seen:
            inner = Segment.objects.filter(pk=node["segment"], project_id=project.pk).first()
            if inner is not None and inner.is_dynamic:
                reason = unsupported(effective_definition(inner), project=project, seen=seen | {inner.pk})
                if reason:
                    return reason
    return None


class Answer:
    """Per person, the boundaries at which a condition holds, as a bit mask; `default` for everyone else."""

    __slots__ = ("default", "masks")

    def __init__(self, masks: dict[int, int], default: int = 0):
        self.masks, self.default = masks, default


_COMPARE = {"eq": np.equal, "neq": np.not_equal, "gt": np.greater, "gte": np.greater_equal,
            "lt": np.less, "lte": np.less_equal}  # fmt: skip
PERSONS_PER_BLOCK = 1 << 15  # rows of the count matrix at a time: 32,768 x (boundaries + 1) x 8 bytes


def _count_masks(rows: list[tuple], n: int, operator: str, value) -> dict[int, int]:
    """Per person, the mask of the boundaries at which their count `operator` `value`.

    `rows` (person, lo, hi, c): c rows count at boundaries lo..hi (none when
    lo > hi). A block of persons becomes a matrix of +c at lo and -c past hi,
    summed along the boundaries; the comparison's bits are packed into masks.
    Persons without rows are absent, so a comparison zero satisfies is the
    caller's concern (`Sweep._counted` takes the complement of its negation).
    """
    if ZERO_SATISFIES[operator](value):
        raise ValueError(f"{operator} {value} holds for no rows at all")
    if not rows:
        return {}
    table = np.array(rows, dtype=np.int64)
    table = table[table[:, 1] <= table[:, 2]]
    pids, person = np.unique(table[:, 0], return_inverse=True)
    order = np.argsort(person, kind="stable")
    person, lo, hi, count = person[order], table[order, 1], table[order, 2], table[order, 3]
    width, test, masks = n + 1, _COMPARE[operator], {}
    for start in range(0, len(pids), PERSONS_PER_BLOCK):
        end = min(start + PERSONS_PER_BLOCK, len(pids))
        i, j = np.searchsorted(person, [start, end])
        row = (person[i:j] - start) * width
        cells = np.bincount(
            np.concatenate([row + lo[i:j], row + hi[i:j] + 1]),
            weights=np.concatenate([count[i:j], -count[i:j]]),
            minlength=(end - start) * width,
        )
        totals = np.cumsum(cells.reshape(end - start, width)[:, :n], axis=1)
        bits = np.packbits(test(totals, value), axis=1, bitorder="little")
        for offset, packed in enumerate(bits):
            mask = int.from_bytes(packed.tobytes(), "little")
            if mask:
                masks[int(pids[start + offset])] = mask
    return masks


def _runs_to_masks(rows) -> dict[int, int]:
    masks: dict[int, int] = {}
    get = masks.get
    for pid, lo, hi in rows:
        masks[pid] = get(pid, 0) | ((2 << hi) - (1 << lo))
    return masks


class Sweep:
    """One definition at every one of `points` (sorted day boundaries): `members()`."""

    def __init__(self, project, points: list[datetime], *, segment_id: int | None = None):
        self.project = project
        self.points = list(points)
        self.n = len(self.points)
        self.all = (1 << self.n) - 1
        self.first, self.last = self.points[0], self.points[-1]
        self.stack: tuple[int, ...] = (segment_id,) if segment_id else ()
        self.actions: dict[int, list] = {}
        self.done = 0
        self.total = 1
        self._universe: dict[int, int] | None = None

    # -- the whole definition --------------------------------------------------------------------
    def members(self, definition: dict) -> dict[int, int]:
        """Per person, the mask of the boundaries at which they met the definition (persons never in: absent)."""
        self.total = sum(1 for _ in walk_conditions(definition)) + 1
        tree = self.group(definition)
        found = {}
        for pid, lo in self.universe().items():
            mask = tree.masks.get(pid, tree.default) & (self.all ^ ((1 << lo) - 1))
            if mask:
                found[pid] = mask
        return found

    def universe(self) -> dict[int, int]:
        """Per person first seen by the last boundary, the first boundary at which they exist."""
        if self._universe is None:
            rows = self._fetch(
                f"SELECT p.id, {self._from('p.first_seen')} FROM tracking_person p"
                " WHERE p.project_id = %s AND p.first_seen <= %s",
                [*self._from_params(), self.project.pk, self.last],
            )
            self._universe = dict(rows)
        return self._universe

    def group(self, node: dict) -> Answer:
        children = [
            self.group(child) if "conditions" in child else self.condition(child)
            for child in node.get("conditions", [])
        ]
        answer = self._combine(children, every=node.get("match", "all") == "all")
        return self._not(answer) if node.get("negate") else answer

    def condition(self, node: dict) -> Answer:
        kind = node["type"]
        if kind not in CONDITIONS:
            raise Unsupported(f"a {kind} condition")
        budget.check()
        answer = getattr(self, f"c_{kind}")(node)
        self.done += 1
        budget.progress(self.done, max(self.total, self.done + 1))  # nested segments add conditions
        return answer

    def _combine(self, answers: list[Answer], *, every: bool) -> Answer:
        if not answers:
            return Answer({}, self.all if every else 0)
        if len(answers) == 1:
            return answers[0]
        default = answers[0].default
        for a in answers[1:]:
            default = default & a.default if every else default | a.default
        persons = set().union(*(a.masks for a in answers))
        masks = {}
        for pid in persons:
            mask = answers[0].masks.get(pid, answers[0].default)
            for a in answers[1:]:
                other = a.masks.get(pid, a.default)
                mask = mask & other if every else mask | other
            masks[pid] = mask
        return Answer(masks, default)

    def _not(self, answer: Answer) -> Answer:
        full = self.all
        return Answer({pid: full ^ mask for pid, mask in answer.masks.items()}, full ^ answer.default)

    # -- SQL plumbing ----------------------------------------------------------------------------
    def _fetch(self, sql: str, params: list) -> list[tuple]:
        budget.check()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.SEGMENT_WORK_MEM])
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _from(self, column: str, delay: int = 0) -> str:
        """The first boundary at which a row at `column` counts: at or after it (`delay` 0), or strictly after
        `delay` days past it."""
        if delay:
            return f"width_bucket({column} + %s * interval '1 second', %s::timestamptz[])"
        return f"width_bucket({column} - interval '1 microsecond', %s::timestamptz[])"

    def _from_params(self, delay: int = 0) -> list:
        return [delay * 86400, self.points] if delay else [self.points]

    def _until(self, column: str, reach: int | None) -> tuple[str, list]:
        """The last boundary at which a row at `column` still counts: until `reach` days past it, or forever."""
        if reach is None:
            return "%s", [self.n - 1]
        return (
            f"width_bucket({column} + %s * interval '1 second', %s::timestamptz[]) - 1",
            [reach * 86400, self.points],
        )

    def _buckets(
        self, rows: tuple[str, list], *, reach: int | None, delay: int = 0, numbers: bool = False
    ) -> tuple[str, list]:
        """`SELECT pid, lo, hi, c[, sx, cx]`: c of a person's rows count at boundaries lo..hi (none when lo > hi);
        with `numbers`, their numbers x sum to sx, and cx of them are numbers.

        `rows` selects (person, start, end, x): a row counts from `start` (or
        `delay` days after it, exclusive) until `reach` days after `end` (None:
        forever).
        """
        rows_sql, rows_params = rows
        lo_sql, lo_params = self._from("r.t0", delay), self._from_params(delay)
        hi_sql, hi_params = self._until("r.t1", reach)
        sums = ", sum(r.x) AS sx, count(r.x)::int AS cx" if numbers else ""
        return (
            f"SELECT r.pid, {lo_sql} AS lo, {hi_sql} AS hi, count(*)::int AS c{sums}"
            f" FROM ({rows_sql}) r (pid, t0, t1, x) GROUP BY 1, 2, 3",
            [*lo_params, *hi_params, *rows_params],
        )

    def _running(
        self, rows: tuple[str, list], *, reach: int | None, delay: int = 0, numbers: bool = False
    ) -> tuple[str, list]:
        """`SELECT pid, k, last, c[, sx, cx]`: from boundary k to `last`, the totals of `_buckets`."""
        counted, params = self._buckets(rows, reach=reach, delay=delay, numbers=numbers)
        if numbers:
            deltas = "(lo, c * m, sx * m, cx * m), (hi + 1, -c * m, -sx * m, -cx * m)) d (k, dc, dsx, dcx)"
            totals = ", sum(sum(dsx)) OVER w AS sx, sum(sum(dcx)::int) OVER w AS cx"
        else:
            deltas, totals = "(lo, c * m), (hi + 1, -c * m)) d (k, dc)", ""
        # rows that never count (lo > hi) add nothing: multiplied by m = 0 rather than filtered out, which the
        # planner would do below the grouping, computing both buckets of every row once more
        runs = (
            f"SELECT pid, k, coalesce(lead(k) OVER w, %s) - 1 AS last, sum(sum(dc)::int) OVER w AS c{totals}"
            f" FROM (SELECT *, (lo <= hi)::int AS m FROM ({counted}) a) b, LATERAL (VALUES {deltas}"
            " GROUP BY pid, k WINDOW w AS (PARTITION BY pid ORDER BY k)"
        )
        return runs, [self.n, *params]

    def _runs(
        self,
        rows: tuple[str, list],
        *,
        reach: int | None,
        delay: int = 0,
        measure: str = "count",
        operator: str = "gte",
        value=1,
    ) -> dict[int, int]:
        """Masks of the boundaries at which the `measure` of a person's counting rows `operator` `value`.

        `measure` is count, or sum, avg, min, max of the rows' numbers (NULLs
        ignored; no numbers at all never match); see `_running` for `rows`.
        """
        if measure == "count":  # totals in memory: a third of the time of totalling them in SQL
            counted, params = self._buckets(rows, reach=reach, delay=delay)
            return _count_masks(self._fetch(counted, params), self.n, operator, value)
        if measure in ("min", "max"):  # rows never leave (no reach): a running min or max
            if reach is not None:
                raise Unsupported(f"the {measure} over a moving window")
            rows_sql, rows_params = rows
            runs = (
                f"SELECT pid, lo AS k, coalesce(lead(lo) OVER w, %s) - 1 AS last, {measure}({measure}(x)) OVER w AS v"
                f" FROM (SELECT r.pid, {self._from('r.t0', delay)} AS lo, r.x FROM ({rows_sql}) r (pid, t0, t1, x)) b"
                " GROUP BY pid, lo WINDOW w AS (PARTITION BY pid ORDER BY lo)"
            )
            params = [self.n, *self._from_params(delay), *rows_params]
            holds = f"v {compare_sql(operator)} %s"
        else:
            runs, params = self._running(rows, reach=reach, delay=delay, numbers=measure != "count")
            holds = {
                "count": f"c {compare_sql(operator)} %s",
                "sum": f"cx > 0 AND sx {compare_sql(operator)} %s",
                "avg": f"cx > 0 AND sx / cx {compare_sql(operator)} %s",
            }[measure]
        sql = f"SELECT pid, k, last FROM ({runs}) s WHERE k < %s AND {holds}"
        return _runs_to_masks(self._fetch(sql, [*params, self.n, value]))

    def _counted(self, rows: tuple[str, list], *, reach: int | None, operator: str, value: int) -> Answer:
        """A count condition: zero rows count as zero, so one satisfied by zero is the complement of its negation
        (as the compiler's `counted`)."""
        if ZERO_SATISFIES[operator](value):
            masks = self._runs(rows, reach=reach, operator=_NEGATED[operator], value=value)
            return self._not(Answer(masks))
        return Answer(self._runs(rows, reach=reach, operator=operator, value=value))

    def _window(self, window: dict | None) -> tuple[datetime | None, datetime | None, int | None]:
        """(since, until, reach) of a condition's window: dates bound the rows, "last N days" reaches N days."""
        if not window:
            return None, None, None
        if "last_days" in window:
            return None, None, int(window["last_days"])
        since, until = window_bounds(window, now=self.last, tz=self.project.zone)
        return since, until, None

    def _bounded(self, since, until, reach: int | None) -> tuple[datetime | None, datetime]:
        """The window cut to what can count at some boundary."""
        until = self.last + TICK if until is None else min(until, self.last + TICK)
        if reach is not None:
            earliest = self.first - timedelta(days=reach)
            since = earliest if since is None else max(since, earliest)
        return since, until

    def action_steps(self, action_id: int) -> list:
        if action_id not in self.actions:
            action = Action.objects.filter(pk=action_id, project_id=self.project.pk).first()
            if action is None:
                raise CompileError(f"action {action_id} no longer exists")
            self.actions[action_id] = action.steps
        return self.actions[action_id]

    def _events(
        self, event: dict, since, until, reach: int | None, prop: str | None = None
    ) -> tuple[str, list]:
        since, until = self._bounded(since, until, reach)
        found = event_store.event_rows(
            self.project.pk, event, since=since, until=until, prop=prop, action_steps=self.action_steps
        )
        if found is None:
            raise Unsupported("events in ClickHouse")
        sql, params = found
        return f"SELECT e.pid, e.ts, e.ts, e.x FROM ({sql}) e (pid, ts, x)", params

    # -- conditions on events --------------------------------------------------------------------
    def c_behavior(self, node: dict) -> Answer:
        since, until, reach = self._window(node.get("window"))
        count = node["count"]
        rows = self._events(node["event"], since, until, reach)
        return self._counted(rows, reach=reach, operator=count["operator"], value=count["value"])

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

    # -- sessions and days -----------------------------------------------------------------------
    def _session_condition(self, node: dict) -> Answer:
        where = [{"property": node["property"], "operator": node["operator"], "value": node["value"]}]
        return self.c_session(
            {"where": where, "count": {"operator": "gte", "value": 1}, "window": node.get("window")}
        )

    c_device = _session_condition
    c_geo = _session_condition

    def c_session(self, node: dict) -> Answer:
        parts, params = [], []
        for f in node["where"]:
            if f["property"] in SESSION_NUMBERS:
                parts.append(f"{_SESSION_NUMBER_SQL[f['property']]} {compare_sql(f['operator'])} %s")
                params.append(Decimal(str(f["value"])))
            else:
                sql, p = column_filter_sql(f"s.{f['property']}", f["operator"], f["value"])
                parts.append(f"({sql})")
                params.extend(p)
        since, until, reach = self._window(node.get("window"))
        since, until = self._bounded(since, until, reach)
        where = "".join(f" AND {part}" for part in parts)
        bounds, bounds_params = " AND s.started_at < %s", [until]
        if since is not None:
            bounds, bounds_params = f"{bounds} AND s.started_at >= %s", [*bounds_params, since]
        rows = (
            "SELECT s.person_id, s.started_at, s.started_at, NULL::numeric FROM tracking_session s"
            f" WHERE s.project_id = %s{where}{bounds}",
            [self.project.pk, *params, *bounds_params],
        )
        count = node["count"]
        return self._counted(rows, reach=reach, operator=count["operator"], value=count["value"])

    def _days(self, where: str = "", params: list | None = None, *, reach: int | None) -> tuple[str, list]:
        """Rows of the daily rollup: a day counts from its first event until `reach` days after its last."""
        bound, bound_params = "", []
        if reach is not None:
            bound, bound_params = " AND d.last_at >= %s", [self.first - timedelta(days=reach)]
        return (
            "SELECT d.person_id, d.first_at, d.last_at, NULL::numeric FROM tracking_personday d"
            f" WHERE d.project_id = %s AND d.first_at <= %s{bound}{where}",
            [self.project.pk, self.last, *bound_params, *(params or [])],
        )

    def c_active_days(self, node: dict) -> Answer:
        window, count = node["window"], node["count"]
        if "last_days" in window:
            reach = int(window["last_days"])
            rows = self._days(reach=reach)
        else:
            reach = None
            rows = self._days(
                " AND d.day >= %s AND d.day <= %s",
                [date.fromisoformat(window["from"]), date.fromisoformat(window["to"])],
                reach=None,
            )
        return self._counted(rows, reach=reach, operator=count["operator"], value=count["value"])

    def c_first_seen(self, node: dict) -> Answer:
        days = int(node["value"])
        within = node["operator"] == "within_last_days"
        if node["type"] == "last_seen":  # seen in [T - days, T]: a day of the rollup in that window
            seen = Answer(self._runs(self._days(reach=days), reach=days))
            return seen if within else self._not(seen)
        rows = (
            "SELECT p.id, p.first_seen, p.first_seen, NULL::numeric FROM tracking_person p"
            " WHERE p.project_id = %s AND p.first_seen <= %s",
            [self.project.pk, self.last],
        )
        if within:  # first seen at or after T - days
            return Answer(self._runs(rows, reach=days))
        return Answer(self._runs(rows, reach=None, delay=days))  # first seen before T - days

    c_last_seen = c_first_seen

    # -- traits ------------------------------------------------------------------------------------
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

    def _until_next(self) -> tuple[str, list]:
        """The last boundary before the next write (`v.next_at`), or the last one."""
        return (
            "coalesce(width_bucket(v.next_at - interval '1 microsecond', %s::timestamptz[]) - 1, %s)",
            [self.points, self.n - 1],
        )

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


def sweep_members(segment: Segment, definition: dict, points: list[datetime]) -> dict[int, int]:
    """Per person, the mask of the boundaries (bit k: points[k]) at which they were in the segment."""
    return Sweep(segment.project, points, segment_id=segment.pk).members(definition)
