"""Forms of the action builder (also used by its REST endpoint)."""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.http import QueryDict

from tracking.matching.actions import DEFAULT_MATCHING, MAX_STEPS, ActionError, validate_steps
from tracking.models import Action

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
