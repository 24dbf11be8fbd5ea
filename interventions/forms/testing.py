"""Testing a nudge's or survey's targeting: one person, and a preview link for the site."""

from __future__ import annotations

from django import forms


class PersonTestForm(forms.Form):
    distinct_id = forms.CharField(
        label="Distinct id", max_length=200, widget=forms.TextInput(attrs={"placeholder": "user-42"})
    )

    def clean_distinct_id(self) -> str:
        value = self.cleaned_data["distinct_id"].strip()
        if not value:
            raise forms.ValidationError("Type the distinct id the snippet or your API uses for them.")
        return value


class PreviewLinkForm(forms.Form):
    page_url = forms.URLField(
        label="Page to preview on",
        max_length=2000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://www.example.com/pricing"}),
        help_text="A page of your site that runs the snippet.",
    )
