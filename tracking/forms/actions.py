"""Forms of the action builder and of the events explorer (also used by their REST endpoints)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from django import forms
from django.http import QueryDict

from tracking.matching.actions import DEFAULT_MATCHING, MAX_STEPS, ActionError, validate_steps
from tracking.models import Action, Project
from tracking.properties import OPERATORS, FilterError, validate_filter
from tracking.selectors.trends import (
    BREAKDOWNS,
    INTERVALS,
    MAX_BUCKETS,
    PROPERTY_BREAKDOWNS,
    Breakdown,
    TrendQuery,
    bucket_starts,
    default_range,
)
from tracking.traffic.filtering import TrafficFilter

MATCHING_CHOICES = [("exact", "equals"), ("contains", "contains"), ("regex", "matches regex")]
_STEP_PATH = re.compile(r"^steps\[(\d+)\](?:\.([a-z_]+))?")
_FILTER_PATH = re.compile(r"^\[(\d+)\]\.([a-z_]+)$")


class ActionForm(forms.Form):
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"placeholder": "Clicked sign-up"}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StepForm(forms.Form):
    """One step; every field is optional here, `validate_steps` decides what a step needs."""

    event = forms.CharField(
        required=False,
        max_length=200,
        label="Event",
        help_text="$autocapture for clicks, $pageview for pages, or a custom event name.",
        widget=forms.TextInput(attrs={"list": "event-names", "placeholder": "$autocapture"}),
    )
    selector = forms.CharField(
        required=False,
        max_length=1000,
        label="CSS selector",
        help_text="Matches the clicked element or any element around it, e.g. #signup or form > button.primary.",
        widget=forms.TextInput(attrs={"placeholder": "button.primary", "spellcheck": "false"}),
    )
    text = forms.CharField(required=False, max_length=1000, label="Element text")
    text_matching = forms.ChoiceField(choices=MATCHING_CHOICES, initial="exact", required=False, label="Text")
    href = forms.CharField(required=False, max_length=1000, label="Link target (href)")
    href_matching = forms.ChoiceField(choices=MATCHING_CHOICES, initial="exact", required=False, label="Link")
    url = forms.CharField(required=False, max_length=1000, label="Page URL")
    url_matching = forms.ChoiceField(
        choices=MATCHING_CHOICES, initial="contains", required=False, label="URL"
    )
    properties = forms.CharField(
        required=False,
        label="Event properties",
        help_text='A JSON list of filters, e.g. [{"property": "plan", "operator": "eq", "value": "pro"}].',
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
    )

    def raw_step(self) -> dict:
        """What was typed, as a wire step (before `validate_steps`)."""
        source = getattr(self, "cleaned_data", {})
        step: dict[str, Any] = {}
        for key in ("event", "selector", "text", "href", "url"):
            value = (source.get(key) or "").strip()
            if value:
                step[key] = value
                if key in DEFAULT_MATCHING:
                    step[f"{key}_matching"] = source.get(f"{key}_matching") or DEFAULT_MATCHING[key]
        raw = (source.get("properties") or "").strip()
        if raw:
            try:
                step["properties"] = json.loads(raw)
            except json.JSONDecodeError as error:
                self.add_error("properties", f"not valid JSON ({error.msg} at character {error.pos + 1})")
        return step


def step_initial(step: dict) -> dict:
    """A stored step as form initial data."""
    initial = {key: step.get(key, "") for key in ("event", "selector", "text", "href", "url")}
    for key, default in DEFAULT_MATCHING.items():
        initial[f"{key}_matching"] = step.get(f"{key}_matching") or default
    if step.get("properties"):
        initial["properties"] = json.dumps(step["properties"], ensure_ascii=False)
    return initial


class ActionBuilder:
    """The builder's name/description form and its step forms, bound to POST or from initial data.

    Steps are posted as `steps-<i>-<field>` with `steps-count`; the intents
    `add_step` and `remove_step:<i>` re-render the steps without validating them.
    """

    def __init__(
        self, data: QueryDict | None = None, *, action: Action | None = None, initial_steps=None, initial=None
    ):
        self.data = data
        if data is not None:
            count = _count(data.get("steps-count"))
            self.form = ActionForm(data)
            self.steps = [StepForm(data, prefix=f"steps-{i}") for i in range(count)]
        else:
            steps = initial_steps if initial_steps is not None else (action.steps if action else [{}])
            base = initial or ({"name": action.name, "description": action.description} if action else {})
            self.form = ActionForm(initial=base)
            self.steps = [
                StepForm(initial=step_initial(s), prefix=f"steps-{i}") for i, s in enumerate(steps or [{}])
            ]
        self.cleaned_steps: list[dict] = []

    @classmethod
    def rearranged(cls, data: QueryDict, intent: str) -> ActionBuilder:
        """Add an empty step, or remove one, keeping what was typed in the others (unvalidated)."""
        count = _count(data.get("steps-count"))
        fields = list(StepForm.base_fields)
        steps = [{f: data.get(f"steps-{i}-{f}", "") for f in fields} for i in range(count)]
        if intent == "add_step" and len(steps) < MAX_STEPS:
            steps.append({})
        elif intent.startswith("remove_step:"):
            index = intent.partition(":")[2]
            if index.isdecimal() and int(index) < len(steps) and len(steps) > 1:
                del steps[int(index)]
        builder = cls(
            initial_steps=[],
            initial={"name": data.get("name", ""), "description": data.get("description", "")},
        )
        builder.steps = [StepForm(initial=s, prefix=f"steps-{i}") for i, s in enumerate(steps or [{}])]
        return builder

    def validate_steps(self, *, check_regex: bool = True) -> bool:
        """Validate only the steps (for the live preview); errors land on the step fields."""
        if self.data is None:
            return False  # an unbound builder shows initial data; there is nothing typed to check
        raw_steps = []
        for form in self.steps:
            form.is_valid()
            raw_steps.append(form.raw_step())
        broken = {i for i, form in enumerate(self.steps) if form.errors}
        try:
            self.cleaned_steps = validate_steps(raw_steps, check_regex=check_regex)
        except ActionError as error:
            # a step whose own form failed (bad JSON…) already says why; do not pile on
            self.add_errors(
                {path: message for path, message in error.errors.items() if _step_index(path) not in broken}
            )
            return False
        return not broken

    def is_valid(self) -> bool:
        form_ok = self.form.is_valid()
        return self.validate_steps() and form_ok

    def add_errors(self, errors: dict[str, Any]) -> None:
        """Errors keyed like the API's (`name`, `steps[1].selector`, `steps[0].properties[2].value`)."""
        for path, messages in errors.items():
            messages = messages if isinstance(messages, list) else [messages]
            match = _STEP_PATH.match(path)
            if match and int(match.group(1)) < len(self.steps):
                form = self.steps[int(match.group(1))]
                field = match.group(2)
                target = field if field in form.fields else None
                where = _FILTER_PATH.match(path[match.end() :])
                for message in messages:
                    if where and target == "properties":
                        message = f"filter {int(where.group(1)) + 1}, {where.group(2)}: {message}"
                    form.add_error(target, message)
            elif path in self.form.fields:
                for message in messages:
                    self.form.add_error(path, message)
            else:
                for message in messages:
                    self.form.add_error(None, message)

    @property
    def step_errors(self) -> list[tuple[str, str]]:
        """(where, why) for every step error: ("Step 2 · CSS selector", "unsupported … at position 7")."""
        out = []
        for index, form in enumerate(self.steps, start=1):
            for name, errors in form.errors.items():
                where = f"Step {index}"
                if name in form.fields:
                    where += f" · {form.fields[name].label}"
                out += [(where, str(error)) for error in errors]
        return out

    @property
    def count(self) -> int:
        return len(self.steps)


def _step_index(path: str) -> int | None:
    match = _STEP_PATH.match(path)
    return int(match.group(1)) if match else None


def _count(value: Any) -> int:
    try:
        count = int(value)
    except (TypeError, ValueError):
        return 1
    return min(max(count, 1), MAX_STEPS)


# -- events explorer -----------------------------------------------------------------

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
