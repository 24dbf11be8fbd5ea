"""Webhook and segment alert forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from interventions.forms.common import (
    ProjectForm,
    number_input,
)
from interventions.models import SegmentAlert, Webhook
from interventions.selectors import segment_groups

# -- webhooks and alerts ----------------------------------------------------------------------------


class WebhookForm(ProjectForm):
    name = forms.CharField(
        label="Name", max_length=200, widget=forms.TextInput(attrs={"placeholder": "CRM: at-risk accounts"})
    )
    url = forms.CharField(label="URL", max_length=1000, widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/sightline"}),
                          help_text="Receives a signed JSON POST for every entry or exit.")  # fmt: skip
    segments = forms.TypedMultipleChoiceField(
        label="Segments", coerce=int, help_text="Deliveries for people entering or leaving any of them."
    )
    on_entry = forms.BooleanField(label="When someone enters", required=False, initial=True)
    on_exit = forms.BooleanField(label="When someone leaves", required=False)
    active = forms.BooleanField(
        label="Active", required=False, initial=True, help_text="Inactive webhooks deliver nothing."
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.segment_groups = segment_groups(project=self.project)
        self.fields["segments"].choices = [(s.pk, s.name) for g in self.segment_groups for s in g.segments]

    def chosen_segments(self) -> set[int]:
        return {int(v) for v in self["segments"].value() or [] if str(v).isdecimal()}

    def data_for_service(self) -> dict:
        data = self.cleaned_data
        return {"name": data["name"], "url": data["url"].strip(), "segments": list(data["segments"]),
                "on_entry": data["on_entry"], "on_exit": data["on_exit"], "active": data["active"]}  # fmt: skip


def webhook_initial(hook: Webhook) -> dict:
    return {"name": hook.name, "url": hook.url, "segments": [s.pk for s in hook.segments.all()],
            "on_entry": hook.on_entry, "on_exit": hook.on_exit, "active": hook.active}  # fmt: skip


class AlertForm(ProjectForm):
    segment = forms.TypedChoiceField(
        label="Segment", coerce=int, widget=forms.Select(attrs={"data-picker": ""})
    )
    threshold_percent = forms.IntegerField(
        label="When its size moves by (%)",
        min_value=1,
        max_value=1000,
        initial=20,
        widget=number_input(1, 1000),
    )
    window = forms.ChoiceField(
        label="Within", choices=SegmentAlert.Window.choices, initial=SegmentAlert.Window.DAY
    )
    emails = forms.CharField(label="E-mail", required=False, widget=forms.Textarea(attrs={"rows": 3, "placeholder": "growth@example.com"}),
                             help_text="One address per line.")  # fmt: skip
    webhook = forms.TypedChoiceField(
        label="Also deliver to webhook", required=False, coerce=int, empty_value=None
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        groups = segment_groups(project=self.project)
        self.fields["segment"].choices = [("", "— choose —")] + [
            (g.label, [(s.pk, s.name) for s in g.segments]) for g in groups
        ]
        self.fields["webhook"].choices = [("", "— none —")] + [
            (h.pk, h.name) for h in Webhook.objects.filter(project=self.project).order_by("name")
        ]

    def clean_emails(self) -> str:
        lines = [
            line.strip() for line in (self.cleaned_data.get("emails") or "").splitlines() if line.strip()
        ]
        for line in lines:
            try:
                validate_email(line)
            except ValidationError:
                raise ValidationError(f"“{line}” is not an e-mail address.") from None
        return "\n".join(lines)

    def data_for_service(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in ("segment", "threshold_percent", "window", "emails", "webhook", "active")
        }


def alert_initial(alert: SegmentAlert) -> dict:
    return {"segment": alert.segment_id, "threshold_percent": alert.threshold_percent, "window": alert.window,
            "emails": alert.emails, "webhook": alert.webhook_id, "active": alert.active}  # fmt: skip
