"""Feature flag forms (variants and rules editors, the test form) and the goal tried on a results page."""

from __future__ import annotations

from typing import Any

from django import forms

from interventions.forms.common import (
    RULE_FIELDS,
    VARIANT_FIELDS,
    GoalFields,
    RowEditor,
    field_for,
    goal_initial,
    number_or_text,
)
from interventions.measure import validate_goal
from interventions.models import FeatureFlag
from interventions.selectors import segment_groups
from segments.definition import DefinitionError

# -- flags ------------------------------------------------------------------------------------------


class FlagForm(GoalFields):
    key = forms.CharField(
        label="Key", max_length=100, widget=forms.TextInput(attrs={"placeholder": "new-checkout"}),
        help_text="What your code asks for: lowercase letters, digits, - and _.",
    )  # fmt: skip
    description = forms.CharField(
        label="Description", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    enabled = forms.BooleanField(
        label="Enabled",
        required=False,
        # On for a new flag: with no rules an enabled flag still serves false to everyone, so
        # the rules decide; off by default made new flags look broken until someone noticed.
        initial=True,
        help_text="The kill switch: off serves false to everyone, whatever the rules say.",
    )
    flag_type = forms.ChoiceField(
        label="Type", choices=[("boolean", "Boolean (on / off)"), ("multivariate", "Multivariate (variants with weights)")],
        initial="boolean", widget=forms.RadioSelect,
    )  # fmt: skip

    bucket_by = forms.ChoiceField(
        label="Roll out to", choices=FeatureFlag.BucketBy.choices, initial=FeatureFlag.BucketBy.PERSON,
        widget=forms.RadioSelect, required=False,
        help_text="By company, everyone at a company (the snippet's group()) gets the same value; people without one get false.",
    )  # fmt: skip

    field_order = ["key", "description", "enabled", "flag_type", "bucket_by"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.segment_groups = segment_groups(project=self.project)

    def data_for_service(self, variants: RowEditor, rules: RowEditor, *, creating: bool) -> dict:
        data = self.cleaned_data
        out = {
            "key": data["key"].strip(), "description": data.get("description", ""),
            "variants": variants_from_rows(variants.rows) if data["flag_type"] == "multivariate" else [],
            "rules": rules_from_rows(rules.rows), "goal": self.goal(), "bucket_by": data.get("bucket_by") or "person",
        }  # fmt: skip
        if creating:
            # an existing flag is switched by the kill switch alone, so saving a form opened
            # before someone switched it off never switches it back on
            out["enabled"] = bool(data.get("enabled"))
        return out


def flag_initial(flag: FeatureFlag) -> dict:
    return {"key": flag.key, "description": flag.description, "enabled": flag.enabled,
            "flag_type": "multivariate" if flag.variants else "boolean", "bucket_by": flag.bucket_by,
            **goal_initial(flag.goal)}  # fmt: skip


def variants_from_rows(rows: list[dict[str, str]]) -> list[dict]:
    return [{"key": r["key"].strip(), "weight": number_or_text(r["weight"] or "0")} for r in rows]


def rules_from_rows(rows: list[dict[str, str]]) -> list[dict]:
    rules = []
    for r in rows:
        segment = r["segment"].strip()
        rules.append(
            {
                "segment": int(segment) if segment.isdecimal() else (segment or None),
                "rollout": number_or_text(r["rollout"] or "100"),
            }
        )
    return rules


def variant_editor(data: Any = None, variants: list[dict] | None = None) -> RowEditor:
    if data is not None:
        return RowEditor.from_post(data, name="variants", prefix="v", fields=VARIANT_FIELDS)
    rows = [{"key": str(v.get("key", "")), "weight": f"{v.get('weight', 0):g}"} for v in variants or []]
    if not rows:
        rows = [{"key": "control", "weight": "50"}, {"key": "test", "weight": "50"}]
    return RowEditor(name="variants", prefix="v", fields=VARIANT_FIELDS, rows=rows)


def rule_editor(data: Any = None, rules: list[dict] | None = None) -> RowEditor:
    if data is not None:
        return RowEditor.from_post(data, name="rules", prefix="r", fields=RULE_FIELDS)
    rows = [
        {
            "segment": "" if r.get("segment") is None else str(r["segment"]),
            "rollout": f"{r.get('rollout', 100):g}",
        }
        for r in rules or []
    ]
    if rules is None:
        rows = [{"segment": "", "rollout": "100"}]
    return RowEditor(name="rules", prefix="r", fields=RULE_FIELDS, rows=rows)


class FlagTestForm(forms.Form):
    distinct_id = forms.CharField(
        label="Distinct id", max_length=200, widget=forms.TextInput(attrs={"placeholder": "user-42"})
    )


# -- trying another goal on a results page ----------------------------------------------------------


class GoalTryForm(GoalFields):
    """A goal to measure instead of the saved one, from the query string."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["goal_source"].label = "Measure"
        self.fields["goal_source"].choices = [
            ("none", "The saved goal"),
            ("event", "An event"),
            ("action", "An action"),
        ]

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and data.get("goal_source") in ("event", "action"):
            try:
                data["goal"] = validate_goal(self.goal(), project_id=self.project.pk)
            except DefinitionError as error:
                self.add_error(field_for(error.path, self) or None, error.message)
        return data
