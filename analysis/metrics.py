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


def _condition(spec: MetricSpec, key: str) -> tuple[str, list]:
    event = spec.events.get(key)
    return event.sql("e") if event else ("true", [])


def population_sql(
    spec: MetricSpec, *, project: Project, date_range: DateRange, now: datetime
) -> tuple[str, list]:
    """`SELECT person_id, y, mature`: the metric's population with each person's value (0/1 for rates)."""
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
        cond, cond_params = _condition(spec, "event")
        if spec.kind == "activation":
            window_start, window_end = timedelta(0), timedelta(days=d["within_days"])
            upper = "<="
        else:
            period = PERIODS[d["period"]]
            window_start, window_end = period * d["n"], period * (d["n"] + 1)
            upper = "<"
        cohort = "FROM tracking_person p WHERE p.project_id = %s AND p.first_seen >= %s AND p.first_seen < %s"
        if spec.events.get("event") is None:
            # any event: one probe per person on event_project_person_ts
            return (
                "SELECT p.id AS person_id, EXISTS (SELECT 1 FROM tracking_event e WHERE e.project_id = %s"  # noqa: S608 - constant SQL, values as %s parameters
                f" AND e.person_id = p.id AND e.timestamp >= p.first_seen + %s AND e.timestamp {upper} p.first_seen + %s"
                f")::int AS y, p.first_seen + %s <= %s AS mature {cohort}",
                [pid, window_start, window_end, window_end, now, pid, start, end],
            )
        # a named event: its rows in the span any cohort member's window can cover (event_project_name_ts),
        # hashed by person and matched against each person's own window
        return (
            f"SELECT p.id AS person_id, coalesce(bool_or(x.ts >= p.first_seen + %s AND x.ts {upper} p.first_seen + %s),"  # noqa: S608 - constant SQL, values as %s parameters
            " false)::int AS y, p.first_seen + %s <= %s AS mature"
            " FROM tracking_person p LEFT JOIN (SELECT e.person_id, e.timestamp AS ts FROM tracking_event e"
            f" WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp <= %s AND {cond}) x ON x.person_id = p.id"
            " WHERE p.project_id = %s AND p.first_seen >= %s AND p.first_seen < %s GROUP BY p.id, p.first_seen",
            [window_start, window_end, window_end, now, pid, start + window_start, end + window_end, *cond_params,
             pid, start, end],
        )  # fmt: skip
    if spec.kind == "churn":
        quiet = timedelta(days=d["days"])
        # the last event of each active person (a range scan: event_timestamp_brin), then one probe
        # per person on event_project_person_ts for anything in the quiet period after it
        return (
            "SELECT l.person_id, (NOT EXISTS (SELECT 1 FROM tracking_event e WHERE e.project_id = %s"
            " AND e.person_id = l.person_id AND e.timestamp > l.last_at AND e.timestamp <= l.last_at + %s))::int AS y,"
            " l.last_at + %s <= %s AS mature"
            " FROM (SELECT e.person_id, max(e.timestamp) AS last_at FROM tracking_event e"
            " WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s GROUP BY e.person_id) l",
            [pid, quiet, quiet, now, pid, start, end],
        )
    if spec.kind == "value":
        cond, cond_params = _condition(spec, "event")
        prop = d["property"]
        if d["per"] == "active":
            return (
                f"SELECT e.person_id, coalesce(sum(sl_numeric(e.properties -> %s)) FILTER (WHERE {cond}), 0) AS y,"  # noqa: S608 - constant SQL, values as %s parameters
                " true AS mature FROM tracking_event e WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s"
                " GROUP BY e.person_id",
                [prop, *cond_params, pid, start, end],
            )
        function = "sum" if d["aggregate"] == "sum" else "avg"
        # only the event's rows: event_project_name_ts when the event has a name
        return (
            f"SELECT e.person_id, {function}(sl_numeric(e.properties -> %s)) AS y, true AS mature"  # noqa: S608 - constant SQL, values as %s parameters
            f" FROM tracking_event e WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s AND {cond}"
            " GROUP BY e.person_id HAVING count(sl_numeric(e.properties -> %s)) > 0",
            [prop, pid, start, end, *cond_params, prop],
        )
    cond, cond_params = _condition(spec, "event")
    zone = str(project.zone)
    # per person and local day first (a hash aggregate), then per person: cheaper than count(DISTINCT day)
    return (
        "SELECT d.person_id, sum(d.matching)::numeric / count(*) AS y, true AS mature FROM ("  # noqa: S608 - constant SQL, values as %s parameters
        f"SELECT e.person_id, (e.timestamp AT TIME ZONE %s)::date AS day, count(*) FILTER (WHERE {cond}) AS matching"
        " FROM tracking_event e WHERE e.project_id = %s AND e.timestamp >= %s AND e.timestamp < %s GROUP BY 1, 2"
        ") d GROUP BY d.person_id",
        [zone, *cond_params, pid, start, end],
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
