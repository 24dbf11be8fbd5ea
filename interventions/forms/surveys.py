"""The survey form and its question editor."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.text import slugify

from interventions.forms.common import (
    QUESTION_FIELDS,
    RowEditor,
    TargetingFields,
    number_or_text,
    targeting_initial,
    unique_key,
)
from interventions.models import Survey
from interventions.services import QUESTION_TYPES

QUESTION_LABELS = {
    "single": "Single choice",
    "multiple": "Multiple choice",
    "rating": "Rating",
    "open": "Open text",
}
QUESTION_KINDS = [(kind, QUESTION_LABELS[kind]) for kind in QUESTION_TYPES]


def questions_from_rows(rows: list[dict[str, str]]) -> list[dict]:
    """The editor's rows as the service's questions; a blank key is made from the question's text."""
    taken = {r["key"].strip() for r in rows if r["key"].strip()}
    questions = []
    for index, row in enumerate(rows):
        key = row["key"].strip()
        if not key:
            key = unique_key(
                slugify(row["prompt"])[:40].replace("-", "_").strip("_") or f"q{index + 1}", taken
            )
            taken.add(key)
        question: dict[str, Any] = {"key": key, "type": row["type"], "prompt": row["prompt"]}
        if row["type"] in ("single", "multiple"):
            question["choices"] = [line.strip() for line in row["choices"].splitlines() if line.strip()]
        if row["type"] == "rating":
            question["scale"] = number_or_text(row["scale"] or "10")
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
