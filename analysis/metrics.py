"""Target metrics: what each kind means, how its definition is checked, and its SQL.

Every metric is measured over a population of persons tied to a date range
(whole days in the project's time zone) and gives each person one value:

| kind | population | value per person |
|---|---|---|
| conversion | did A in the range | 1 if they did B strictly after an A of the range, at most T later |
| activation | first seen in the range | 1 if they did X within D days of first being seen |
| retention | first seen in the range | 1 if they did X (or anything) in period N after first being seen |
| churn | had an event in the range | 1 if nothing followed their last event of the range for D days |
| value | had an event in the range (or did the event) | sum (or mean) of a numeric property of the event |
| frequency | had an event in the range | matching events ÷ days with any event |

The first four are rates; the last two are means. A person whose outcome
cannot be known yet — their window reaches past now — is left out of the
population (“still open”), decided by when they entered and never by what they
did, so recent ranges are not biased either way.

`population_sql` gives `SELECT person_id, y, mature` for any kind; the
comparison (analysis.compare) aggregates it per group in the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from analysis.events import EventSpec, parse_event
from analysis.funnels.statements import levels_sql
from analysis.models import MetricKind
from analysis.params import Checker, DateRange, ParamError, Window, parse_window, range_bounds
from tracking.eventstore import analysis as eventstore
from tracking.models import Project

RATE_KINDS = ("conversion", "activation", "retention", "churn")
MEAN_KINDS = ("value", "frequency")
KINDS = (*RATE_KINDS, *MEAN_KINDS)
PERIODS = {"day": timedelta(days=1), "week": timedelta(weeks=1)}
AGGREGATES = ("sum", "avg")
PER = ("active", "performer")
MAX_DAYS = 365

KIND_HELP = {
    "conversion": "Of the persons who did A in the range, the share who did B within a time window after it.",
    "activation": "Of the persons first seen in the range, the share who did X within D days of first being seen.",
    "retention": "Of the persons first seen in the range, the share who came back and did X in day or week N.",
    "churn": "Of the persons active in the range, the share with no activity for D days after their last event in it.",
    "value": "The sum (or average) of a numeric event property per person, e.g. purchase amount.",
    "frequency": "Events per active day: matching events in the range divided by the days with any event.",
}


@dataclass
class MetricSpec:
    """A checked metric definition with its event specs loaded."""

    kind: str
    definition: dict
    name: str = ""
    events: dict[str, EventSpec | None] = field(default_factory=dict)
    within: Window | None = None

    @property
    def is_rate(self) -> bool:
        return self.kind in RATE_KINDS

    @property
    def kind_label(self) -> str:
        return MetricKind(self.kind).label

    def event_label(self, key: str) -> str:
        spec = self.events.get(key)
        return spec.label if spec else "any event"

    @property
    def population_label(self) -> str:
        return {
            "conversion": f"persons who did {self.event_label('from')} in the range",
            "activation": "persons first seen in the range",
            "retention": "persons first seen in the range",
            "churn": "persons active in the range",
            "value": (
                "persons active in the range"
                if self.definition.get("aggregate") == "sum" and self.definition.get("per") == "active"
                else f"persons with a numeric {self.definition.get('property')} on {self.event_label('event')}"
            ),
            "frequency": "persons active in the range",
        }[self.kind]

    @property
    def description(self) -> str:
        d = self.definition
        if self.kind == "conversion":
            return f"did {self.event_label('to')} within {self.within} after {self.event_label('from')}"
        if self.kind == "activation":
            return f"did {self.event_label('event')} within {d['within_days']} days of first being seen"
        if self.kind == "retention":
            return f"did {self.event_label('event')} in {d['period']} {d['n']} after first being seen"
        if self.kind == "churn":
            return f"no activity for {d['days']} days after their last event in the range"
        if self.kind == "value":
            how = "total" if d["aggregate"] == "sum" else "average"
            return f"{how} {d['property']} of {self.event_label('event')} per person"
        return f"{self.event_label('event')} per active day"

    @property
    def value_format(self) -> str:
        return "percent" if self.is_rate else "number"


def parse_metric(
    kind: Any, definition: Any, checker: Checker, *, prefix: str = "definition"
) -> MetricSpec | None:
    """Check a metric's kind and definition; errors go under `kind` and `<prefix>.<field>`."""
    kind_field = "kind" if prefix == "definition" else f"{prefix.rsplit('.', 1)[0]}.kind"
    if kind not in KINDS:
        checker.error(kind_field, f"must be one of {', '.join(KINDS)}; got {kind!r}")
        return None
    node = checker.obj(definition, prefix)
    if node is None:
        return None
    p = f"{prefix}."
    spec = MetricSpec(kind=kind, definition={})
    if kind == "conversion":
        checker.unknown_keys(node, ("from", "to", "within"), p)
        spec.events["from"] = parse_event(node.get("from"), f"{p}from", checker)
        spec.events["to"] = parse_event(node.get("to"), f"{p}to", checker)
        spec.within = parse_window(node.get("within", {"value": 7, "unit": "days"}), f"{p}within", checker)
        if spec.within:
            spec.definition["within"] = spec.within.to_json()
    elif kind == "activation":
        checker.unknown_keys(node, ("event", "within_days"), p)
        spec.events["event"] = parse_event(node.get("event"), f"{p}event", checker)
        spec.definition["within_days"] = checker.integer(
            node.get("within_days", 7), f"{p}within_days", minimum=1, maximum=MAX_DAYS
        )
    elif kind == "retention":
        checker.unknown_keys(node, ("event", "period", "n"), p)
        if node.get("event") is not None:
            spec.events["event"] = parse_event(node["event"], f"{p}event", checker)
        spec.definition["period"] = checker.choice(node.get("period", "week"), f"{p}period", tuple(PERIODS))
        spec.definition["n"] = checker.integer(node.get("n", 1), f"{p}n", minimum=1, maximum=MAX_DAYS)
    elif kind == "churn":
        checker.unknown_keys(node, ("days",), p)
        spec.definition["days"] = checker.integer(
            node.get("days", 14), f"{p}days", minimum=1, maximum=MAX_DAYS
        )
    elif kind == "value":
        checker.unknown_keys(node, ("event", "property", "aggregate", "per"), p)
        spec.events["event"] = parse_event(node.get("event"), f"{p}event", checker)
        spec.definition["property"] = checker.string(node.get("property"), f"{p}property")
        aggregate = checker.choice(node.get("aggregate", "sum"), f"{p}aggregate", AGGREGATES)
        per = checker.choice(node.get("per", "active"), f"{p}per", PER)
        if aggregate == "avg" and per == "active":
            # a mean of no values is undefined: the average is over persons who have values
            per = "performer"
        spec.definition.update(aggregate=aggregate, per=per)
    else:
        checker.unknown_keys(node, ("event",), p)
        if node.get("event") is not None:
            spec.events["event"] = parse_event(node["event"], f"{p}event", checker)
    if checker.has_errors(p) or checker.has_errors(kind_field):
        return None
    for key, event in spec.events.items():
        spec.definition[key] = event.to_json() if event else None
    if kind in ("retention", "frequency"):
        spec.definition.setdefault("event", None)
    return spec


def validate_metric(*, kind: Any, definition: Any, project: Project) -> MetricSpec:
    """A checked metric, or ParamError naming each bad field (`kind`, `definition.from.name`…)."""
    checker = Checker(project=project)
    spec = parse_metric(kind, definition, checker)
    checker.done()
    assert spec is not None
    return spec


def metric_spec(metric: Any, *, project: Project) -> MetricSpec:
    """The spec of a stored Metric (its actions reloaded); ParamError if it no longer holds."""
    spec = validate_metric(kind=metric.kind, definition=metric.definition, project=project)
    spec.name = metric.name
    return spec


# -- SQL -----------------------------------------------------------------------------------


def _step(spec: MetricSpec, key: str) -> dict | None:
    event = spec.events.get(key)
    return event.step() if event else None


def population_sql(
    spec: MetricSpec, *, project: Project, date_range: DateRange, now: datetime
) -> tuple[str, list]:
    """`SELECT person_id, y, mature`: the metric's population with each person's value (0/1 for rates).

    The event store answers each kind (tracking.eventstore.analysis); conversion
    is a two-step funnel.
    """
    start, end = range_bounds(date_range, project)
    pid = project.pk
    d = spec.definition
    if spec.kind == "conversion":
        assert spec.within is not None
        levels, params = levels_sql(
            project_id=pid,
            steps=[spec.events["from"], spec.events["to"]],
            within=spec.within.delta,
            start=start,
            end=end,
        )
        # entering at the first A of the range; its window must have closed
        return (
            f"SELECT person_id, (level >= 2)::int AS y, entered_at + %s <= %s AS mature FROM ({levels}) f",  # noqa: S608 - constant SQL, values as %s parameters
            [spec.within.delta, now, *params],
        )
    if spec.kind in ("activation", "retention"):
        if spec.kind == "activation":
            window_start, window_end = timedelta(0), timedelta(days=d["within_days"])
        else:
            period = PERIODS[d["period"]]
            window_start, window_end = period * d["n"], period * (d["n"] + 1)
        return eventstore.window_population_sql(
            project_id=pid,
            step=_step(spec, "event"),
            start=start,
            end=end,
            window_start=window_start,
            window_end=window_end,
            inclusive_end=spec.kind == "activation",
            now=now,
        )
    if spec.kind == "churn":
        quiet = timedelta(days=d["days"])
        return eventstore.churn_population_sql(project_id=pid, start=start, end=end, quiet=quiet, now=now)
    if spec.kind == "value":
        return eventstore.value_population_sql(
            project_id=pid,
            step=_step(spec, "event"),
            prop=d["property"],
            start=start,
            end=end,
            aggregate=d["aggregate"],
            per=d["per"],
        )
    return eventstore.frequency_population_sql(
        project_id=pid, step=_step(spec, "event"), start=start, end=end, zone=str(project.zone)
    )


def kind_choices() -> list[tuple[str, str]]:
    return [(k, MetricKind(k).label) for k in KINDS]


__all__ = [
    "KINDS",
    "MetricSpec",
    "ParamError",
    "metric_spec",
    "parse_metric",
    "population_sql",
    "validate_metric",
]
