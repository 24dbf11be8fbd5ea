"""Pieces every intervention form shares: service errors on fields, goal and targeting fields, row editors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from interventions.models import Nudge, Survey, UrlMatching
from interventions.selectors import segment_groups
from tracking.models import Action, Project
from web.forms import apply_service_errors

MAX_ROWS = 30
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

_ROW_KEY = re.compile(r"^(?P<list>questions|variants|rules)\[(?P<index>\d+)\](?:\.(?P<field>\w+))?")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


def number_input(minimum: int, maximum: int | None = None) -> forms.NumberInput:
    attrs = {"min": minimum, "class": "narrow-number"}
    if maximum is not None:
        attrs["max"] = maximum
    return forms.NumberInput(attrs=attrs)


# -- errors from the services -----------------------------------------------------------------------

GOAL_FIELDS = {
    "goal": "goal_source",
    "goal.event": "goal_event",
    "goal.event.name": "goal_event",
    "goal.event.action": "goal_action",
    "goal.within_days": "goal_days",
}


def field_for(key: str, form: forms.Form) -> str | None:
    if key in GOAL_FIELDS:
        return GOAL_FIELDS[key]
    if key.startswith("goal.event.where"):
        return "goal_event"
    return key if key in form.fields else None


def apply_intervention_errors(
    form: forms.Form, error: ValidationError, editors: tuple[RowEditor, ...] = ()
) -> None:
    """Attach a service's ValidationError to the form's fields and the editors' rows; the rest goes on top."""

    def on_editor(key: str, message: str) -> bool:
        match = _ROW_KEY.match(key)
        editor = next((e for e in editors if match and e.name == match["list"]), None)
        if editor is not None and match is not None:
            editor.add_error(int(match["index"]), match["field"] or "row", message)
            return True
        whole = next((e for e in editors if e.name == key), None)
        if whole is not None and field_for(key, form) is None:
            whole.errors_on_top.append(message)
            return True
        return False

    apply_service_errors(form, error, field_for=lambda key: field_for(key, form), place=on_editor)


# -- shared field groups ----------------------------------------------------------------------------


class ProjectForm(forms.Form):
    def __init__(self, *args: Any, project: Project, **kwargs: Any):
        self.project = project
        super().__init__(*args, **kwargs)


class GoalFields(ProjectForm):
    """The goal: did an event (or an action) within N days of first exposure."""

    goal_source = forms.ChoiceField(
        label="Goal is", choices=[("none", "No goal yet"), ("event", "An event"), ("action", "An action")],
        initial="none", widget=forms.RadioSelect,
    )  # fmt: skip
    goal_event = forms.CharField(
        label="Goal event",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"list": "event-names", "placeholder": "e.g. upgraded"}),
    )
    goal_action = forms.TypedChoiceField(label="Goal action", required=False, coerce=int, empty_value=None)
    goal_days = forms.IntegerField(
        label="Within (days)", required=False, initial=7, widget=number_input(1, 365),
        help_text="Counted from each person's first exposure (or from being held out).",
    )  # fmt: skip
    # property filters of a goal made through the API, kept as they are
    goal_where = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["goal_action"].choices = [("", "— choose —")] + [
            (a.pk, a.name) for a in Action.objects.filter(project=self.project).order_by("name")
        ]

    def clean(self) -> dict:
        data = super().clean()
        source = data.get("goal_source")
        if source == "event" and not (data.get("goal_event") or "").strip():
            self.add_error("goal_event", "Name the event people should do, e.g. upgraded.")
        if source == "action" and not data.get("goal_action"):
            self.add_error("goal_action", "Pick the action people should do.")
        return data

    def goal(self) -> dict:
        data = self.cleaned_data
        source = data.get("goal_source")
        if source not in ("event", "action"):
            return {}
        days = data.get("goal_days")
        within = 7 if days is None else days
        if source == "action":
            return {"event": {"action": data.get("goal_action")}, "within_days": within}
        try:
            where = json.loads(data.get("goal_where") or "[]")
        except ValueError:
            where = []
        return {
            "event": {
                "name": (data.get("goal_event") or "").strip(),
                "where": where if isinstance(where, list) else [],
            },
            "within_days": within,
        }


def goal_initial(goal: dict | None) -> dict:
    if not goal or not isinstance(goal.get("event"), dict):
        return {"goal_source": "none", "goal_days": 7}
    event = goal["event"]
    initial: dict[str, Any] = {"goal_days": goal.get("within_days", 7)}
    if "action" in event:
        initial.update(goal_source="action", goal_action=event["action"])
    else:
        initial.update(goal_source="event", goal_event=event.get("name", ""))
        if event.get("where"):
            initial["goal_where"] = json.dumps(event["where"])
    return initial


class TargetingFields(GoalFields):
    """Who and where: segments, page URL, schedule, holdout — shared by nudges and surveys."""

    name = forms.CharField(max_length=200, help_text="For your team; visitors never see it.")
    segments = forms.TypedMultipleChoiceField(
        label="Target segments", required=False, coerce=int,
        help_text="People in any of them are eligible. None chosen: everyone.",
    )  # fmt: skip
    url_matching = forms.ChoiceField(label="Page", choices=UrlMatching.choices, initial=UrlMatching.CONTAINS)
    url = forms.CharField(label="Page URL", required=False, max_length=500, widget=forms.TextInput(attrs={"placeholder": "/pricing"}),
                          help_text="Empty: every page.")  # fmt: skip
    starts_at = forms.DateTimeField(
        label="Starts", required=False, widget=DateTimeLocalInput(), help_text="Empty: as soon as it is live."
    )
    ends_at = forms.DateTimeField(
        label="Ends", required=False, widget=DateTimeLocalInput(), help_text="Empty: until you end it."
    )
    holdout_percent = forms.IntegerField(
        label="Holdout (%)", initial=10, widget=number_input(0, 90),
        help_text="Eligible people kept out on purpose, so the results can compare them with those who saw it.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.segment_groups = segment_groups(project=self.project)
        self.fields["segments"].choices = [(s.pk, s.name) for g in self.segment_groups for s in g.segments]

    def chosen_segments(self) -> set[int]:
        values = self["segments"].value() or []
        return {int(v) for v in values if str(v).isdecimal()}

    def targeting(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"], "segments": list(data.get("segments") or []), "url_matching": data["url_matching"],
            "url": data.get("url", "").strip(), "starts_at": data.get("starts_at"), "ends_at": data.get("ends_at"),
            "holdout_percent": data["holdout_percent"], "goal": self.goal(),
        }  # fmt: skip


def targeting_initial(obj: Nudge | Survey) -> dict:
    return {
        "name": obj.name, "segments": [s.pk for s in obj.segments.all()], "url_matching": obj.url_matching, "url": obj.url,
        "starts_at": obj.starts_at, "ends_at": obj.ends_at, "holdout_percent": obj.holdout_percent, **goal_initial(obj.goal),
    }  # fmt: skip


# -- editable lists of rows (survey questions, flag variants and rules) -----------------------------


@dataclass
class RowEditor:
    """A list of rows posted as `<prefix><i>-<field>` with `<prefix>-count`, edited by `op` buttons.

    Without JavaScript each button posts the whole page and gets it back with the
    change; with htmx only the editor is swapped.
    """

    name: str
    prefix: str
    fields: tuple[str, ...]
    rows: list[dict[str, str]] = field(default_factory=list)
    errors: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    errors_on_top: list[str] = field(default_factory=list)

    @classmethod
    def from_post(cls, data: Any, *, name: str, prefix: str, fields: tuple[str, ...]) -> RowEditor:
        raw = str(data.get(f"{prefix}-count", "0"))
        count = min(int(raw), MAX_ROWS) if raw.isdecimal() else 0
        rows = [{f: str(data.get(f"{prefix}{i}-{f}", "")) for f in fields} for i in range(count)]
        return cls(name=name, prefix=prefix, fields=fields, rows=rows)

    def edit(self, op: str, blank: dict[str, str]) -> bool:
        """Apply `add`, `remove:i`, `up:i` or `down:i`; False when `op` is none of them."""
        verb, _, arg = op.partition(":")
        if verb not in ("add", "remove", "up", "down"):
            return False
        index = int(arg) if arg.isdecimal() else -1
        if verb == "add" and len(self.rows) < MAX_ROWS:
            self.rows.append({f: blank.get(f, "") for f in self.fields})
        elif verb == "remove" and 0 <= index < len(self.rows):
            del self.rows[index]
        elif verb == "up" and 0 < index < len(self.rows):
            self.rows[index - 1], self.rows[index] = self.rows[index], self.rows[index - 1]
        elif verb == "down" and 0 <= index < len(self.rows) - 1:
            self.rows[index + 1], self.rows[index] = self.rows[index], self.rows[index + 1]
        return True

    def add_error(self, index: int, field_name: str, message: str) -> None:
        self.errors.setdefault(index, {}).setdefault(field_name, []).append(message)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.errors_on_top)

    def items(self) -> list[tuple[int, dict[str, str], dict[str, list[str]]]]:
        return [(i, row, self.errors.get(i, {})) for i, row in enumerate(self.rows)]


QUESTION_FIELDS = ("key", "type", "prompt", "choices", "scale")
VARIANT_FIELDS = ("key", "weight")
RULE_FIELDS = ("segment", "rollout")


def number_or_text(value: str) -> Any:
    """`"50"` -> 50, `"12.5"` -> 12.5; anything else stays text for the service to name."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number == int(number) else number


def unique_key(base: str, taken: set[str]) -> str:
    key, n = base, 2
    while key in taken:
        key = f"{base[:95]}_{n}"
        n += 1
    return key


STATUS_CHOICES = ("live", "paused", "ended")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(s, s) for s in STATUS_CHOICES])
