"""Checking analysis parameters: every problem is reported under the field that has it.

Parameters arrive as JSON (the REST API, saved analyses) or are converted to
the same JSON from a query string (the pages). `Checker` collects errors as
`{"steps[1].name": ["must be a non-empty string"]}` and raises them together,
so a form can show every problem at once and the API answers one 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from analysis.trends import default_range
from segments.models import Segment
from segments.selectors import segment_list
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter, traffic_param

# Every analysis kind accepts these: the switches that let bots and internal users back in.
TRAFFIC_FIELDS = ("include_internal", "include_bots")

MAX_RANGE_DAYS = 731
MAX_SEGMENTS = 8
UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}
MAX_WINDOW = timedelta(days=365)


class ParamError(ValueError):
    """Invalid parameters; `errors` maps each field (a JSON path) to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))

    def prefixed(self, prefix: str) -> ParamError:
        return ParamError({f"{prefix}.{field}": messages for field, messages in self.errors.items()})


@dataclass(frozen=True)
class DateRange:
    """Whole days in the project's time zone, both ends included.

    With `last_days` the range rolls: it is the last n days up to today each
    time it is computed (a saved analysis keeps showing the latest weeks).
    """

    date_from: date
    date_to: date
    last_days: int | None = None

    def to_json(self) -> dict:
        if self.last_days:
            return {"last_days": self.last_days}
        return {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


@dataclass(frozen=True)
class Window:
    value: int
    unit: str

    @property
    def delta(self) -> timedelta:
        return self.value * UNITS[self.unit]

    def to_json(self) -> dict:
        return {"value": self.value, "unit": self.unit}

    def __str__(self) -> str:
        unit = self.unit[:-1] if self.value == 1 else self.unit
        return f"{self.value} {unit}"


def range_bounds(date_range: DateRange, project: Project) -> tuple[datetime, datetime]:
    """[start, end) of a date range: whole days in the project's time zone."""
    zone = project.zone
    start = datetime.combine(date_range.date_from, time(), tzinfo=zone)
    end = datetime.combine(date_range.date_to + timedelta(days=1), time(), tzinfo=zone)
    return start, end


class Checker:
    """Collects errors by field; the typed getters return None for a value they refused."""

    def __init__(self, *, project: Project) -> None:
        self.project = project
        self.errors: dict[str, list[str]] = {}

    def error(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def has_errors(self, prefix: str = "") -> bool:
        return (
            any(field == prefix or field.startswith(prefix) for field in self.errors)
            if prefix
            else bool(self.errors)
        )

    def done(self) -> None:
        if self.errors:
            raise ParamError(self.errors)

    # -- shapes -------------------------------------------------------------------
    def obj(self, value: Any, field: str) -> dict | None:
        if not isinstance(value, dict):
            self.error(field, "must be an object")
            return None
        return value

    def unknown_keys(self, data: dict, allowed: tuple[str, ...], prefix: str = "") -> None:
        for key in sorted(set(data) - set(allowed)):
            self.error(f"{prefix}{key}", f"unknown field; use {', '.join(allowed)}")

    def integer(self, value: Any, field: str, *, minimum: int, maximum: int) -> int | None:
        if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            self.error(field, "must be a whole number")
            return None
        if not minimum <= value <= maximum:
            self.error(field, f"must be between {minimum} and {maximum}")
            return None
        return int(value)

    def string(self, value: Any, field: str, *, limit: int = 200) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.error(field, "must be a non-empty string")
            return None
        if len(value) > limit:
            self.error(field, f"must be at most {limit} characters")
            return None
        if "\x00" in value:
            self.error(field, "contains a NUL character")
            return None
        return value.strip()

    def choice(self, value: Any, field: str, choices: tuple[str, ...]) -> str | None:
        if value not in choices:
            self.error(field, f"must be one of {', '.join(choices)}; got {value!r}")
            return None
        return value

    def boolean(self, value: Any, field: str) -> bool | None:
        if not isinstance(value, bool):
            self.error(field, "must be true or false")
            return None
        return value

    def traffic(self, data: dict) -> TrafficFilter:
        """`include_internal` and `include_bots` (both false by default): who counts besides ordinary people."""
        return traffic_param(data, self.error)

    # -- dates ---------------------------------------------------------------------
    def iso_date(self, value: Any, field: str) -> date | None:
        if not isinstance(value, str):
            self.error(field, "must be an ISO date (YYYY-MM-DD)")
            return None
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            self.error(field, f"{value[:40]!r} is not an ISO date (YYYY-MM-DD)")
            return None

    def date_range(self, data: dict, *, default_days: int = 30) -> DateRange | None:
        """`last_days`, or `date_from` and `date_to` (inclusive); each defaults to the last `default_days` days."""
        if data.get("last_days") not in (None, ""):
            days = self.integer(data["last_days"], "last_days", minimum=1, maximum=MAX_RANGE_DAYS)
            if days is None:
                return None
            start, end = default_range(project=self.project, days=days)
            return DateRange(start, end, last_days=days)
        default_from, default_to = default_range(project=self.project, days=default_days)
        raw_from, raw_to = data.get("date_from"), data.get("date_to")
        start = default_from if raw_from in (None, "") else self.iso_date(raw_from, "date_from")
        end = default_to if raw_to in (None, "") else self.iso_date(raw_to, "date_to")
        if start is None or end is None:
            return None
        if end < start:
            self.error("date_to", "must not be before date_from")
            return None
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            self.error("date_to", f"a range covers at most {MAX_RANGE_DAYS} days")
            return None
        return DateRange(start, end)

    # -- segments ------------------------------------------------------------------
    def segments(
        self, value: Any, field: str, *, minimum: int = 0, maximum: int = MAX_SEGMENTS
    ) -> list[Segment]:
        """Segments of this project by id, in the order given, without repeats."""
        if value in (None, ""):
            value = []
        if not isinstance(value, list):
            self.error(field, "must be a list of segment ids")
            return []
        positions: dict[int, int] = {}  # segment id -> its index in the list, for error paths
        for index, raw in enumerate(value):
            segment_id = self.integer(raw, f"{field}[{index}]", minimum=1, maximum=2**63 - 1)
            if segment_id is not None and segment_id not in positions:
                positions[segment_id] = index
        ids = list(positions)
        if len(ids) < minimum:
            self.error(field, f"choose at least {minimum} {'segment' if minimum == 1 else 'segments'}")
            return []
        if len(ids) > maximum:
            self.error(field, f"choose at most {maximum} segments")
            return []
        found = {s.pk: s for s in segment_list(project=self.project).filter(pk__in=ids)}
        for segment_id, index in positions.items():
            if segment_id not in found:
                self.error(f"{field}[{index}]", f"no segment {segment_id} in this project")
        return [found[i] for i in ids if i in found]


def parse_window(raw: Any, path: str, checker: Checker) -> Window | None:
    node = checker.obj(raw, path)
    if node is None:
        return None
    checker.unknown_keys(node, ("value", "unit"), f"{path}.")
    unit = checker.choice(node.get("unit", "days"), f"{path}.unit", tuple(UNITS))
    value = checker.integer(node.get("value"), f"{path}.value", minimum=1, maximum=525_600)
    if unit is None or value is None:
        return None
    window = Window(value, unit)
    if window.delta > MAX_WINDOW:
        checker.error(f"{path}.value", "a window is at most 365 days")
        return None
    return window
