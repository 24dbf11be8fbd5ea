"""The compiler's parts every condition uses: its context, errors, windows, and the boolean tree."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from tracking.models import Action

ZERO_SATISFIES = {"eq": lambda n: n == 0, "neq": lambda n: n != 0, "gt": lambda n: False,
                  "gte": lambda n: n <= 0, "lt": lambda n: n > 0, "lte": lambda n: n >= 0}  # fmt: skip
_NEGATED = {"eq": "neq", "neq": "eq", "gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}


class CompileError(ValueError):
    pass


@dataclass
class Query:
    sql: str
    params: list = field(default_factory=list)


@dataclass(frozen=True)
class Members:
    """A condition that holds for the ids a subquery selects (`negate`: for every other row).

    Conditions that are sets of persons (or companies) say so with this rather than
    with `p.id IN (…)`, so that a definition made only of sets can be answered from
    the sets alone (`members_sql`), without reading the persons' table.
    """

    sql: str
    params: list
    distinct: bool = True  # the subquery yields each id once
    negate: bool = False

    def boolean(self, row: str) -> tuple[str, list]:
        sql = f"{row} IN ({self.sql})"
        return (f"NOT ({sql})" if self.negate else sql), self.params

    def negated(self) -> Members:
        return replace(self, negate=not self.negate)


def nested_negate(definition: dict, node: dict) -> bool:
    """Whether a nested dynamic segment's tree is negated: its own negation, turned over by the condition's."""
    return bool(definition.get("negate")) != bool(node.get("negate"))


# What a condition or group compiles to: a boolean over the row (`p`, or `c` for companies),
# or memberships of sets, all of which hold.
Clause = tuple[str, list] | list[Members]


def members_sql(found: list[Members]) -> Members | None:
    """Memberships that all hold, as one statement selecting their ids, distinct, as column `id`
    (None: it needs every row).

    A set that must hold drives (a distinct one first); the rest filter its ids.
    """
    driver = next((m for m in found if not m.negate and m.distinct), None) or next(
        (m for m in found if not m.negate), None
    )
    if driver is None:
        return None
    tests, params = [], list(driver.params)
    for m in found:
        if m is driver:
            continue
        sql, p = m.boolean("x.id")
        tests.append(f"({sql})")
        params.extend(p)
    where = f" WHERE {' AND '.join(tests)}" if tests else ""
    distinct = "" if driver.distinct else "DISTINCT "
    return Members(f"SELECT {distinct}x.id FROM ({driver.sql}) x(id){where}", params)


@dataclass
class _Context:
    project_id: int
    tz: zoneinfo.ZoneInfo
    now: datetime
    person_ids: list[int] | None
    stack: tuple[int, ...] = ()
    actions: dict[int, list] = field(default_factory=dict)
    as_of: bool = False

    @property
    def until(self) -> datetime | None:
        """The exclusive end of what counts as of `now` (None: everything stored)."""
        return self.now + _TICK if self.as_of else None


# A session's numbers: its length (exact, to the microsecond) and its page views.

_TICK = timedelta(microseconds=1)  # both event stores keep microseconds: "<= now" is "< now + 1 µs"


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def window_bounds(
    window: dict | None, *, now: datetime, tz: zoneinfo.ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """[start, end) of a window; dates are whole days in the project's time zone, `to` included."""
    if not window:
        return None, None
    if "last_days" in window:
        return now - timedelta(days=window["last_days"]), None
    start = datetime.combine(date.fromisoformat(window["from"]), time.min, tzinfo=tz)
    end = datetime.combine(date.fromisoformat(window["to"]) + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def cached_action_steps(cache: dict[int, list], project_id: int, action_id: int) -> list:
    """An action's steps, read once per compilation (or sweep) into `cache`."""
    if action_id not in cache:
        action = Action.objects.filter(pk=action_id, project_id=project_id).first()
        if action is None:
            raise CompileError(f"action {action_id} no longer exists")
        cache[action_id] = action.steps
    return cache[action_id]


class CompilerBase:
    def __init__(self, ctx: _Context):
        self.ctx = ctx

    # -- plumbing -----------------------------------------------------------------
    def restrict(self, column: str) -> tuple[str, list]:
        if self.ctx.person_ids is None:
            return "", []
        return f" AND {column} = ANY(%s::bigint[])", [self.ctx.person_ids]

    def window_sql(self, window: dict | None, column: str) -> tuple[str, list]:
        start, end = window_bounds(window, now=self.ctx.now, tz=self.ctx.tz)
        end = _earlier(end, self.ctx.until)
        sql, params = "", []
        if start is not None:
            sql += f" AND {column} >= %s"
            params.append(start)
        if end is not None:
            sql += f" AND {column} < %s"
            params.append(end)
        return sql, params

    def action_steps(self, action_id: int) -> list:
        return cached_action_steps(self.ctx.actions, self.ctx.project_id, action_id)

    def event_window(self, node: dict) -> dict:
        """The window and the context every event-store fragment takes."""
        since, until = window_bounds(node.get("window"), now=self.ctx.now, tz=self.ctx.tz)
        return {
            "since": since,
            "until": _earlier(until, self.ctx.until),
            "person_ids": self.ctx.person_ids,
            "action_steps": self.action_steps,
        }

    @staticmethod
    def counted(persons: Callable[[str], tuple[str, list]], operator: str, value) -> Members:
        """Membership by a count per person (or per company); no rows count as zero.

        `persons(op)` selects the ids (with rows) whose count `op` `value`.
        """
        if ZERO_SATISFIES[operator](value):
            sql, params = persons(_NEGATED[operator])
            return Members(sql, params, negate=True)
        sql, params = persons(operator)
        return Members(sql, params)

    # -- the tree -----------------------------------------------------------------------
    ROW = "p.id"  # what a set's ids are tested against in a boolean

    def group(self, node: dict) -> tuple[str, list]:
        return self.boolean(self.compose(node))

    def condition(self, node: dict) -> tuple[str, list]:
        return self.boolean(self.clause(node))

    def clause(self, node: dict) -> Clause:
        found = getattr(self, f"c_{node['type']}")(node)
        return [found] if isinstance(found, Members) else found

    def boolean(self, clause: Clause) -> tuple[str, list]:
        if not isinstance(clause, list):
            return clause
        parts, params = [], []
        for m in clause:
            sql, p = m.boolean(self.ROW)
            parts.append(sql)
            params.extend(p)
        return " AND ".join(parts), params

    def compose(self, node: dict) -> Clause:
        """A group as memberships of sets when all its parts are sets that combine, else as a boolean."""
        children = [
            self.compose(child) if "conditions" in child else self.clause(child)
            for child in node.get("conditions", [])
        ]
        match_all = node.get("match", "all") == "all"
        if children and all(isinstance(child, list) for child in children):
            found = self._combined(children, match_all=match_all)
            if found is not None and node.get("negate"):
                found = [found[0].negated()] if len(found) == 1 else None
            if found is not None:
                return found
        parts, params = [], []
        for child in children:
            sql, p = self.boolean(child)
            parts.append(f"({sql})")
            params.extend(p)
        if not parts:
            sql = "true" if match_all else "false"
        else:
            sql = (" AND " if match_all else " OR ").join(parts)
        if node.get("negate"):
            sql = f"NOT ({sql})"
        return sql, params

    @staticmethod
    def _combined(children: list[list[Members]], *, match_all: bool) -> list[Members] | None:
        if match_all:
            return [m for child in children for m in child]
        if len(children) == 1:
            return children[0]
        # any of them: the union of each part's set, when each part selects its ids
        sets = [members_sql(child) for child in children]
        if any(s is None for s in sets):
            return None
        union = " UNION ".join(f"SELECT u.id FROM ({s.sql}) u(id)" for s in sets)
        return [Members(union, [p for s in sets for p in s.params])]
