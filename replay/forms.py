"""The recordings list's query-string filters (page and API), and the retention rule form."""

from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from replay.selectors import SORTS, RecordingQuery
from segments.selectors import segment_list
from tracking.models import Project
from tracking.selectors.actions import action_list

MAX_PERSONS = 500
MAX_SECONDS = 10 * 365 * 24 * 3600


class PersonIdsField(forms.CharField):
    """`12,15,19`: the persons a funnel drop-off links with."""

    def to_python(self, value: object) -> list[int]:
        text = super().to_python(value)
        if not text:
            return []
        ids = []
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdecimal() or len(part) > 18:
                raise forms.ValidationError("A comma-separated list of person ids.", code="invalid")
            ids.append(int(part))
        if len(ids) > MAX_PERSONS:
            raise forms.ValidationError(f"At most {MAX_PERSONS} persons.", code="too_many")
        return ids


def _seconds(label: str) -> forms.IntegerField:
    return forms.IntegerField(required=False, min_value=0, max_value=MAX_SECONDS, label=label)


class RecordingFilterForm(forms.Form):
    session = forms.CharField(required=False, max_length=200, label="Session id")
    person = forms.IntegerField(required=False, min_value=1, max_value=2**62, widget=forms.HiddenInput)
    persons = PersonIdsField(required=False, widget=forms.HiddenInput)
    segment = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Everyone", widget=forms.Select(attrs={"data-picker": ""})
    )
    action = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Any",
        label="Performed action",
        widget=forms.Select(attrs={"data-picker": ""}),
    )
    browser = forms.CharField(required=False, max_length=64)
    os = forms.CharField(required=False, max_length=64, label="OS")
    device = forms.CharField(required=False, max_length=16)
    country = forms.CharField(required=False, max_length=2)
    min_duration = _seconds("Duration at least (s)")
    max_duration = _seconds("Duration at most (s)")
    min_active = _seconds("Active at least (s)")
    max_active = _seconds("Active at most (s)")
    rage = forms.BooleanField(required=False, label="Rage clicks")
    dead = forms.BooleanField(required=False, label="Dead clicks")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(
        required=False, choices=[("recent", "Most recent"), ("active", "Most active")], initial="recent"
    )

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)

        self.fields["segment"].queryset = segment_list(project=project)
        self.fields["action"].queryset = action_list(project=project)

    def query(self) -> RecordingQuery:
        """The validated filters (call after is_valid())."""
        data = self.cleaned_data
        person_ids = list(data.get("persons") or [])
        if data.get("person"):
            person_ids.append(data["person"])
        action = data.get("action")
        segment = data.get("segment")
        sort = data.get("sort") or "recent"
        return RecordingQuery(
            session_key=(data.get("session") or "").strip(),
            person_ids=tuple(person_ids),
            segment_id=segment.pk if segment else None,
            action_steps=tuple(action.steps) if action else None,
            browser=data.get("browser") or "",
            os=data.get("os") or "",
            device_type=data.get("device") or "",
            country=(data.get("country") or "").upper(),
            min_duration=data.get("min_duration"),
            max_duration=data.get("max_duration"),
            min_active=data.get("min_active"),
            max_active=data.get("max_active"),
            rage_clicks=bool(data.get("rage")),
            dead_clicks=bool(data.get("dead")),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            sort=sort if sort in SORTS else "recent",
        )

    @property
    def is_filtered(self) -> bool:
        return any(self.cleaned_data.get(name) for name in self.fields if name != "sort")


class RetentionRuleForm(forms.Form):
    segment = forms.ModelChoiceField(queryset=None)
    days = forms.IntegerField(validators=[MinValueValidator(1), MaxValueValidator(3650)], initial=90)

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)

        self.project = project
        self.fields["segment"].queryset = segment_list(project=project)

    def clean_days(self) -> int:
        days = self.cleaned_data["days"]
        if days <= self.project.recording_retention_days:
            raise forms.ValidationError(
                f"Rules keep recordings longer than the project's {self.project.recording_retention_days} days."
            )
        return days
