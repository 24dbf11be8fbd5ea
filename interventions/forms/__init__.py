"""Forms of the intervention pages: they turn a request into the data the services take.

What the data means (a goal's event, a rule's rollout, a question's choices) is
checked by interventions.services; `apply_intervention_errors` puts each of its keys —
`goal.event.name`, `anchor_selector`, `rules[0].rollout` — on the field or the row
that shows it, and anything else at the top of the form, named by its key.
"""

from __future__ import annotations

from interventions.forms.common import (
    DATETIME_FORMAT,
    GOAL_FIELDS,
    MAX_ROWS,
    QUESTION_FIELDS,
    RULE_FIELDS,
    STATUS_CHOICES,
    VARIANT_FIELDS,
    DateTimeLocalInput,
    GoalFields,
    ProjectForm,
    RowEditor,
    StatusForm,
    TargetingFields,
    apply_intervention_errors,
    field_for,
    goal_initial,
    number_input,
    number_or_text,
    targeting_initial,
    unique_key,
)
from interventions.forms.flags import (
    FlagForm,
    FlagTestForm,
    GoalTryForm,
    flag_initial,
    rule_editor,
    rules_from_rows,
    variant_editor,
    variants_from_rows,
)
from interventions.forms.nudges import (
    NudgeForm,
    NudgePreview,
    nudge_initial,
    nudge_preview,
)
from interventions.forms.surveys import (
    BLANK_QUESTION,
    QUESTION_KINDS,
    QUESTION_LABELS,
    SurveyForm,
    question_editor,
    questions_from_rows,
    questions_json,
    rows_from_questions,
    survey_initial,
)
from interventions.forms.syncs import SyncForm, sync_initial
from interventions.forms.webhooks import (
    AlertForm,
    WebhookForm,
    alert_initial,
    webhook_initial,
)

__all__ = [
    "BLANK_QUESTION",
    "DATETIME_FORMAT",
    "GOAL_FIELDS",
    "MAX_ROWS",
    "QUESTION_FIELDS",
    "QUESTION_KINDS",
    "QUESTION_LABELS",
    "RULE_FIELDS",
    "STATUS_CHOICES",
    "VARIANT_FIELDS",
    "AlertForm",
    "DateTimeLocalInput",
    "FlagForm",
    "FlagTestForm",
    "GoalFields",
    "GoalTryForm",
    "NudgeForm",
    "NudgePreview",
    "ProjectForm",
    "RowEditor",
    "StatusForm",
    "SurveyForm",
    "SyncForm",
    "TargetingFields",
    "WebhookForm",
    "alert_initial",
    "apply_intervention_errors",
    "field_for",
    "flag_initial",
    "goal_initial",
    "nudge_initial",
    "nudge_preview",
    "number_input",
    "number_or_text",
    "question_editor",
    "questions_from_rows",
    "questions_json",
    "rows_from_questions",
    "rule_editor",
    "rules_from_rows",
    "survey_initial",
    "sync_initial",
    "targeting_initial",
    "unique_key",
    "variant_editor",
    "variants_from_rows",
    "webhook_initial",
]
