"""Keeping exposures current from the snippet's events ($nudge_*, $survey_*, $flag_called).

The events are the record (they stay in the events table for analysis);
Exposure is their per-person summary that decide and measurement read.
"""

from __future__ import annotations

from django.db import connection
from django.dispatch import receiver

from interventions.models import FeatureFlag, Nudge, Survey
from tracking.properties import text_form
from tracking.signals import events_ingested

_UPSERT = """
INSERT INTO interventions_exposure (project_id, kind, object_id, person_id, variant, held_out, first_at,
                                    last_shown_at, times_shown, clicked_at, dismissed_at, answered_at)
VALUES (%(project)s, %(kind)s, %(object)s, %(person)s, %(variant)s, %(held_out)s, %(at)s,
        %(shown_at)s, %(shown)s, %(clicked_at)s, %(dismissed_at)s, %(answered_at)s)
ON CONFLICT (project_id, kind, object_id, person_id) DO UPDATE SET
    first_at = least(interventions_exposure.first_at, EXCLUDED.first_at),
    held_out = interventions_exposure.held_out OR EXCLUDED.held_out,
    variant = CASE WHEN interventions_exposure.variant = '' THEN EXCLUDED.variant ELSE interventions_exposure.variant END,
    last_shown_at = greatest(interventions_exposure.last_shown_at, EXCLUDED.last_shown_at),
    times_shown = interventions_exposure.times_shown + EXCLUDED.times_shown,
    clicked_at = coalesce(interventions_exposure.clicked_at, EXCLUDED.clicked_at),
    dismissed_at = greatest(interventions_exposure.dismissed_at, EXCLUDED.dismissed_at),
    answered_at = coalesce(interventions_exposure.answered_at, EXCLUDED.answered_at)
"""


_MAX_ID = 2**63 - 1  # object_id is a bigint


def _int(value) -> int | None:
    """An object id from the snippet's properties, or None for anything that cannot be one."""
    if isinstance(value, bool):
        return None
    # isdecimal(), not isdigit(): isdigit() passes "²", which int() refuses
    if isinstance(value, str) and value.isdecimal() and len(value) <= 19:
        value = int(value)
    if isinstance(value, int) and 0 < value <= _MAX_ID:
        return value
    return None


def _row(project_id: int, event, flags: dict[str, int], surveys: dict[str, int]) -> dict | None:
    name, props = event.name, event.properties
    row = {
        "project": project_id, "person": event.person_id, "at": event.timestamp, "variant": "", "held_out": False,
        "shown_at": None, "shown": 0, "clicked_at": None, "dismissed_at": None, "answered_at": None,
    }  # fmt: skip
    if name.startswith("$nudge_"):
        row["kind"], row["object"] = "nudge", _int(props.get("$nudge_id"))
    elif name.startswith("$survey_"):
        survey_id = _int(props.get("$survey_id"))
        if survey_id is None and isinstance(props.get("$survey"), str):
            survey_id = surveys.get(props["$survey"])
        row["kind"], row["object"] = "survey", survey_id
    elif name == "$flag_called":
        row["kind"], row["object"] = "flag", flags.get(str(props.get("$flag", "")))
        # the JSON text of what the flag returned: true/false, or the variant key
        row["variant"] = (text_form(props.get("$flag_response")) or "")[:100]
    else:
        return None
    if row["object"] is None:
        return None
    action = name.rsplit("_", 1)[-1] if not name.endswith("held_out") else "held_out"
    if action == "shown":
        row["shown_at"], row["shown"] = event.timestamp, 1
    elif action == "clicked":
        row["clicked_at"] = event.timestamp
    elif action == "dismissed":
        row["dismissed_at"] = event.timestamp
    elif action == "response":
        row["answered_at"] = event.timestamp
    elif action == "held_out":
        row["held_out"], row["variant"] = True, "holdout"
    return row


def record_exposures(project_id: int, special_events: list) -> int:
    if not special_events:
        return 0
    flags = dict(FeatureFlag.objects.filter(project_id=project_id).values_list("key", "pk"))
    surveys = dict(Survey.objects.filter(project_id=project_id).values_list("key", "pk"))
    rows = [r for r in (_row(project_id, e, flags, surveys) for e in special_events) if r]
    # Ids the snippet sends are only claims: keep the ones naming this project's nudges
    # and surveys, so no exposure waits under an id a future object would inherit.
    claimed = {kind: {r["object"] for r in rows if r["kind"] == kind} for kind in ("nudge", "survey")}
    known = {
        "nudge": set(
            Nudge.objects.filter(project_id=project_id, pk__in=claimed["nudge"]).values_list("pk", flat=True)
        ),
        "survey": set(
            Survey.objects.filter(project_id=project_id, pk__in=claimed["survey"]).values_list(
                "pk", flat=True
            )
        ),
        "flag": set(flags.values()),
    }
    rows = [r for r in rows if r["object"] in known[r["kind"]]]
    with connection.cursor() as cursor:
        for row in rows:
            cursor.execute(_UPSERT, row)
    return len(rows)


@receiver(events_ingested)
def _on_events_ingested(sender, project_id: int, special_events=(), **kwargs) -> None:
    record_exposures(project_id, list(special_events))
