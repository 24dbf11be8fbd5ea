"""The segment builder's state: a definition tree as form fields, and back.

The builder is a plain HTML form. Every node of the definition has a path —
`r` for the root group, `r_2` for its third child, `r_2_0` for that child's
first child — and every editable part of a node is a field named
`n-<path>-<field>` (`n-r_2-count_value`). Posting the form posts the whole
tree; `definition_from_fields` rebuilds the definition from it, and
`tree_view` turns a definition (valid or not) back into what the template
renders. Structural edits (add a condition, remove a group, add a sequence
step) are `apply_op` on the definition followed by a re-render, so they work
with or without JavaScript.

The "Advanced: edit JSON" textarea is a second way in. The form also carries
the JSON as it was last rendered (`definition_baseline`); when the textarea no
longer equals it, the person edited the JSON and it wins over the fields.

Field names follow the definition's own paths, so a validation error such as
`definition.conditions[2].count.value` lands on the input `f-r_2-count_value`.

Its parts: `fields` (the form fields and the definition, structural edits),
`errors` (where a validation error lands) and `tree` (what the template renders,
and `BuilderState`, the builder as a whole). The names the views and other apps
use are imported here.
"""

from segments.builder.errors import FIELD_LABELS, error_is_unfilled, error_target, error_words, field_words
from segments.builder.fields import (
    COMPARATOR_LABELS,
    EMPTY_SPEC,
    MAX_JSON_CHARS,
    OPERATOR_LABELS,
    RANK_MEASURE_LABELS,
    ROOT,
    TYPE_GROUPS,
    TYPE_LABELS,
    apply_op,
    condition_from_fields,
    definition_from_fields,
    display_value,
    filter_value,
    is_group,
    new_condition,
    new_group,
    node_at,
    pretty,
    starting_definition,
)
from segments.builder.tree import (
    COMPARATOR_CHOICES,
    NUMBER_OPERATOR_CHOICES,
    OPERATOR_CHOICES,
    TEXT_OPERATOR_CHOICES,
    BuilderState,
    NodeView,
    SpecView,
    WhereView,
    tree_view,
    type_choices,
)

__all__ = [
    "COMPARATOR_CHOICES",
    "COMPARATOR_LABELS",
    "EMPTY_SPEC",
    "FIELD_LABELS",
    "MAX_JSON_CHARS",
    "NUMBER_OPERATOR_CHOICES",
    "OPERATOR_CHOICES",
    "OPERATOR_LABELS",
    "RANK_MEASURE_LABELS",
    "ROOT",
    "TEXT_OPERATOR_CHOICES",
    "TYPE_GROUPS",
    "TYPE_LABELS",
    "BuilderState",
    "NodeView",
    "SpecView",
    "WhereView",
    "apply_op",
    "condition_from_fields",
    "definition_from_fields",
    "display_value",
    "error_is_unfilled",
    "error_target",
    "error_words",
    "field_words",
    "filter_value",
    "is_group",
    "new_condition",
    "new_group",
    "node_at",
    "pretty",
    "starting_definition",
    "tree_view",
    "type_choices",
]
