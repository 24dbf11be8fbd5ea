"""The compiler's parts every condition uses: its context, errors, windows, and the boolean tree."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
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
    def counted(
        persons: Callable[[str], tuple[str, list]], operator: str, value, *, row: str = "p.id"
    ) -> tuple[str, list]:
        """Membership by a count per person (or per company: `row` "c.id"); no rows count as zero.

        `persons(op)` selects the ids (with rows) whose count `op` `value`.
        """
        if ZERO_SATISFIES[operator](value):
            sql, params = persons(_NEGATED[operator])
            return f"NOT ({row} IN ({sql}))", params
        sql, params = persons(operator)
        return f"{row} IN ({sql})", params

    # -- the tree -----------------------------------------------------------------------
    def group(self, node: dict) -> tuple[str, list]:
        parts, params = [], []
        for child in node.get("conditions", []):
            sql, p = self.group(child) if "conditions" in child else self.condition(child)
            parts.append(f"({sql})")
            params.extend(p)
        if not parts:
            sql = "true" if node.get("match", "all") == "all" else "false"
        else:
            sql = (" AND " if node.get("match", "all") == "all" else " OR ").join(parts)
        if node.get("negate"):
            sql = f"NOT ({sql})"
        return sql, params

    def condition(self, node: dict) -> tuple[str, list]:
        return getattr(self, f"c_{node['type']}")(node)
