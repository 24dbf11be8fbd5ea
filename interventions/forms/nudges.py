"""The nudge form and its live preview."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from interventions.forms.common import (
    TargetingFields,
    number_input,
    targeting_initial,
)
from interventions.models import Nudge

# -- nudges -----------------------------------------------------------------------------------------


class NudgeForm(TargetingFields):
    kind = forms.ChoiceField(
        label="Kind", choices=Nudge.Kind.choices, initial=Nudge.Kind.BANNER, widget=forms.RadioSelect
    )
    anchor_selector = forms.CharField(
        label="Points at (CSS selector)", required=False, max_length=300,
        widget=forms.TextInput(attrs={"placeholder": "#upgrade-button"}), help_text="Tooltips only: the element the tooltip points at.",
    )  # fmt: skip
    title = forms.CharField(label="Title", max_length=200)
    body = forms.CharField(
        label="Body", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    cta_text = forms.CharField(
        label="Button text",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "Upgrade now"}),
    )
    cta_url = forms.CharField(
        label="Button link",
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "/billing"}),
    )
    trigger = forms.ChoiceField(
        label="Show it",
        choices=Nudge.Trigger.choices,
        initial=Nudge.Trigger.PAGE_LOAD,
        widget=forms.RadioSelect,
    )
    frequency_days = forms.IntegerField(
        label="At most once per (days)",
        initial=7,
        widget=number_input(0),
        help_text="0: on every matching page.",
    )
    max_impressions = forms.IntegerField(
        label="Stop after (impressions)", initial=3, widget=number_input(0), help_text="0: no limit."
    )
    stop_after_click = forms.BooleanField(
        label="Stop showing it once the button was clicked", required=False, initial=True
    )

    field_order = ["name", "kind", "anchor_selector", "title", "body", "cta_text", "cta_url"]

    def data_for_service(self) -> dict:
        data = self.cleaned_data
        own = {
            name: data[name]
            for name in ("kind", "title", "trigger", "frequency_days", "max_impressions", "stop_after_click")
        }
        for name in ("anchor_selector", "body", "cta_text", "cta_url"):
            own[name] = (data.get(name) or "").strip()
        return {**self.targeting(), **own}


def nudge_initial(nudge: Nudge) -> dict:
    own = {name: getattr(nudge, name) for name in ("kind", "anchor_selector", "title", "body", "cta_text", "cta_url", "trigger",
                                                   "frequency_days", "max_impressions", "stop_after_click")}  # fmt: skip
    return {**targeting_initial(nudge), **own}


@dataclass
class NudgePreview:
    """What the snippet would show, from the form as it is (saved or not)."""

    kind: str
    title: str
    body: str
    cta_text: str
    anchor_selector: str


def nudge_preview(data: Any) -> NudgePreview:
    kind = data.get("kind") if data.get("kind") in Nudge.Kind.values else Nudge.Kind.BANNER
    return NudgePreview(
        kind=kind,
        title=(data.get("title") or "").strip()[:200],
        body=(data.get("body") or "").strip()[:2000],
        cta_text=(data.get("cta_text") or "").strip()[:100],
        anchor_selector=(data.get("anchor_selector") or "").strip()[:300],
    )
