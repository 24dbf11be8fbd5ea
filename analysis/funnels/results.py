"""Funnel results: counts per step, the breakdown rows, the value that stands out, who dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from analysis import stats
from analysis.funnels.query import Breakdown, FunnelQuery
from analysis.funnels.statements import compute_sql, entrants_sql, value_sql
from analysis.params import ParamError
from analysis.reads import fetch_all, limited
from analysis.selectors import members_sql
from segments.models import Segment
from tracking.models import Person, Project


@dataclass
class StepCount:
    index: int  # 1-based
    label: str
    count: int
    rate: float | None  # share of the row's entrants
    step_rate: float | None  # share of those who reached the step before
    dropped: int  # reached this step but not the next
    dropped_ids: list[int] = field(default_factory=list)  # a sample, for the replay link
    deviation: str | None = None  # "low" / "high": significantly below / above the rest of the breakdown

    def to_json(self) -> dict:
        return {
            "step": self.index,
            "label": self.label,
            "count": self.count,
            "rate": self.rate,
            "step_rate": self.step_rate,
            "dropped": self.dropped,
            "dropped_person_ids": self.dropped_ids,
            "deviation": self.deviation,
        }


@dataclass
class FunnelRow:
    label: str
    value: str | None  # the breakdown value ("" for none, a segment id as text); None for everyone
    steps: list[StepCount]
    is_total: bool = False
    is_other: bool = False

    @property
    def entered(self) -> int:
        return self.steps[0].count

    @property
    def completed(self) -> int:
        return self.steps[-1].count

    @property
    def conversion(self) -> float | None:
        return self.completed / self.entered if self.entered else None

    def to_json(self) -> dict:
        out = {
            "label": self.label,
            "entered": self.entered,
            "completed": self.completed,
            "conversion": self.conversion,
        }
        if not self.is_total:
            out.update(value=self.value, is_other=self.is_other)
        return {**out, "steps": [s.to_json() for s in self.steps]}


@dataclass
class Highlight:
    """The breakdown value that deviates most from everyone else in the funnel, at one step."""

    row: FunnelRow
    step: int  # the step reached (2…n) from the one before it
    rate: float
    rest_rate: float
    p_value: float

    @property
    def difference(self) -> float:
        return self.rate - self.rest_rate

    @property
    def step_label(self) -> str:
        return self.row.steps[self.step - 1].label

    @property
    def previous_label(self) -> str:
        return self.row.steps[self.step - 2].label

    def to_json(self) -> dict:
        return {
            "value": self.row.value,
            "label": self.row.label,
            "step": self.step,
            "rate": self.rate,
            "rest_rate": self.rest_rate,
            "difference": self.difference,
            "p_value": self.p_value,
        }


@dataclass
class FunnelResult:
    query: FunnelQuery
    overall: FunnelRow
    rows: list[FunnelRow] = field(default_factory=list)
    highlight: Highlight | None = None
    tests: int = 0  # comparisons made for the highlight (the Bonferroni factor)

    @property
    def step_labels(self) -> list[str]:
        return [s.label for s in self.query.steps]

    def to_json(self) -> dict:
        return {
            "query": self.query.to_json(),
            "overall": self.overall.to_json(),
            "breakdown": [row.to_json() for row in self.rows],
            "highlight": self.highlight.to_json() if self.highlight else None,
            "tests": self.tests,
        }


def _row(
    query: FunnelQuery, label: str, value: str | None, record: tuple, *, is_total: bool, is_other: bool
) -> FunnelRow:
    n = len(query.steps)
    reached = [int(c or 0) for c in record[:n]]
    samples = list(record[n:])
    steps = []
    for i, spec in enumerate(query.steps):
        count = reached[i]
        nxt = reached[i + 1] if i + 1 < n else count
        steps.append(
            StepCount(
                index=i + 1,
                label=spec.label,
                count=count,
                rate=count / reached[0] if reached[0] else None,
                step_rate=(count / reached[i - 1] if reached[i - 1] else None)
                if i
                else (1.0 if count else None),
                dropped=count - nxt,
                dropped_ids=list(samples[i] or []) if i < n - 1 else [],
            )
        )
    return FunnelRow(label=label, value=value, steps=steps, is_total=is_total, is_other=is_other)


def _value_label(breakdown: Breakdown, value: str | None, segments: dict[str, Segment]) -> str:
    if breakdown.type == "segment":
        segment = segments.get(value or "")
        return segment.name if segment else f"Segment {value}"
    return value or "(none)"


def _mark_deviations(result: FunnelResult) -> None:
    """Test each value against the rest of the funnel at every step; single out the largest significant gap."""
    candidates = [row for row in result.rows if not row.is_other]
    n = len(result.query.steps)
    result.tests = len(candidates) * (n - 1)
    if len(result.rows) < 2 or not result.tests:
        return
    alpha = stats.ALPHA / result.tests
    best: Highlight | None = None
    overall = result.overall.steps
    for row in candidates:
        for k in range(1, n):
            x, m = row.steps[k].count, row.steps[k - 1].count
            rest_x, rest_m = overall[k].count - x, overall[k - 1].count - m
            # Fisher's exact test when counts are small: a step almost everyone else passes
            # (few failures) is exactly where a standout group shows
            test = stats.rates_test(rest_x, rest_m, x, m)
            if test is None or not test.significant(alpha):
                continue
            rate, rest_rate = x / m, rest_x / rest_m
            row.steps[k].deviation = "low" if rate < rest_rate else "high"
            candidate = Highlight(row=row, step=k + 1, rate=rate, rest_rate=rest_rate, p_value=test.p_value)
            if best is None or abs(candidate.difference) > abs(best.difference):
                best = candidate
    result.highlight = best


def funnel_compute(*, project: Project, query: FunnelQuery) -> FunnelResult:
    """Counts per step, overall and per breakdown value (top values, the rest folded into one row)."""
    with limited():
        sql, params = compute_sql(query, project)
        records = fetch_all(sql, params)
    empty = (0,) * len(query.steps) + (None,) * (len(query.steps) - 1)
    total = next((r for r in records if r[1]), (None, True, False, *empty))
    result = FunnelResult(
        query=query, overall=_row(query, "Everyone", None, total[3:], is_total=True, is_other=False)
    )
    breakdown = query.breakdown
    if breakdown is None:
        return result
    segments = {str(s.pk): s for s in breakdown.segments}
    rows = []
    for value, is_total, is_other, *record in records:
        if is_total:
            continue
        label = "Other values" if is_other else _value_label(breakdown, value, segments)
        rows.append(
            _row(query, label, None if is_other else value, tuple(record), is_total=False, is_other=is_other)
        )
    if breakdown.type == "segment":
        order = {str(s.pk): i for i, s in enumerate(breakdown.segments)}
        rows.sort(key=lambda r: order.get(r.value or "", 0))
        present = {r.value for r in rows}
        rows += [
            _row(query, s.name, str(s.pk), empty, is_total=False, is_other=False)
            for s in breakdown.segments
            if str(s.pk) not in present
        ]
        rows.sort(key=lambda r: order.get(r.value or "", 0))
    else:
        rows.sort(key=lambda r: (r.is_other, -r.entered, r.label))
    result.rows = rows
    _mark_deviations(result)
    return result


# -- who dropped ---------------------------------------------------------------------------


@dataclass
class DroppedPage:
    total: int
    persons: list[tuple[Person, datetime]]


def _value_filter(query: FunnelQuery, project: Project, value: str | None) -> tuple[str, list, str, list]:
    """(joins, their parameters, ` AND …` over `pl`, its parameters) keeping one breakdown value's entrants."""
    breakdown = query.breakdown
    if value is None or breakdown is None:
        return "", [], "", []
    if breakdown.type == "segment":
        segment = next((s for s in breakdown.segments if str(s.pk) == value), None)
        if segment is None:
            raise ParamError({"value": ["must be one of the funnel's segments"]})
        members, member_params = members_sql(segment)
        return "", [], f" AND pl.person_id IN ({members})", member_params
    expression, value_params, joins, join_params = value_sql(breakdown, project.pk)
    return joins, join_params, f" AND {expression} = %s", [*value_params, value]


OUTCOMES = ("converted", "dropped")


def funnel_persons_sql(
    *, project: Project, query: FunnelQuery, step: int, outcome: str, value: str | None = None
) -> tuple[str, list]:
    """`SELECT person_id` of the entrants who reached `step` ("converted") or stopped there ("dropped").

    The same entrants and levels as the funnel's counts (`entrants_sql`), so the
    persons are exactly the step's count, or its "dropped" number; `value` keeps
    one breakdown value's row.
    """
    n = len(query.steps)
    if outcome not in OUTCOMES:
        raise ParamError({"outcome": [f"must be one of {', '.join(OUTCOMES)}"]})
    last = n if outcome == "converted" else n - 1
    if not 1 <= step <= last:
        raise ParamError({"step": [f"must be between 1 and {last}"]})
    levels, params = entrants_sql(query, project)
    joins, join_params, where, where_params = _value_filter(query, project, value)
    level = "pl.level >= %s" if outcome == "converted" else "pl.level = %s"
    sql = f"WITH pl AS ({levels}) SELECT pl.person_id FROM pl{joins} WHERE {level}{where}"  # noqa: S608 - constant SQL, values as %s parameters
    return sql, [*params, *join_params, step, *where_params]


def funnel_dropped_persons(
    *,
    project: Project,
    query: FunnelQuery,
    step: int,
    value: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> DroppedPage:
    """Entrants who reached `step` (1-based) but not the next, optionally of one breakdown value; earliest first."""
    if not 1 <= step < len(query.steps):
        raise ParamError({"step": [f"must be between 1 and {len(query.steps) - 1}"]})
    with limited():
        levels, params = entrants_sql(query, project)
        joins, join_params, where, where_params = _value_filter(query, project, value)
        sql = (
            f"WITH pl AS ({levels}) SELECT pl.person_id, pl.entered_at, count(*) OVER ()"  # noqa: S608 - constant SQL, values as %s parameters
            f" FROM pl{joins} WHERE pl.level = %s{where} ORDER BY pl.entered_at, pl.person_id LIMIT %s OFFSET %s"
        )
        rows = fetch_all(sql, [*params, *join_params, step, *where_params, limit, offset])
        if not rows and offset:
            # past the last page: the total still comes from the first row
            first = fetch_all(sql, [*params, *join_params, step, *where_params, 1, 0])
            return DroppedPage(total=first[0][2] if first else 0, persons=[])
    persons = Person.objects.filter(project=project, pk__in=[r[0] for r in rows]).in_bulk()
    return DroppedPage(
        total=rows[0][2] if rows else 0,
        persons=[(persons[pid], entered_at) for pid, entered_at, _ in rows if pid in persons],
    )
