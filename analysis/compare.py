"""Compare segments on a target metric: value, size, interval and a test against the first group.

Groups are segments' *current* members (membership periods still open), or one
segment against everyone else in the metric's population. A company segment's
group is the people at its companies: metrics are per person, so comparing
company segments compares the people of those companies. Segments may
overlap: a person in two compared segments counts in both. The population's
blended value is reported too — the average the segments take apart.

One statement computes everything: the metric's population with one value per
person (analysis.metrics), each person's group flags (one hashed membership
subquery per segment), and per group the count, sum, mean and standard
deviation. The tests and intervals are analysis.stats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from analysis import stats
from analysis.circular import circular_warnings
from analysis.metrics import MetricSpec, metric_spec, parse_metric, population_sql
from analysis.models import Metric
from analysis.params import TRAFFIC_FIELDS, Checker, DateRange, ParamError
from analysis.reads import fetch_all, limited
from analysis.selectors import members_sql
from segments.models import Segment
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter, person_filter_sql

MAX_GROUPS = 8


def _label(segment: Segment) -> str:
    """A group's name: the segment's, or, for a company segment, the people at its companies."""
    return f"People at {segment.name}" if segment.is_company else segment.name


@dataclass(frozen=True)
class Group:
    label: str
    segment: Segment
    rest: bool = False  # everyone in the population who is not a current member

    def to_json(self) -> dict:
        return {"segment": self.segment.pk, "rest": self.rest, "label": self.label}


@dataclass
class CompareQuery:
    metric: MetricSpec
    segments: list[Segment]
    range: DateRange
    vs_rest: bool = False
    saved_metric: Metric | None = None
    traffic: TrafficFilter = field(default_factory=TrafficFilter)

    @property
    def groups(self) -> list[Group]:
        if self.vs_rest:
            segment = self.segments[0]
            rest = f"People not at {segment.name}" if segment.is_company else f"Not in {segment.name}"
            return [Group(_label(segment), segment), Group(rest, segment, rest=True)]
        return [Group(_label(s), s) for s in self.segments]

    def to_json(self) -> dict:
        metric: Any = (
            self.saved_metric.pk
            if self.saved_metric
            else {"kind": self.metric.kind, "definition": self.metric.definition}
        )
        return {
            "metric": metric,
            "segments": [s.pk for s in self.segments],
            "vs_rest": self.vs_rest,
            **self.range.to_json(),
            **self.traffic.to_json(),
        }


def _metric_param(raw: Any, checker: Checker) -> tuple[MetricSpec | None, Metric | None]:
    if isinstance(raw, str) and raw.isdecimal():
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        metric = Metric.objects.filter(project=checker.project, pk=raw).first()
        if metric is None:
            checker.error("metric", f"no metric {raw} in this project")
            return None, None
        try:
            spec = metric_spec(metric, project=checker.project)
        except ParamError as error:
            checker.error("metric", f"the metric “{metric.name}” no longer holds: {error}")
            return None, None
        return spec, metric
    if isinstance(raw, dict):
        checker.unknown_keys(raw, ("kind", "definition", "name"), "metric.")
        spec = parse_metric(raw.get("kind"), raw.get("definition"), checker, prefix="metric.definition")
        if spec is not None:
            spec.name = str(raw.get("name") or spec.kind_label)[:200]
        return spec, None
    checker.error("metric", "choose a metric: its id, or an object with kind and definition")
    return None, None


def compare_params(data: Any, *, project: Project) -> CompareQuery:
    """Check comparison parameters; raise ParamError naming every bad field."""
    if not isinstance(data, dict):
        raise ParamError({"non_field_errors": ["send an object of parameters"]})
    checker = Checker(project=project)
    checker.unknown_keys(
        data, ("metric", "segments", "vs_rest", "date_from", "date_to", "last_days", *TRAFFIC_FIELDS)
    )
    spec, saved = _metric_param(data.get("metric"), checker)
    vs_rest = data.get("vs_rest", False)
    if vs_rest in ("on", "true", "1"):
        vs_rest = True
    vs_rest = checker.boolean(vs_rest, "vs_rest")
    segments = checker.segments(data.get("segments"), "segments", minimum=1, maximum=MAX_GROUPS)
    if vs_rest and len(segments) != 1:
        checker.error("segments", "in vs out compares exactly one segment with everyone else")
    elif vs_rest is False and len(segments) == 1:
        checker.error("segments", "choose at least two segments, or one segment against everyone else")
    date_range = checker.date_range(data)
    traffic = checker.traffic(data)
    checker.done()
    assert spec is not None and date_range is not None
    return CompareQuery(
        metric=spec,
        segments=segments,
        range=date_range,
        vs_rest=bool(vs_rest),
        saved_metric=saved,
        traffic=traffic,
    )


# -- results -------------------------------------------------------------------------------


@dataclass
class GroupResult:
    label: str
    n: int
    value: float | None
    interval: stats.Interval | None
    successes: int | None = None  # rates only
    sd: float | None = None  # means only
    segment_id: int | None = None
    rest: bool = False
    too_small: str | None = None
    difference: float | None = None
    difference_interval: stats.Interval | None = None
    test: stats.TestResult | None = None
    is_reference: bool = False

    @property
    def significant(self) -> bool | None:
        """Whether it differs from the first group at 95%; None when that cannot be concluded."""
        if self.test is None:
            return None
        return self.test.significant()

    @property
    def conclusion(self) -> str:
        if self.is_reference:
            return "reference"
        if self.test is None:
            return "too small to conclude"
        if not self.test.significant():
            return "no significant difference"
        return "significantly higher" if (self.difference or 0) > 0 else "significantly lower"

    def to_json(self) -> dict:
        out: dict = {
            "label": self.label,
            "segment": self.segment_id,
            "rest": self.rest,
            "n": self.n,
            "value": self.value,
            "interval": [self.interval.low, self.interval.high] if self.interval else None,
            "too_small": self.too_small,
        }
        if self.successes is not None:
            out["successes"] = self.successes
        if self.sd is not None:
            out["sd"] = self.sd
        if not self.is_reference and self.segment_id is not None:
            out.update(
                difference=self.difference,
                difference_interval=(
                    [self.difference_interval.low, self.difference_interval.high]
                    if self.difference_interval
                    else None
                ),
                test=self.test.method if self.test else None,
                statistic=self.test.statistic if self.test else None,
                df=self.test.df if self.test else None,
                p_value=self.test.p_value if self.test else None,
                significant=self.significant,
                conclusion=self.conclusion,
            )
        return out


@dataclass
class CompareResult:
    query: CompareQuery
    overall: GroupResult
    groups: list[GroupResult] = field(default_factory=list)
    still_open: int = 0  # persons left out because their outcome is not known yet
    computed_at: datetime | None = None
    warnings: list[str] = field(default_factory=list)  # circular comparisons (analysis.circular)

    def to_json(self) -> dict:
        spec = self.query.metric
        return {
            "query": self.query.to_json(),
            "metric": {
                "name": spec.name,
                "kind": spec.kind,
                "type": "rate" if spec.is_rate else "mean",
                "population": spec.population_label,
                "description": spec.description,
            },
            "membership": "current members of each segment",
            "overall": self.overall.to_json(),
            "groups": [g.to_json() for g in self.groups],
            "still_open": self.still_open,
            "computed_at": self.computed_at,
            "warnings": self.warnings,
        }


def _summary(spec: MetricSpec, label: str, n: int, total: Any, mean: Any, sd: Any) -> GroupResult:
    n = int(n or 0)
    if spec.is_rate:
        successes = int(total or 0)
        return GroupResult(
            label=label,
            n=n,
            successes=successes,
            value=successes / n if n else None,
            interval=stats.wilson_interval(successes, n),
            # rates are tested exactly when counts are small; only the pairing decides (in _versus)
            too_small="nobody in this group" if n == 0 else None,
        )
    mean_f = float(mean) if mean is not None else None
    sd_f = float(sd) if sd is not None else None
    interval = stats.mean_interval(mean_f, sd_f, n) if mean_f is not None and sd_f is not None else None
    return GroupResult(
        label=label, n=n, value=mean_f, sd=sd_f, interval=interval, too_small=stats.mean_too_small(n)
    )


def _versus(spec: MetricSpec, reference: GroupResult, group: GroupResult) -> None:
    if group.value is None or reference.value is None:
        return
    group.difference = group.value - reference.value
    if spec.is_rate:
        x1, n1, x2, n2 = reference.successes or 0, reference.n, group.successes or 0, group.n
        group.difference_interval = stats.proportion_difference_interval(x1, n1, x2, n2)
        # Fisher's exact test when counts are small: "too small" only when no test can tell
        group.test = stats.rates_test(x1, n1, x2, n2)
        if group.test is None:
            group.too_small = stats.rates_untestable(x1, n1, x2, n2)
        return
    args = (reference.value, reference.sd or 0.0, reference.n, group.value, group.sd or 0.0, group.n)
    group.difference_interval = stats.welch_difference_interval(*args)
    test = stats.welch_test(*args)
    # a test is reported only when both groups are large enough to support it
    group.test = test if not (reference.too_small or group.too_small) else None


def _compare_sql(*, project: Project, query: CompareQuery, now: datetime) -> tuple[str, list]:
    """One row: the population's open and mature counts and (n, sum, mean, sd) overall and per group."""
    population, params = population_sql(query.metric, project=project, date_range=query.range, now=now)
    flags, flag_params = [], []
    for i, segment in enumerate(query.segments):
        members, member_params = members_sql(segment)
        flags.append(f"pop.person_id IN ({members}) AS g{i}")
        flag_params += member_params
    groups = query.groups
    aggregates = ["count(*) FILTER (WHERE NOT mature)", "count(*) FILTER (WHERE mature)",
                  "sum(y) FILTER (WHERE mature)", "avg(y) FILTER (WHERE mature)", "stddev_samp(y) FILTER (WHERE mature)"]  # fmt: skip
    for i, group in enumerate(groups):
        flag = "NOT g0" if group.rest else f"g{i}"
        condition = f"mature AND {flag}"
        aggregates += [f"count(*) FILTER (WHERE {condition})", f"sum(y) FILTER (WHERE {condition})",
                       f"avg(y) FILTER (WHERE {condition})", f"stddev_samp(y) FILTER (WHERE {condition})"]  # fmt: skip
    flag_list = "".join(f", {flag}" for flag in flags)
    counted, counted_params = person_filter_sql("pop.person_id", project=project, traffic=query.traffic)
    # pop is computed once: inlined, a population whose y is a correlated subquery (churn)
    # would run it again for every aggregate that reads y. `flagged` is kept whole (OFFSET 0)
    # for the same reason: flattened, each group's membership test ran once per aggregate
    # that reads it (four per group) instead of once per person.
    sql = (
        f"WITH pop AS MATERIALIZED ({population}),"  # noqa: S608 - constant SQL, values as %s parameters
        f" flagged AS (SELECT pop.*{flag_list} FROM pop WHERE {counted} OFFSET 0)"
        f" SELECT {', '.join(aggregates)} FROM flagged"
    )
    return sql, [*params, *flag_params, *counted_params]


def compare_compute(*, project: Project, query: CompareQuery, now: datetime | None = None) -> CompareResult:
    now = now or timezone.now()
    with limited():  # a conversion's funnel reads its events while the statement is built
        row = fetch_all(*_compare_sql(project=project, query=query, now=now))[0]
    groups = query.groups
    spec = query.metric
    overall = _summary(spec, "Everyone", *row[1:5])
    result = CompareResult(query=query, overall=overall, still_open=int(row[0] or 0), computed_at=now)
    for i, group in enumerate(groups):
        offset = 5 + 4 * i
        summary = _summary(spec, group.label, *row[offset : offset + 4])
        summary.segment_id = group.segment.pk
        summary.rest = group.rest
        result.groups.append(summary)
    result.warnings = circular_warnings(spec=spec, segments=query.segments, project_id=project.pk)
    if result.groups:
        reference = result.groups[0]
        reference.is_reference = True
        for group in result.groups[1:]:
            _versus(spec, reference, group)
    return result


def metric_compute(
    *,
    project: Project,
    spec: MetricSpec,
    date_range: DateRange,
    now: datetime | None = None,
    traffic: TrafficFilter | None = None,
) -> CompareResult:
    """The metric over its whole population, without groups: the blended value."""
    query = CompareQuery(metric=spec, segments=[], range=date_range, traffic=traffic or TrafficFilter())
    return compare_compute(project=project, query=query, now=now)
