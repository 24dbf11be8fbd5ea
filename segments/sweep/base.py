"""The sweep's parts every condition uses: answers as bit masks, the tree, and the SQL that turns rows into
runs of boundaries (see segments.sweep)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from segments.compiler import window_bounds
from segments.compiler.base import _NEGATED, ZERO_SATISFIES, cached_action_steps
from segments.definition import walk_conditions
from tracking.eventstore import segments as event_store
from tracking.properties import compare_sql
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


class Unsupported(Exception):
    """The definition has a condition this pass does not evaluate."""


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


class SweepBase:
    """The plumbing of `segments.sweep.Sweep`: the tree, rows to runs, windows."""

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
            runs, params = self._running(rows, reach=reach, delay=delay, numbers=True)
            total = "sx" if measure == "sum" else "sx / cx"
            holds = f"cx > 0 AND {total} {compare_sql(operator)} %s"
        sql = f"SELECT pid, k, last FROM ({runs}) s WHERE k < %s AND {holds}"
        return _runs_to_masks(self._fetch(sql, [*params, self.n, value]))

    def _counted(
        self,
        rows: tuple[str, list] | None,
        *,
        reach: int | None,
        operator: str,
        value: int,
        bucketed: list[tuple] | None = None,
    ) -> Answer:
        """A count condition: zero rows count as zero, so one satisfied by zero is the complement of its negation
        (as the compiler's `counted`). `bucketed`: the `(person, lo, hi, c)` rows already, instead of `rows`."""

        def runs(op: str) -> dict[int, int]:
            if bucketed is not None:
                return _count_masks(bucketed, self.n, op, value)
            return self._runs(rows, reach=reach, operator=op, value=value)

        if ZERO_SATISFIES[operator](value):
            return self._not(Answer(runs(_NEGATED[operator])))
        return Answer(runs(operator))

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
        return cached_action_steps(self.actions, self.project.pk, action_id)

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

    def _until_next(self) -> tuple[str, list]:
        """The last boundary before the next write (`v.next_at`), or the last one."""
        return (
            "coalesce(width_bucket(v.next_at - interval '1 microsecond', %s::timestamptz[]) - 1, %s)",
            [self.points, self.n - 1],
        )
