"""Forms of the segment pages. The definition tree itself lives in `segments.builder`."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from segments.lifecycle import LifecycleParameters
from segments.models import Persona, Segment, SegmentKind
from segments.selectors.breakdowns import PROPERTY_DIMENSIONS, SESSION_DIMENSIONS
from tracking.models import Action, Project

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_CUSTOM_GROUPS = 12


class SegmentForm(forms.Form):
    name = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs={"placeholder": "Activated this month"})
    )
    description = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Who they are, and why we watch them."}),
    )


class UploadForm(forms.Form):
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"placeholder": "Beta testers"}))
    file = forms.FileField(
        label="CSV file",
        help_text="One distinct id or e-mail address per line (the first column; a header row is skipped). UTF-8, at most 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        return upload


class FreezeForm(forms.Form):
    name = forms.CharField(
        max_length=200, help_text="The static copy keeps today's members; it never changes afterwards."
    )


class EventSpecMixin(forms.Form):
    """An event spec picked by name or by action: `event_source`, `event_name`, `event_action`."""

    event_source = forms.ChoiceField(
        choices=[("event", "An event"), ("action", "An action")],
        initial="event",
        widget=forms.RadioSelect,
        label="Core action is",
    )
    event_name = forms.CharField(
        required=False,
        max_length=200,
        label="Event name",
        widget=forms.TextInput(attrs={"list": "event-names"}),
    )
    event_action = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Action")

    def __init__(self, *args: Any, project: Project, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["event_action"].choices = [("", "—")] + [
            (a.pk, a.name) for a in Action.objects.filter(project=project).order_by("name")
        ]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("event_source") == "action":
            if not data.get("event_action") and "event_action" not in self.errors:
                self.add_error("event_action", "Pick an action.")
        elif not (data.get("event_name") or "").strip():
            self.add_error("event_name", "Name the event, e.g. created_project.")
        return data

    def event_spec(self) -> dict:
        """The picked event as a definition's event spec (after validation)."""
        data = self.cleaned_data
        if data.get("event_source") == "action":
            return {"action": data["event_action"]}
        return {"name": data["event_name"].strip(), "where": []}


def _days(label: str, default: int, help_text: str, maximum: int = 3650) -> forms.IntegerField:
    return forms.IntegerField(
        min_value=1, max_value=maximum, initial=default, label=label, help_text=help_text
    )


_DEFAULTS = LifecycleParameters(core_event={})


class LifecycleForm(EventSpecMixin):
    name = forms.CharField(max_length=150, initial="Lifecycle")
    new_days = _days("New for", _DEFAULTS.new_days, "Days since first seen that count as new.")
    active_days = _days(
        "Activated window", _DEFAULTS.active_days, "Did the core action within this many days."
    )
    power_active_days = _days(
        "Power: active days",
        _DEFAULTS.power_active_days,
        "Active on at least this many of the last 28 days…",
        28,
    )
    power_core_count = _days(
        "Power: core actions",
        _DEFAULTS.power_core_count,
        "…and did the core action this often in those 28 days.",
    )
    dormant_days = _days("Dormant after", _DEFAULTS.dormant_days, "Days without any activity.")

    field_order = ["name", "event_source", "event_name", "event_action"]

    def parameters(self) -> LifecycleParameters:
        data = self.cleaned_data
        return LifecycleParameters(
            core_event=self.event_spec(),
            new_days=data["new_days"],
            active_days=data["active_days"],
            power_active_days=data["power_active_days"],
            power_core_count=data["power_core_count"],
            dormant_days=data["dormant_days"],
        )


class CustomModelForm(forms.Form):
    """A custom model: a name and ordered groups, each copied from a segment or written as JSON."""

    name = forms.CharField(max_length=150)
    remainder_name = forms.CharField(
        max_length=40, initial="Everyone else", label="Name of the last group (everyone else)"
    )

    def __init__(self, data: Any = None, *, project: Project, rows: int = 3, initial: dict | None = None):
        super().__init__(data, initial=initial)
        self.project = project
        self.segments = list(
            Segment.objects.filter(project=project, model__isnull=True)
            .order_by("name")
            .only("pk", "name", "kind", "definition")
        )
        if data is not None:
            rows = _int(data.get("groups-count"), rows)
        rows = max(1, min(MAX_CUSTOM_GROUPS, rows))
        choices = [("", "— write the rule as JSON —")] + [(s.pk, s.name) for s in self.segments]
        for i in range(rows):
            self.fields[f"group{i}_name"] = forms.CharField(required=False, max_length=120, label="Name")
            self.fields[f"group{i}_segment"] = forms.TypedChoiceField(
                required=False, coerce=int, empty_value=None, choices=choices, label="Same rule as"
            )
            self.fields[f"group{i}_definition"] = forms.CharField(
                required=False,
                label="Rule (JSON)",
                widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
            )
        self.rows = rows

    def group_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"group{i}_name"], self[f"group{i}_segment"], self[f"group{i}_definition"])
            for i in range(self.rows)
        ]

    def groups(self) -> list[tuple[str, dict]]:
        """(name, rule) for each filled-in row; errors are added to the row's fields."""
        by_pk = {s.pk: s for s in self.segments}
        out: list[tuple[str, dict]] = []
        for i in range(self.rows):
            name = (self.cleaned_data.get(f"group{i}_name") or "").strip()
            segment_id = self.cleaned_data.get(f"group{i}_segment")
            text = (self.cleaned_data.get(f"group{i}_definition") or "").strip()
            if not (name or segment_id or text):
                continue
            if not name:
                self.add_error(f"group{i}_name", "Name the group.")
                continue
            if segment_id:
                source = by_pk[segment_id]
                rule = (
                    source.definition
                    if source.kind == SegmentKind.DYNAMIC
                    else {"match": "all", "conditions": [{"type": "segment", "segment": source.pk}]}
                )
            elif text:
                try:
                    rule = json.loads(text)
                except ValueError as error:
                    self.add_error(f"group{i}_definition", f"Not JSON: {error}")
                    continue
            else:
                self.add_error(
                    f"group{i}_segment", "Pick a segment to copy the rule from, or write it as JSON."
                )
                continue
            out.append((name, rule))
        if not out and not self.errors:
            self.add_error(None, "Add at least one group.")
        return out

    def row_of(self, key: str) -> str | None:
        """The form field for a service error such as `groups[1].definition.conditions[0].type`."""
        match = re.match(r"^groups\[(\d+)\]", key)
        if not match:
            return None
        # service positions count only filled-in rows
        filled = [i for i in range(self.rows) if (self.cleaned_data.get(f"group{i}_name") or "").strip()]
        position = int(match.group(1))
        if position >= len(filled):
            return None
        i = filled[position]
        return f"group{i}_segment" if self.cleaned_data.get(f"group{i}_segment") else f"group{i}_definition"


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class PersonaForm(forms.ModelForm):
    class Meta:
        model = Persona
        fields = ["name", "summary", "segment", "goals", "frustrations", "quotes"]
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 3}),
            "frustrations": forms.Textarea(attrs={"rows": 3}),
            "quotes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "segment": "The real people behind the story: the persona page shows how many there are."
        }

    def __init__(self, *args: Any, project: Project, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.filter(project=project).order_by("name")


class BreakdownForm(forms.Form):
    """What the members are broken down by: a session fact, or a person/company property."""

    by = forms.ChoiceField(
        required=False,
        choices=[*SESSION_DIMENSIONS.items(), *PROPERTY_DIMENSIONS.items()],
        initial="browser",
        label="Break members down by",
    )
    property = forms.CharField(required=False, max_length=200, label="Property")

    # Set when a property breakdown was chosen but no property named yet, and the form was
    # not submitted with its button: choosing "Person property" is the first step, not a mistake.
    waiting_for_property = False

    def clean(self) -> dict:
        data = super().clean()
        data["by"] = data.get("by") or "browser"
        if data["by"] in PROPERTY_DIMENSIONS and not (data.get("property") or "").strip():
            if self.data.get("show"):
                self.add_error("property", "Name the property to break down by, e.g. plan.")
            else:
                self.waiting_for_property = True
        return data


class MembersOnForm(forms.Form):
    """The segment page's "Members on …": who was in at the end of that day (now, for today)."""

    on = forms.DateField(
        label="Members on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )

    def __init__(self, *args, project: Project, **kwargs):
        self.project = project
        super().__init__(*args, **kwargs)

    def clean_on(self):
        day = self.cleaned_data.get("on")
        if day is not None and day > timezone.now().astimezone(self.project.zone).date():
            raise ValidationError("This day is in the future: history only reaches up to today.")
        return day
