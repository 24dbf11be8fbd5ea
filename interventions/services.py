"""Writes for flags, nudges, surveys, webhooks and alerts (validation lives here, not in views)."""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interventions import targeting
from interventions.decide import person_id_for
from interventions.measure import validate_goal
from interventions.models import Exposure, FeatureFlag, Nudge, SegmentAlert, Status, Survey, Webhook
from segments.definition import DefinitionError
from segments.models import Segment
from tracking.models import Project
from tracking.properties import regex_error

QUESTION_TYPES = ("single", "multiple", "rating", "open")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


def _segments(project: Project, ids, field: str = "segments") -> list[Segment]:
    ids = list(ids or [])
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise ValidationError({field: ["Give segment ids (numbers)."]})
    found = list(Segment.objects.filter(project=project, pk__in=ids))
    if len(found) != len(set(ids)):
        missing = sorted(set(ids) - {s.pk for s in found})
        raise ValidationError({field: [f"No segment {missing[0]} in this project."]})
    return found


def _goal(project: Project, goal) -> dict:
    if not goal:
        return {}
    try:
        return validate_goal(goal, project_id=project.pk)
    except DefinitionError as error:
        raise ValidationError({error.path: [error.message]}) from None


def validate_rules(project: Project, rules) -> list[dict]:
    if not isinstance(rules, list):
        raise ValidationError({"rules": ["A list of {segment, rollout} rules."]})
    out = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise ValidationError({f"rules[{index}]": ["Each rule is an object {segment, rollout}."]})
        segment = rule.get("segment")
        if segment is not None:
            _segments(project, [segment], f"rules[{index}].segment")
        rollout = rule.get("rollout", 100)
        if isinstance(rollout, bool) or not isinstance(rollout, int | float) or not 0 <= rollout <= 100:
            raise ValidationError({f"rules[{index}].rollout": ["A percentage between 0 and 100."]})
        out.append({"segment": segment, "rollout": rollout})
    return out


def validate_variants(variants) -> list[dict]:
    if not variants:
        return []
    if not isinstance(variants, list) or len(variants) < 2:
        raise ValidationError(
            {"variants": ["A multivariate flag needs at least two variants (or none for a boolean flag)."]}
        )
    keys = set()
    out = []
    for index, variant in enumerate(variants):
        key = variant.get("key") if isinstance(variant, dict) else None
        weight = variant.get("weight") if isinstance(variant, dict) else None
        if not isinstance(key, str) or not _KEY.match(key) or key in keys:
            raise ValidationError(
                {f"variants[{index}].key": ["A unique lowercase key (letters, digits, - and _)."]}
            )
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ValidationError({f"variants[{index}].weight": ["A non-negative number."]})
        keys.add(key)
        out.append({"key": key, "weight": weight})
    if sum(v["weight"] for v in out) <= 0:
        raise ValidationError({"variants": ["The weights must add up to more than zero."]})
    return out


def _url_rule(matching: str, url: str) -> None:
    if matching == "regex" and url:
        problem = regex_error(url)
        if problem:
            raise ValidationError({"url": [problem]})


def validate_questions(questions) -> list[dict]:
    if not isinstance(questions, list) or not questions:
        raise ValidationError({"questions": ["A survey needs at least one question."]})
    out, keys = [], set()
    for index, q in enumerate(questions):
        path = f"questions[{index}]"
        if not isinstance(q, dict):
            raise ValidationError({path: ["Each question is an object."]})
        key, kind, prompt = q.get("key"), q.get("type"), q.get("prompt")
        if not isinstance(key, str) or not _KEY.match(key) or key in keys:
            raise ValidationError({f"{path}.key": ["A unique lowercase key (letters, digits, - and _)."]})
        if kind not in QUESTION_TYPES:
            raise ValidationError({f"{path}.type": [f"One of {', '.join(QUESTION_TYPES)}."]})
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValidationError({f"{path}.prompt": ["The question's text is required."]})
        question = {"key": key, "type": kind, "prompt": prompt.strip()[:500]}
        if kind in ("single", "multiple"):
            choices = q.get("choices")
            if (
                not isinstance(choices, list)
                or len(choices) < 2
                or not all(isinstance(c, str) and c.strip() for c in choices)
            ):
                raise ValidationError({f"{path}.choices": ["At least two choices."]})
            question["choices"] = [c.strip()[:200] for c in choices]
        if kind == "rating":
            scale = q.get("scale", 10)
            if scale not in (5, 10):
                raise ValidationError({f"{path}.scale": ["5 (stars) or 10 (NPS 0–10)."]})
            question["scale"] = scale
        keys.add(key)
        out.append(question)
    return out


def _status(obj, status: str) -> None:
    if status not in Status.values:
        raise ValidationError({"status": [f"One of {', '.join(Status.values)}."]})
    if status == Status.LIVE and obj.live_since is None:
        obj.live_since = timezone.now()
    obj.status = status


def _targeted_fields(obj, project: Project, data: dict) -> list[Segment] | None:
    segments = None
    for name in ("name", "url_matching", "url", "starts_at", "ends_at"):
        if name in data:
            setattr(obj, name, data[name])
    if "holdout_percent" in data:
        value = data["holdout_percent"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 90:
            raise ValidationError({"holdout_percent": ["A whole percentage between 0 and 90."]})
        obj.holdout_percent = value
    if "goal" in data:
        obj.goal = _goal(project, data["goal"])
    if "segments" in data:
        segments = _segments(project, data["segments"])
    if "status" in data:
        _status(obj, data["status"])
    if obj.starts_at and obj.ends_at and obj.ends_at <= obj.starts_at:
        raise ValidationError({"ends_at": ["Must be after the start."]})
    _url_rule(obj.url_matching, obj.url)
    return segments


def _save_targeted(obj, segments) -> None:
    obj.full_clean(exclude=["project", "created_by"])
    obj.save()
    if segments is not None:
        obj.segments.set(segments)
    project_id = obj.project_id
    transaction.on_commit(lambda: targeting.forget(project_id))


NUDGE_FIELDS = (
    "kind",
    "anchor_selector",
    "title",
    "body",
    "cta_text",
    "cta_url",
    "trigger",
    "frequency_days",
    "max_impressions",
    "stop_after_click",
)


@transaction.atomic
def nudge_save(*, project: Project, data: dict, nudge: Nudge | None = None, user=None) -> Nudge:
    nudge = nudge or Nudge(project=project, created_by=user)
    for name in NUDGE_FIELDS:
        if name in data:
            setattr(nudge, name, data[name])
    segments = _targeted_fields(nudge, project, data)
    if nudge.cta_url and not (
        nudge.cta_url.startswith(("https://", "http://", "/")) and not nudge.cta_url.startswith("//")
    ):
        raise ValidationError(
            {"cta_url": ["A link starting with https://, http:// or / (a page of this site)."]}
        )
    if nudge.kind == Nudge.Kind.TOOLTIP and not nudge.anchor_selector:
        raise ValidationError(
            {"anchor_selector": ["A tooltip needs the CSS selector of the element it points at."]}
        )
    if nudge.trigger == Nudge.Trigger.SEGMENT_ENTRY and not (
        segments if segments is not None else (nudge.pk and nudge.segments.exists())
    ):
        raise ValidationError(
            {"segments": ["“When the person enters a segment” needs at least one target segment."]}
        )
    _save_targeted(nudge, segments)
    return nudge


@transaction.atomic
def survey_save(*, project: Project, data: dict, survey: Survey | None = None, user=None) -> Survey:
    survey = survey or Survey(project=project, created_by=user)
    if "key" in data:
        key = data["key"]
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValidationError(
                {"key": ["A lowercase key (letters, digits, - and _), used in segment definitions."]}
            )
        if Survey.objects.filter(project=project, key=key).exclude(pk=survey.pk).exists():
            raise ValidationError({"key": [f"Another survey already uses the key {key!r}."]})
        survey.key = key
    for name in ("intro", "thank_you"):
        if name in data:
            setattr(survey, name, data[name])
    if "questions" in data:
        survey.questions = validate_questions(data["questions"])
    segments = _targeted_fields(survey, project, data)
    if not survey.questions:
        raise ValidationError({"questions": ["A survey needs at least one question."]})
    _save_targeted(survey, segments)
    return survey


@transaction.atomic
def flag_save(*, project: Project, data: dict, flag: FeatureFlag | None = None, user=None) -> FeatureFlag:
    flag = flag or FeatureFlag(project=project, created_by=user)
    if "key" in data:
        key = data["key"]
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValidationError({"key": ["A lowercase key (letters, digits, - and _)."]})
        if FeatureFlag.objects.filter(project=project, key=key).exclude(pk=flag.pk).exists():
            raise ValidationError({"key": [f"Another flag already uses the key {key!r}."]})
        flag.key = key
    if "description" in data:
        flag.description = data["description"]
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise ValidationError({"enabled": ["true or false."]})
        flag.enabled = data["enabled"]
    if "variants" in data:
        flag.variants = validate_variants(data["variants"])
    if "rules" in data:
        flag.rules = validate_rules(project, data["rules"])
    if "bucket_by" in data:
        if data["bucket_by"] not in FeatureFlag.BucketBy.values:
            raise ValidationError({"bucket_by": ["person or company."]})
        flag.bucket_by = data["bucket_by"]
    if "goal" in data:
        flag.goal = _goal(project, data["goal"])
    if not flag.key:
        raise ValidationError({"key": ["This field is required."]})
    flag.full_clean(exclude=["project", "created_by"])
    flag.save()
    transaction.on_commit(lambda: targeting.forget(project.pk))
    return flag


@transaction.atomic
def webhook_save(*, project: Project, data: dict, webhook: Webhook | None = None) -> Webhook:
    webhook = webhook or Webhook(project=project, secret="whsec_" + secrets.token_urlsafe(24))
    for name in ("name", "url", "on_entry", "on_exit", "active"):
        if name in data:
            setattr(webhook, name, data[name])
    if webhook.url and not webhook.url.startswith(("http://", "https://")):
        raise ValidationError({"url": ["An http:// or https:// URL."]})
    segments = _segments(project, data["segments"]) if "segments" in data else None
    if segments is not None and not segments:
        raise ValidationError({"segments": ["Pick at least one segment."]})
    if not (webhook.on_entry or webhook.on_exit):
        raise ValidationError({"on_entry": ["Send on entry, on exit, or both."]})
    webhook.full_clean(exclude=["project"])
    webhook.save()
    if segments is not None:
        webhook.segments.set(segments)
    elif not webhook.segments.exists():
        raise ValidationError({"segments": ["Pick at least one segment."]})
    return webhook


@transaction.atomic
def alert_save(*, project: Project, data: dict, alert: SegmentAlert | None = None) -> SegmentAlert:
    alert = alert or SegmentAlert(project=project)
    if "segment" in data:
        alert.segment = _segments(project, [data["segment"]], "segment")[0]
    for name in ("threshold_percent", "window", "emails", "active"):
        if name in data:
            setattr(alert, name, data[name])
    if "webhook" in data:
        alert.webhook = (
            Webhook.objects.filter(project=project, pk=data["webhook"]).first() if data["webhook"] else None
        )
        if data["webhook"] and alert.webhook is None:
            raise ValidationError({"webhook": ["No such webhook in this project."]})
    alert.full_clean(exclude=["project"])
    alert.save()
    return alert


def flags_evaluate(*, project: Project, distinct_ids: list[str]) -> dict[str, dict]:
    """Server-side evaluation for a backend: every flag for each distinct id."""

    config = targeting.project_config(project.pk)
    out = {}
    for distinct_id in distinct_ids:
        state = targeting.person_state(
            project.pk, person_id_for(project, distinct_id), companies=config.uses_companies
        )
        out[distinct_id] = targeting.flags_for(config, state, distinct_id)
    return out


def intervention_delete(*, obj) -> None:
    """Delete a nudge, survey, flag, webhook or alert; exposures of a deleted nudge/survey/flag go with it."""

    kind = {Nudge: "nudge", Survey: "survey", FeatureFlag: "flag"}.get(type(obj))
    project_id = obj.project_id
    with transaction.atomic():
        if kind:
            Exposure.objects.filter(project_id=project_id, kind=kind, object_id=obj.pk).delete()
        obj.delete()
        transaction.on_commit(lambda: targeting.forget(project_id))


def webhook_rotate_secret(*, webhook: Webhook) -> str:
    """A new signing secret (the old one stops verifying at once); returned so it can be shown once."""
    webhook.secret = "whsec_" + secrets.token_urlsafe(24)
    webhook.save(update_fields=["secret"])
    return webhook.secret
