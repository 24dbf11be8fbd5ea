"""The pages' forms: query strings turned into the API's JSON parameters, and back.

Every analysis page is a GET form, so a result has a URL that can be shared,
bookmarked and reopened without JavaScript. `<kind>_params_from_query` builds the
same JSON the REST API takes (checked by the analysis modules, which name the
failing field); `<kind>_query_from_params` writes it back as a query string, to
open a saved analysis. Event pickers post `e:<name>` or `a:<action id>`, with an
optional JSON list of property filters beside them.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict

from analysis import filter_rows
from analysis.funnels import MAX_STEPS, PROPERTY_BREAKDOWNS
from analysis.metrics import KINDS, PERIODS
from analysis.models import MetricKind
from analysis.params import UNITS
from tracking.models import Project
from tracking.selectors.actions import action_list
from tracking.selectors.events import event_names

_STEP_FIELD = re.compile(r"steps\[(\d+)\]\.?")


class WhereError(ValueError):
    pass


# -- event pickers ---------------------------------------------------------------------------


def subject_choices(
    *, project: Project, selected: list[str] | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped options for an event picker: event names seen, then actions; selected values are kept."""
    names = event_names(project=project)
    events = [(f"e:{name}", name) for name in names]
    actions = [(f"a:{a.pk}", a.name) for a in action_list(project=project)]
    known = {value for value, _ in events + actions}
    for value in selected or []:
        if value and value not in known and value.startswith("e:"):
            events.append((value, value[2:]))
            known.add(value)
    groups = [("Events", events)]
    if actions:
        groups.append(("Actions", actions))
    return groups


def parse_where(text: str) -> list:
    text = (text or "").strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise WhereError(f"not valid JSON ({error.msg} at character {error.pos + 1})") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise WhereError(
            'must be a JSON list of filters, e.g. [{"property": "plan", "operator": "eq", "value": "pro"}]'
        )
    return value


def spec_from_subject(subject: str, where_text: str = "") -> Any:
    """`e:<name>` / `a:<id>` (+ filters) as an event spec `E`; unknown shapes pass through to be refused."""
    subject = (subject or "").strip()
    if subject.startswith("a:"):
        raw = subject[2:]
        return {"action": int(raw) if raw.isdecimal() else raw}
    name = subject[2:] if subject.startswith("e:") else subject
    spec: dict = {"name": name}
    where = parse_where(where_text)
    if where:
        spec["where"] = where
    return spec


def subject_from_spec(spec: Any) -> tuple[str, str]:
    """(picker value, filters as JSON text) of an event spec."""
    if not isinstance(spec, dict):
        return "", ""
    if "action" in spec:
        return f"a:{spec['action']}", ""
    where = spec.get("where") or []
    return f"e:{spec.get('name', '')}", json.dumps(where, ensure_ascii=False) if where else ""


def _spec(
    data: QueryDict, field: str, errors: dict[str, list[str]], path: str, *, optional: bool = False
) -> Any:
    subject = data.get(field, "")
    if optional and not subject:
        return None
    try:
        return spec_from_subject(subject, data.get(f"{field}_where", ""))
    except WhereError as error:
        errors.setdefault(f"{path}.where", []).append(str(error))
        return {"name": subject[2:] if subject.startswith("e:") else subject}


def _dates(data: QueryDict) -> dict:
    """A rolling `last_days` range, or fixed dates when “custom” is chosen (or only dates are sent)."""
    if data.get("last_days"):
        return {"last_days": data["last_days"]}
    return {key: data.get(key, "") for key in ("date_from", "date_to") if data.get(key)}


def _ids(data: QueryDict, key: str) -> list[str]:
    return [value for value in data.getlist(key) if value != ""]


def field_label(field: str) -> str:
    """`steps[1].where[0].value` → `Step 2 · where[0].value`, for messages beside a form."""
    return _STEP_FIELD.sub(lambda m: f"Step {int(m.group(1)) + 1} · ", field).rstrip(" ·")


# -- compare ---------------------------------------------------------------------------------


def compare_params_from_query(data: QueryDict) -> tuple[dict, dict[str, list[str]]]:
    segments = _ids(data, "segments")
    reference = data.get("reference", "")
    if reference in segments:
        # the group the others are compared with comes first
        segments = [reference, *(s for s in segments if s != reference)]
    params: dict = {"metric": data.get("metric", ""), "segments": segments, **_dates(data)}
    params["vs_rest"] = data.get("vs_rest") in ("on", "true", "1")
    return params, {}


def compare_query_from_params(params: dict) -> list[tuple[str, str]]:
    out = [("metric", str(params.get("metric", "")))] if not isinstance(params.get("metric"), dict) else []
    out += [("segments", str(s)) for s in params.get("segments", [])]
    if params.get("segments"):
        out.append(("reference", str(params["segments"][0])))
    if params.get("vs_rest"):
        out.append(("vs_rest", "on"))
    return out + _date_pairs(params)


def _date_pairs(params: dict) -> list[tuple[str, str]]:
    if params.get("last_days"):
        return [("last_days", str(params["last_days"]))]
    return [("last_days", "")] + [(key, params[key]) for key in ("date_from", "date_to") if params.get(key)]


RANGE_CHOICES = [("7", "Last 7 days"), ("14", "Last 14 days"), ("30", "Last 30 days"), ("90", "Last 90 days"),
                 ("180", "Last 180 days"), ("", "Custom dates")]  # fmt: skip


# -- funnels ---------------------------------------------------------------------------------


def funnel_params_from_query(data: QueryDict) -> tuple[dict, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    subjects = data.getlist("step")
    wheres = data.getlist("step_where")  # filters as JSON: links made before the filter rows
    steps = []
    for index, subject in enumerate(subjects[: MAX_STEPS + 1]):
        if not subject:
            continue
        where = wheres[index] if index < len(wheres) else ""
        rows = filter_rows.posted_rows(data, f"step_{index}")
        try:
            spec = spec_from_subject(subject, where if rows is None else "")
            if rows and "name" in spec:
                spec["where"] = filter_rows.where_from_rows(rows)
            steps.append(spec)
        except WhereError as error:
            errors.setdefault(f"steps[{len(steps)}].where", []).append(str(error))
            steps.append({"name": subject[2:] if subject.startswith("e:") else subject})
    params: dict = {
        "steps": steps,
        "within": {"value": data.get("within_value", "14"), "unit": data.get("within_unit", "days")},
        **_dates(data),
    }
    kind = data.get("breakdown", "")
    if kind:
        if kind == "segment":
            params["breakdown"] = {"type": "segment", "segments": _ids(data, "breakdown_segments")}
        elif kind in PROPERTY_BREAKDOWNS:
            params["breakdown"] = {"type": kind, "property": data.get("breakdown_property", "")}
        else:
            params["breakdown"] = {"type": kind}
    return params, errors


def funnel_query_from_params(params: dict) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for index, spec in enumerate(params.get("steps", [])):
        subject, _ = subject_from_spec(spec)
        out.append(("step", subject))
        if isinstance(spec, dict):
            out += filter_rows.query_pairs(spec.get("where"), f"step_{index}")
    within = params.get("within") or {}
    out += [("within_value", str(within.get("value", 14))), ("within_unit", str(within.get("unit", "days")))]
    breakdown = params.get("breakdown") or {}
    if breakdown:
        out.append(("breakdown", breakdown.get("type", "")))
        if breakdown.get("property"):
            out.append(("breakdown_property", breakdown["property"]))
        out += [("breakdown_segments", str(s)) for s in breakdown.get("segments", [])]
    return out + _date_pairs(params)


def funnel_step_rows(
    data: QueryDict | None, params: dict | None
) -> list[tuple[str, list[filter_rows.FilterRow]]]:
    """The step rows a funnel form shows, each with its filter rows and one blank filter row:
    what was asked, then one blank step to add a step."""
    rows: list[tuple[str, list[filter_rows.FilterRow]]]
    if data is not None and data.getlist("step"):
        subjects, wheres = data.getlist("step"), data.getlist("step_where")
        rows = []
        for index, subject in enumerate(subjects):
            if not subject:
                continue
            posted = filter_rows.posted_rows(data, f"step_{index}")
            if posted is None:
                try:
                    posted = filter_rows.rows_from_where(
                        parse_where(wheres[index] if index < len(wheres) else "")
                    )
                except WhereError:
                    posted = []
            rows.append((subject, posted))
    elif params:
        rows = [
            (
                subject_from_spec(spec)[0],
                filter_rows.rows_from_where(spec.get("where") if isinstance(spec, dict) else None),
            )
            for spec in params.get("steps", [])
        ]
    else:
        rows = [("e:$pageview", []), ("", [])]
    if len(rows) < MAX_STEPS:
        rows.append(("", []))
    while len(rows) < 2:
        rows.append(("", []))
    return [(subject, filter_rows.with_blank(filters)) for subject, filters in rows[:MAX_STEPS]]


# -- retention -------------------------------------------------------------------------------


def retention_params_from_query(data: QueryDict) -> tuple[dict, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    params: dict = {
        "period": data.get("period", "week"),
        "periods": data.get("periods", "8"),
        "event": _spec(data, "event", errors, "event", optional=True),
        "segments": _ids(data, "segments"),
        **_dates(data),
    }
    return params, errors


def retention_query_from_params(params: dict) -> list[tuple[str, str]]:
    subject, where = subject_from_spec(params.get("event"))
    out = [
        ("period", params.get("period", "week")),
        ("periods", str(params.get("periods", 8))),
        ("event", subject),
    ]
    if where:
        out.append(("event_where", where))
    out += [("segments", str(s)) for s in params.get("segments", [])]
    return out + _date_pairs(params)


# -- paths -----------------------------------------------------------------------------------


def paths_params_from_query(data: QueryDict) -> tuple[dict, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    if data.get("start_event"):
        start = _spec(data, "start_event", errors, "start")
    else:
        start = {"path": data.get("start_path", "")}
    params: dict = {
        "start": start,
        "direction": data.get("direction", "next"),
        "steps": data.get("steps", "pageviews"),
        "segments": _ids(data, "segments"),
        **_dates(data),
    }
    return params, errors


def paths_query_from_params(params: dict) -> list[tuple[str, str]]:
    start = params.get("start") or {}
    if "path" in start:
        out = [("start_path", start["path"])]
    else:
        subject, where = subject_from_spec(start)
        out = [("start_event", subject)] + ([("start_event_where", where)] if where else [])
    out += [("direction", params.get("direction", "next")), ("steps", params.get("steps", "pageviews"))]
    out += [("segments", str(s)) for s in params.get("segments", [])]
    return out + _date_pairs(params)


PARAMS_FROM_QUERY = {
    "compare": compare_params_from_query,
    "funnel": funnel_params_from_query,
    "retention": retention_params_from_query,
    "paths": paths_params_from_query,
}
QUERY_FROM_PARAMS = {
    "compare": compare_query_from_params,
    "funnel": funnel_query_from_params,
    "retention": retention_query_from_params,
    "paths": paths_query_from_params,
}


def querystring(kind: str, params: dict) -> str:
    switches = [(key, "on") for key in ("include_internal", "include_bots") if params.get(key)]
    return urlencode(QUERY_FROM_PARAMS[kind](params) + switches)


# -- metrics ---------------------------------------------------------------------------------

# which form field shows an error at a definition path (longest prefix wins)
_METRIC_FIELDS = {
    "definition.from.where": "from_where",
    "definition.from": "from_subject",
    "definition.to.where": "to_where",
    "definition.to": "to_subject",
    "definition.within.value": "within_value",
    "definition.within.unit": "within_unit",
    "definition.within": "within_value",
    "definition.event.where": "event_where",
    "definition.event": "event_subject",
    "definition.within_days": "within_days",
    "definition.period": "period",
    "definition.n": "n",
    "definition.days": "days",
    "definition.property": "property",
    "definition.aggregate": "aggregate",
    "definition.per": "per",
    "kind": "kind",
    "name": "name",
    "description": "description",
}
KIND_FIELDS = {
    "conversion": ("from_subject", "from_where", "to_subject", "to_where", "within_value", "within_unit"),
    "activation": ("event_subject", "event_where", "within_days"),
    "retention": ("event_subject", "event_where", "period", "n"),
    "churn": ("days",),
    "value": ("event_subject", "event_where", "property", "aggregate", "per"),
    "frequency": ("event_subject", "event_where"),
}
WHERE_HELP = (
    'Optional property filters as JSON, e.g. [{"property": "plan", "operator": "eq", "value": "pro"}].'
)


class MetricForm(forms.Form):
    """A metric's name, kind, and the fields of its kind's definition (the others are ignored)."""

    name = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs={"placeholder": "Activated in 7 days"})
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(choices=[(k, MetricKind(k).label) for k in KINDS])
    from_subject = forms.CharField(required=False, label="First, people did (A)")
    from_where = forms.CharField(required=False, label="A's property filters", help_text=WHERE_HELP)
    to_subject = forms.CharField(required=False, label="Then they did (B)")
    to_where = forms.CharField(required=False, label="B's property filters", help_text=WHERE_HELP)
    within_value = forms.IntegerField(required=False, initial=7, label="Within")
    within_unit = forms.ChoiceField(
        required=False, choices=[(u, u) for u in UNITS], initial="days", label="Unit"
    )
    event_subject = forms.CharField(required=False, label="Event or action")
    event_where = forms.CharField(required=False, label="Property filters", help_text=WHERE_HELP)
    within_days = forms.IntegerField(required=False, initial=7, label="Within days of first being seen")
    period = forms.ChoiceField(
        required=False, choices=[(p, p) for p in PERIODS], initial="week", label="Period"
    )
    n = forms.IntegerField(
        required=False,
        initial=1,
        label="Period number (N)",
        help_text="1 = the week (or day) after the first.",
    )
    days = forms.IntegerField(required=False, initial=14, label="Days without activity")
    property = forms.CharField(
        required=False,
        label="Numeric event property",
        widget=forms.TextInput(attrs={"placeholder": "amount"}),
    )
    aggregate = forms.ChoiceField(
        required=False, choices=[("sum", "total per person"), ("avg", "average per event")], initial="sum"
    )
    per = forms.ChoiceField(
        required=False,
        choices=[("active", "every active person (0 if none)"), ("performer", "persons who did the event")],
        initial="active",
        label="Over",
    )

    def definition(self) -> tuple[str, Any, dict[str, list[str]]]:
        """(kind, definition JSON, errors of the form's own making) from cleaned data."""
        data = self.cleaned_data
        kind = data.get("kind") or ""
        errors: dict[str, list[str]] = {}

        def spec(prefix: str, *, optional: bool = False) -> Any:
            subject = data.get(f"{prefix}_subject") or ""
            if optional and subject in ("", "*"):
                return None
            try:
                return spec_from_subject(subject, data.get(f"{prefix}_where") or "")
            except WhereError as error:
                errors.setdefault(f"{prefix}_where", []).append(str(error))
                return {"name": subject[2:] if subject.startswith("e:") else subject}

        def number(key: str) -> Any:
            return data.get(key) if data.get(key) is not None else self.data.get(key)

        definition: dict[str, Any]
        if kind == "conversion":
            definition = {"from": spec("from"), "to": spec("to"),
                          "within": {"value": number("within_value"), "unit": data.get("within_unit") or "days"}}  # fmt: skip
        elif kind == "activation":
            definition = {"event": spec("event"), "within_days": number("within_days")}
        elif kind == "retention":
            definition = {
                "event": spec("event", optional=True),
                "period": data.get("period") or "week",
                "n": number("n"),
            }
        elif kind == "churn":
            definition = {"days": number("days")}
        elif kind == "value":
            definition = {"event": spec("event"), "property": data.get("property") or "",
                          "aggregate": data.get("aggregate") or "sum", "per": data.get("per") or "active"}  # fmt: skip
        else:
            definition = {"event": spec("event", optional=True)}
        return kind, definition, errors

    def add_param_errors(self, errors: dict[str, list[str]]) -> None:
        for path, messages in errors.items():
            target = next(
                (
                    f
                    for p, f in sorted(_METRIC_FIELDS.items(), key=lambda i: -len(i[0]))
                    if path.startswith(p)
                ),
                None,
            )
            for message in messages:
                detail = (
                    path.split(".", 1)[1]
                    if "." in path and target in (None, "from_where", "to_where", "event_where")
                    else ""
                )
                self.add_error(target, f"{detail}: {message}" if detail and target is None else message)


def metric_initial(metric: Any) -> dict:
    """A stored metric as the form's initial data."""
    d = metric.definition or {}
    initial: dict[str, Any] = {"name": metric.name, "description": metric.description, "kind": metric.kind}
    for key in ("from", "to", "event"):
        if key in d:
            subject, where = subject_from_spec(d[key])
            initial[f"{key}_subject"] = subject or ("*" if key == "event" else "")
            initial[f"{key}_where"] = where
    within = d.get("within") or {}
    if within:
        initial.update(within_value=within.get("value"), within_unit=within.get("unit"))
    for key in ("within_days", "period", "n", "days", "property", "aggregate", "per"):
        if key in d:
            initial[key] = d[key]
    return initial
