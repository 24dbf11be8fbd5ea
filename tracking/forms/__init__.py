from __future__ import annotations

import functools
import zoneinfo

from django import forms
from django.contrib.auth.password_validation import validate_password

from tracking.models import Project, Role
from tracking.traffic.internal import InternalRules, InternalRulesError, internal_rules_clean
from web.forms import LongSelect


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


@functools.cache
def _timezone_choices() -> tuple[tuple[str, str], ...]:
    # available_timezones() reads the zone files' folder on every call
    return tuple((name, name) for name in sorted(zoneinfo.available_timezones()))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# form field -> the rules' field, for the internal and test users
_INTERNAL_FIELDS = {
    "internal_email_domains": "email_domains",
    "internal_distinct_ids": "distinct_ids",
    "internal_ips": "ips",
    "internal_person_properties": "person_properties",
}


class ProjectSettingsForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=_timezone_choices, widget=LongSelect)
    internal_email_domains = forms.CharField(
        required=False,
        label="Internal e-mail domains",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "example.com"}),
        help_text="Internal and test users are left out of analyses, measurements and counts unless an"
        " analysis includes them. One domain per line: people whose e-mail is at it (or a subdomain).",
    )
    internal_distinct_ids = forms.CharField(
        required=False,
        label="Internal distinct ids",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line: test accounts and teammates.",
    )
    internal_ips = forms.CharField(
        required=False,
        label="Internal IP addresses",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "203.0.113.0/24"}),
        help_text="One address or network per line. Applies to sessions that arrive after it is added.",
    )
    internal_person_properties = forms.CharField(
        required=False,
        label="Internal person properties",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "is_employee = true"}),
        help_text="One “property = value” per line.",
    )

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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        rules = InternalRules.from_json(self.instance.internal_users)
        self.fields["internal_email_domains"].initial = "\n".join(rules.email_domains)
        self.fields["internal_distinct_ids"].initial = "\n".join(rules.distinct_ids)
        self.fields["internal_ips"].initial = "\n".join(rules.networks)
        self.fields["internal_person_properties"].initial = "\n".join(
            f"{key} = {value}" for key, value in rules.person_properties
        )

    def clean(self):
        cleaned = super().clean()
        properties, malformed = [], False
        for number, line in enumerate(_lines(cleaned.get("internal_person_properties") or ""), start=1):
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                self.add_error("internal_person_properties", f"line {number}: write “property = value”")
                malformed = True
            properties.append({"key": key.strip(), "value": value.strip()})
        try:
            rules = internal_rules_clean(
                {
                    "email_domains": _lines(cleaned.get("internal_email_domains") or ""),
                    "distinct_ids": _lines(cleaned.get("internal_distinct_ids") or ""),
                    "ips": _lines(cleaned.get("internal_ips") or ""),
                    "person_properties": [] if malformed else properties,
                }
            )
        except InternalRulesError as error:
            by_rules_field = {rules_field: name for name, rules_field in _INTERNAL_FIELDS.items()}
            for path, messages in error.errors.items():
                rules_field, _, rest = path.partition("[")
                line = rest.split("]")[0]
                prefix = f"line {int(line) + 1}: " if line.isdecimal() else ""
                for message in messages:
                    self.add_error(by_rules_field.get(rules_field), prefix + message)
        else:
            if not malformed:
                self.instance.internal_users = rules.to_json()
        return cleaned

    def clean_allowed_origins(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()]
        for line in lines:
            if not line.startswith(("http://", "https://")) or line.count("/") > 3:
                raise forms.ValidationError(f"{line!r} is not an origin like https://www.example.com")
        return "\n".join(lines)
