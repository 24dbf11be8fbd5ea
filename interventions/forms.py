"""Forms of the intervention pages: they turn a request into the data the services take.

What the data means (a goal's event, a rule's rollout, a question's choices) is
checked by interventions.services; `apply_service_errors` puts each of its keys —
`goal.event.name`, `anchor_selector`, `rules[0].rollout` — on the field or the row
that shows it, and anything else at the top of the form, named by its key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.utils.text import slugify

from interventions.measure import validate_goal
from interventions.models import FeatureFlag, Nudge, SegmentAlert, Survey, UrlMatching, Webhook
from interventions.selectors import segment_groups
from interventions.services import QUESTION_TYPES
from segments.definition import DefinitionError
from tracking.models import Action, Project

MAX_ROWS = 30
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
QUESTION_LABELS = {
    "single": "Single choice",
    "multiple": "Multiple choice",
    "rating": "Rating",
    "open": "Open text",
}
QUESTION_KINDS = [(kind, QUESTION_LABELS[kind]) for kind in QUESTION_TYPES]
_ROW_KEY = re.compile(r"^(?P<list>questions|variants|rules)\[(?P<index>\d+)\](?:\.(?P<field>\w+))?")


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


def _number_input(minimum: int, maximum: int | None = None) -> forms.NumberInput:
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


def _field_for(key: str, form: forms.Form) -> str | None:
    if key in GOAL_FIELDS:
        return GOAL_FIELDS[key]
    if key.startswith("goal.event.where"):
        return "goal_event"
    return key if key in form.fields else None


def apply_service_errors(
    form: forms.Form, error: ValidationError, editors: tuple[RowEditor, ...] = ()
) -> None:
    """Attach a service's ValidationError to the form's fields and the editors' rows; the rest goes on top."""
    items = (
        error.message_dict.items() if hasattr(error, "error_dict") else [(NON_FIELD_ERRORS, error.messages)]
    )
    for key, messages in items:
        match = _ROW_KEY.match(key)
        editor = next((e for e in editors if match and e.name == match["list"]), None)
        for message in messages:
            if editor is not None and match is not None:
                editor.add_error(int(match["index"]), match["field"] or "row", message)
            elif (name := _field_for(key, form)) is not None:
                form.add_error(name, message)
            elif key == NON_FIELD_ERRORS:
                form.add_error(None, message)
            elif editor is None and key in {e.name for e in editors}:
                next(e for e in editors if e.name == key).errors_on_top.append(message)
            else:
                form.add_error(None, f"{key}: {message}")


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
        label="Within (days)", required=False, initial=7, widget=_number_input(1, 365),
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
        label="Holdout (%)", initial=10, widget=_number_input(0, 90),
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
        widget=_number_input(0),
        help_text="0: on every matching page.",
    )
    max_impressions = forms.IntegerField(
        label="Stop after (impressions)", initial=3, widget=_number_input(0), help_text="0: no limit."
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


def _number_or_text(value: str) -> Any:
    """`"50"` -> 50, `"12.5"` -> 12.5; anything else stays text for the service to name."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number == int(number) else number


def _unique_key(base: str, taken: set[str]) -> str:
    key, n = base, 2
    while key in taken:
        key = f"{base[:95]}_{n}"
        n += 1
    return key


def questions_from_rows(rows: list[dict[str, str]]) -> list[dict]:
    """The editor's rows as the service's questions; a blank key is made from the question's text."""
    taken = {r["key"].strip() for r in rows if r["key"].strip()}
    questions = []
    for index, row in enumerate(rows):
        key = row["key"].strip()
        if not key:
            key = _unique_key(
                slugify(row["prompt"])[:40].replace("-", "_").strip("_") or f"q{index + 1}", taken
            )
            taken.add(key)
        question: dict[str, Any] = {"key": key, "type": row["type"], "prompt": row["prompt"]}
        if row["type"] in ("single", "multiple"):
            question["choices"] = [line.strip() for line in row["choices"].splitlines() if line.strip()]
        if row["type"] == "rating":
            question["scale"] = _number_or_text(row["scale"] or "10")
        questions.append(question)
    return questions


def rows_from_questions(questions: list[dict]) -> list[dict[str, str]]:
    rows = []
    for q in questions if isinstance(questions, list) else []:
        if not isinstance(q, dict):
            continue
        choices = q.get("choices") if isinstance(q.get("choices"), list) else []
        rows.append({
            "key": str(q.get("key", "")), "type": str(q.get("type", "single")), "prompt": str(q.get("prompt", "")),
            "choices": "\n".join(str(c) for c in choices), "scale": str(q.get("scale", 10)),
        })  # fmt: skip
    return rows


def question_editor(data: Any = None, questions: list[dict] | None = None) -> RowEditor:
    if data is not None:
        return RowEditor.from_post(data, name="questions", prefix="q", fields=QUESTION_FIELDS)
    return RowEditor(
        name="questions", prefix="q", fields=QUESTION_FIELDS, rows=rows_from_questions(questions or [])
    )


BLANK_QUESTION = {"type": "single", "scale": "10", "choices": ""}


class SurveyForm(TargetingFields):
    key = forms.CharField(
        label="Key", max_length=100, widget=forms.TextInput(attrs={"placeholder": "onboarding-feedback"}),
        help_text="Lowercase letters, digits, - and _. Segments refer to answers by it: {\"type\": \"survey\", \"survey\": KEY, …}.",
    )  # fmt: skip
    intro = forms.CharField(
        label="Introduction", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    thank_you = forms.CharField(label="Thank-you message", max_length=200, initial="Thank you!")
    questions_json = forms.CharField(
        label="Questions as JSON", required=False, widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text='[{"key": "q1", "type": "single" | "multiple" | "rating" | "open", "prompt": "…", "choices": [...], "scale": 10 | 5}]',
    )  # fmt: skip
    questions_json_shown = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["name", "key", "intro", "thank_you"]

    def edited_json(self) -> Any:
        """The JSON textarea's questions when the person changed them there (without JavaScript, say).

        Compared as JSON with what the page showed, so line endings and spacing are no change.
        """
        raw = (self.data.get("questions_json") or "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError as error:
            self.add_error("questions_json", f"Not valid JSON ({error}).")
            return None
        try:
            shown = json.loads(self.data.get("questions_json_shown") or "null")
        except ValueError:
            shown = None
        return None if value == shown else value

    def data_for_service(self, questions: Any) -> dict:
        data = self.cleaned_data
        return {
            **self.targeting(),
            "key": data["key"].strip(),
            "intro": data.get("intro", ""),
            "thank_you": data["thank_you"],
            "questions": questions,
        }


def survey_initial(survey: Survey) -> dict:
    return {
        **targeting_initial(survey),
        "key": survey.key,
        "intro": survey.intro,
        "thank_you": survey.thank_you,
    }


def questions_json(editor: RowEditor) -> str:
    return json.dumps(questions_from_rows(editor.rows), indent=2, ensure_ascii=False)


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
        help_text="The kill switch: off serves false to everyone, whatever the rules say.",
    )
    flag_type = forms.ChoiceField(
        label="Type", choices=[("boolean", "Boolean (on / off)"), ("multivariate", "Multivariate (variants with weights)")],
        initial="boolean", widget=forms.RadioSelect,
    )  # fmt: skip

    field_order = ["key", "description", "enabled", "flag_type"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.segment_groups = segment_groups(project=self.project)

    def data_for_service(self, variants: RowEditor, rules: RowEditor, *, creating: bool) -> dict:
        data = self.cleaned_data
        out = {
            "key": data["key"].strip(), "description": data.get("description", ""),
            "variants": variants_from_rows(variants.rows) if data["flag_type"] == "multivariate" else [],
            "rules": rules_from_rows(rules.rows), "goal": self.goal(),
        }  # fmt: skip
        if creating:
            # an existing flag is switched by the kill switch alone, so saving a form opened
            # before someone switched it off never switches it back on
            out["enabled"] = bool(data.get("enabled"))
        return out


def flag_initial(flag: FeatureFlag) -> dict:
    return {"key": flag.key, "description": flag.description, "enabled": flag.enabled,
            "flag_type": "multivariate" if flag.variants else "boolean", **goal_initial(flag.goal)}  # fmt: skip


def variants_from_rows(rows: list[dict[str, str]]) -> list[dict]:
    return [{"key": r["key"].strip(), "weight": _number_or_text(r["weight"] or "0")} for r in rows]


def rules_from_rows(rows: list[dict[str, str]]) -> list[dict]:
    rules = []
    for r in rows:
        segment = r["segment"].strip()
        rules.append(
            {
                "segment": int(segment) if segment.isdecimal() else (segment or None),
                "rollout": _number_or_text(r["rollout"] or "100"),
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
                self.add_error(_field_for(error.path, self) or None, error.message)
        return data


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
    segment = forms.TypedChoiceField(label="Segment", coerce=int)
    threshold_percent = forms.IntegerField(
        label="When its size moves by (%)",
        min_value=1,
        max_value=1000,
        initial=20,
        widget=_number_input(1, 1000),
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


STATUS_CHOICES = ("live", "paused", "ended")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(s, s) for s in STATUS_CHOICES])
