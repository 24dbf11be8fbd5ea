"""The events explorer's query parameters, from the page's form or `GET …/trends/`, checked.

Every problem is reported under the parameter that has it, so the page shows
them beside the form and the API answers one 400 naming them all.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from django import forms

from analysis.trends import (
    BREAKDOWNS,
    INTERVALS,
    MAX_BUCKETS,
    PROPERTY_BREAKDOWNS,
    Breakdown,
    TrendQuery,
    bucket_starts,
    default_range,
)
from tracking.models import Action, Project
from tracking.properties import OPERATORS, FilterError, validate_filter
from tracking.traffic.filtering import TrafficFilter

BREAKDOWN_CHOICES = [
    ("", "No breakdown"),
    ("browser", "Browser"),
    ("os", "OS"),
    ("device_type", "Device"),
    ("country", "Country"),
    ("path", "URL path"),
    ("person", "Person property…"),
    ("company", "Company property…"),
    ("event", "Event property…"),
]
MAX_RANGE_DAYS = 3660
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


def _value_from_text(operator: str, text: str) -> Any:
    """A value typed in the explorer's single filter row, as the filter expects it."""
    if operator in ("in", "not_in"):
        return [part.strip() for part in text.split(",") if part.strip()]
    if operator in ("gt", "gte", "lt", "lte") and re.fullmatch(r"-?\d+(\.\d+)?", text.strip()):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return text


class TrendForm(forms.Form):
    """Query parameters of the explorer page and of `GET …/trends/`; errors are keyed by parameter."""

    event = forms.CharField(required=False, max_length=200)
    action = forms.CharField(required=False, max_length=20)
    # the page's single picker: "e:<event name>" or "a:<action id>"
    subject = forms.CharField(required=False, max_length=220)
    date_from = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    date_to = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    interval = forms.CharField(required=False)
    breakdown = forms.CharField(required=False, max_length=250)
    breakdown_property = forms.CharField(required=False, max_length=200)
    filters = forms.CharField(required=False, max_length=20000)
    # the page's single filter row, folded into `filters`
    filter_property = forms.CharField(required=False, max_length=200)
    filter_operator = forms.CharField(required=False)
    filter_value = forms.CharField(required=False, max_length=1000)
    include_internal = forms.BooleanField(required=False)
    include_bots = forms.BooleanField(required=False)

    def __init__(self, data: Any, *, project: Project, default_event: str | None = None) -> None:
        super().__init__(data)
        self.project = project
        self.default_event = default_event

    def _project_action(self, value: str) -> Action:
        if not value.isdecimal():
            raise forms.ValidationError("must be the id of an action")
        action = (
            Action.objects.filter(project=self.project, pk=int(value)).first() if len(value) < 19 else None
        )
        if action is None:
            raise forms.ValidationError("no such action in this project")
        return action

    def _in_range(self, name: str) -> date | None:
        value = self.cleaned_data[name]
        if value is not None and not (FIRST_DAY <= value <= LAST_DAY):
            raise forms.ValidationError(f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}")
        return value

    def clean_date_from(self) -> date | None:
        return self._in_range("date_from")

    def clean_date_to(self) -> date | None:
        return self._in_range("date_to")

    def clean_action(self) -> Action | None:
        value = self.cleaned_data["action"].strip()
        return self._project_action(value) if value else None

    def clean_subject(self) -> tuple[str, Any] | None:
        value = self.cleaned_data["subject"]
        if not value:
            return None
        kind, _, rest = value.partition(":")
        if kind == "a":
            return ("action", self._project_action(rest))
        if kind == "e" and rest.strip():
            return ("event", rest.strip())
        raise forms.ValidationError("pick an event or an action")

    def clean_interval(self) -> str:
        value = self.cleaned_data["interval"] or "day"
        if value not in INTERVALS:
            raise forms.ValidationError(f"must be one of {', '.join(INTERVALS)}")
        return value

    def clean_breakdown(self) -> Breakdown | None:
        value = self.cleaned_data["breakdown"].strip()
        if not value:
            return None
        kind, sep, prop = value.partition(":")
        if not sep and kind in PROPERTY_BREAKDOWNS:
            prop = (self.data.get("breakdown_property") or "").strip()
            if not prop:
                raise forms.ValidationError(f"name the {kind} property to break down by")
        if kind not in BREAKDOWNS:
            raise forms.ValidationError(
                "must be one of browser, os, device_type, country, path, person:<property>, "
                "company:<property>, event:<property>"
            )
        if kind in PROPERTY_BREAKDOWNS:
            prop = prop.strip()
            if not prop:
                raise forms.ValidationError(f"name the property: {kind}:<property>")
            return Breakdown(kind, prop)
        if sep:
            raise forms.ValidationError(f"{kind} takes no property")
        return Breakdown(kind)

    def clean_filters(self) -> list[dict]:
        raw = self.cleaned_data["filters"].strip()
        filters: list = []
        if raw:
            try:
                filters = json.loads(raw)
            except json.JSONDecodeError as error:
                raise forms.ValidationError(f"not valid JSON ({error.msg})") from None
            if not isinstance(filters, list):
                raise forms.ValidationError("must be a JSON list of {property, operator, value} filters")
        cleaned = []
        for index, flt in enumerate(filters):
            if (
                not isinstance(flt, dict)
                or not isinstance(flt.get("property"), str)
                or not flt["property"].strip()
            ):
                raise forms.ValidationError(f"filter {index + 1} needs a property name")
            operator = flt.get("operator", "eq")
            try:
                validate_filter(operator, flt.get("value"))
            except FilterError as error:
                raise forms.ValidationError(f"filter {index + 1}: {error}") from None
            cleaned.append(
                {"property": flt["property"].strip(), "operator": operator, "value": flt.get("value")}
            )
        return cleaned

    def clean(self) -> dict:
        cleaned = super().clean()
        # each part is checked when its own fields are valid, so one response names every problem
        if not any(
            name in self.errors for name in ("filters", "filter_property", "filter_operator", "filter_value")
        ):
            self._fold_filter_row(cleaned)
        if not any(name in self.errors for name in ("event", "action", "subject")):
            self._pick_subject(cleaned)
        if not any(name in self.errors for name in ("date_from", "date_to", "interval")):
            self._fill_range(cleaned)
        return cleaned

    def _fold_filter_row(self, cleaned: dict) -> None:
        prop = cleaned.get("filter_property", "").strip()
        if not prop:
            return
        operator = cleaned.get("filter_operator") or "eq"
        value = (
            None
            if operator in ("is_set", "is_not_set")
            else _value_from_text(operator, cleaned.get("filter_value", ""))
        )
        try:
            validate_filter(operator, value)
        except FilterError as error:
            self.add_error("filter_value" if operator in OPERATORS else "filter_operator", str(error))
            return
        cleaned["filters"] = [
            *cleaned.get("filters", []),
            {"property": prop, "operator": operator, "value": value},
        ]

    def _pick_subject(self, cleaned: dict) -> None:
        event = cleaned.get("event", "").strip()
        action = cleaned.get("action")
        if not event and not action and cleaned.get("subject"):
            kind, value = cleaned["subject"]
            if kind == "action":
                action = cleaned["action"] = value
            else:
                event = cleaned["event"] = value
        if event and action:
            self.add_error("action", "give an event or an action, not both")
        elif not event and not action:
            if self.default_event:
                cleaned["event"] = self.default_event
            else:
                self.add_error("event", "give an event name (event=…) or an action id (action=…)")

    def _fill_range(self, cleaned: dict) -> None:
        default_from, default_to = default_range(project=self.project)
        date_from = cleaned.get("date_from") or (
            cleaned["date_to"] - timedelta(days=29) if cleaned.get("date_to") else default_from
        )
        date_to = cleaned.get("date_to") or max(default_to, date_from)
        cleaned["date_from"], cleaned["date_to"] = date_from, date_to
        if date_from > date_to:
            self.add_error("date_from", "must not be after date_to")
        elif (date_to - date_from).days > MAX_RANGE_DAYS:
            self.add_error("date_from", f"the range may span at most {MAX_RANGE_DAYS} days")
        elif len(bucket_starts(date_from, date_to, cleaned["interval"])) > MAX_BUCKETS:
            self.add_error(
                "interval",
                f"{cleaned['interval']} gives more than {MAX_BUCKETS} points for this range; pick a longer interval",
            )

    def query(self) -> TrendQuery:
        data = self.cleaned_data
        return TrendQuery(
            date_from=data["date_from"],
            date_to=data["date_to"],
            interval=data["interval"],
            event=None if data.get("action") else (data.get("event") or "").strip(),
            action=data.get("action"),
            breakdown=data.get("breakdown"),
            filters=tuple(data.get("filters") or ()),
            traffic=TrafficFilter(
                include_internal=bool(data.get("include_internal")),
                include_bots=bool(data.get("include_bots")),
            ),
        )

    def error_dict(self) -> dict[str, list[str]]:
        """Errors keyed by query parameter (the UI-only filter row reports as `filters`)."""
        out: dict[str, list[str]] = {}
        for name, errors in self.errors.items():
            key = (
                "filters"
                if name.startswith("filter_")
                else ("breakdown" if name == "breakdown_property" else name)
            )
            out.setdefault(key if key != "__all__" else "detail", []).extend(errors)
        return out


class TrendParamError(ValueError):
    """Parameters that were valid when asked for no longer are (the action was deleted…)."""


def trend_query_from_json(*, project: Project, params: dict) -> TrendQuery:
    """The query `TrendQuery.to_json` described, checked again: what it names may be gone since."""
    data = {
        "event": params.get("event") or "",
        "action": str(params["action"]) if params.get("action") is not None else "",
        "date_from": params.get("date_from") or "",
        "date_to": params.get("date_to") or "",
        "interval": params.get("interval") or "",
        "breakdown": params.get("breakdown") or "",
        "filters": json.dumps(params.get("filters") or []),
        "include_internal": bool(params.get("include_internal")),
        "include_bots": bool(params.get("include_bots")),
    }
    form = TrendForm(data, project=project)
    if not form.is_valid():
        raise TrendParamError(
            "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.error_dict().items())
        )
    return form.query()
