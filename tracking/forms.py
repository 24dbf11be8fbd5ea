from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib.auth.password_validation import validate_password

from tracking.models import Project, Role


class SignupForm(forms.Form):
    name = forms.CharField(max_length=150, label="Your name")
    email = forms.EmailField(label="Work e-mail")
    password = forms.CharField(widget=forms.PasswordInput, label="Password")
    organization_name = forms.CharField(max_length=200, label="Company or team")
    project_name = forms.CharField(max_length=200, label="First project", initial="My website")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            try:
                validate_password(password)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class InvitationSignupForm(forms.Form):
    name = forms.CharField(max_length=150, label="Your name")
    password = forms.CharField(widget=forms.PasswordInput, label="Password")

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        validate_password(password)
        return password


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class ApiKeyForm(forms.Form):
    label = forms.CharField(
        max_length=100, label="Label", help_text="What will use this key, e.g. “backend”."
    )


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200)


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ProjectSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=_timezone_choices)

    class Meta:
        model = Project
        fields = [
            "name",
            "timezone",
            "allowed_origins",
            "respect_dnt",
            "ip_handling",
            "recording_enabled",
            "recording_sample_rate",
            "recording_mask_inputs",
            "recording_mask_all_text",
            "recording_retention_days",
            "data_retention_days",
            "ingest_rate_limit",
        ]
        widgets = {
            "allowed_origins": forms.Textarea(attrs={"rows": 3, "placeholder": "https://www.example.com"})
        }

    def clean_allowed_origins(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()]
        for line in lines:
            if not line.startswith(("http://", "https://")) or line.count("/") > 3:
                raise forms.ValidationError(f"{line!r} is not an origin like https://www.example.com")
        return "\n".join(lines)
