"""Who gets what: bucketing, flag evaluation, and the decide providers for flags, nudges and surveys.

Decide must stay a few indexed lookups: the project's live interventions are
cached in-process for a few seconds; per request it reads the person's open
memberships (membership_person_open), their company's (company_membership_open)
and their exposures (exposure_project_person).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from interventions.models import FeatureFlag, Nudge, Status, Survey
from segments.models import Segment, SegmentSubject
from segments.selectors import company_segments_of, open_segments_of
from tracking.models import Company, Person

if TYPE_CHECKING:
    from interventions.decide import Visitor

CACHE_SECONDS = 5.0
_cache: dict[int, tuple[float, ProjectConfig]] = {}


def bucket(salt: str, distinct_id: str) -> float:
    """A stable number in [0, 1) for this salt and visitor: the same visitor always lands in the same place."""
    digest = hashlib.sha1(f"{salt}.{distinct_id}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:15], 16) / float(16**15)


def flag_value(
    flag: FeatureFlag | dict, distinct_id: str, segment_ids: set[int], company_key: str | None = None
) -> bool | str:
    """Rules in order; the first whose segment contains the person or their company (or that targets
    everyone) decides. A flag bucketed by company draws its rollout and variant for the company's key,
    so everyone at a company gets the same value; without a company it is off."""
    get = flag.get if isinstance(flag, dict) else lambda key, default=None: getattr(flag, key, default)
    if not get("enabled"):
        return False
    by_company = get("bucket_by") == "company"
    if by_company and not company_key:
        return False
    unit = f"company:{company_key}" if by_company else distinct_id
    key = get("key")
    for rule in get("rules") or []:
        segment = rule.get("segment")
        if segment is not None and segment not in segment_ids:
            continue
        if bucket(key, unit) * 100 >= float(rule.get("rollout", 100)):
            return False
        variants = get("variants") or []
        if not variants:
            return True
        return pick_variant(key, unit, variants)
    return False


def pick_variant(key: str, distinct_id: str, variants: list[dict]) -> str:
    total = sum(float(v.get("weight", 0)) for v in variants) or 1.0
    point = bucket(f"{key}.variant", distinct_id) * total
    running = 0.0
    for variant in variants:
        running += float(variant.get("weight", 0))
        if point < running:
            return variant["key"]
    return variants[-1]["key"]


def held_out(kind: str, object_id: int, distinct_id: str, percent: int) -> bool:
    return percent > 0 and bucket(f"holdout.{kind}.{object_id}", distinct_id) * 100 < percent


@dataclass
class ProjectConfig:
    flags: list[dict] = field(default_factory=list)
    nudges: list[dict] = field(default_factory=list)
    surveys: list[dict] = field(default_factory=list)
    # the project has company segments or flags rolled out by company: decide looks the company up
    uses_companies: bool = False


def _in_schedule(item, now: datetime) -> bool:
    return (item.starts_at is None or item.starts_at <= now) and (item.ends_at is None or item.ends_at > now)


def project_config(project_id: int) -> ProjectConfig:
    """The project's live interventions, as plain dicts, cached for a few seconds."""
    now_mono = time.monotonic()
    cached = _cache.get(project_id)
    if cached and now_mono - cached[0] < CACHE_SECONDS:
        return cached[1]
    now = timezone.now()
    config = ProjectConfig()
    for flag in FeatureFlag.objects.filter(project_id=project_id):
        config.flags.append(
            {
                "key": flag.key, "enabled": flag.enabled, "rules": flag.rules,
                "variants": flag.variants, "bucket_by": flag.bucket_by,
            }
        )  # fmt: skip
    for nudge in Nudge.objects.filter(project_id=project_id, status=Status.LIVE).prefetch_related("segments"):
        if _in_schedule(nudge, now):
            config.nudges.append(nudge_entry(nudge))
    config.uses_companies = any(f["bucket_by"] == "company" for f in config.flags) or (
        Segment.objects.filter(project_id=project_id, subject=SegmentSubject.COMPANY).exists()
    )
    for survey in Survey.objects.filter(project_id=project_id, status=Status.LIVE).prefetch_related(
        "segments"
    ):
        if _in_schedule(survey, now):
            config.surveys.append(survey_entry(survey))
    _cache[project_id] = (now_mono, config)
    return config


def nudge_entry(nudge: Nudge) -> dict:
    """A nudge as decide's configuration holds it (targeting rules and what the snippet shows)."""
    return {
        "id": nudge.pk, "kind": nudge.kind, "title": nudge.title, "body": nudge.body,
        "cta_text": nudge.cta_text, "cta_url": nudge.cta_url, "anchor_selector": nudge.anchor_selector,
        "url_matching": nudge.url_matching, "url": nudge.url, "trigger": nudge.trigger,
        "segments": {s.pk for s in nudge.segments.all()}, "holdout": nudge.holdout_percent,
        "frequency_days": nudge.frequency_days, "max_impressions": nudge.max_impressions,
        "stop_after_click": nudge.stop_after_click, "live_since": nudge.live_since,
    }  # fmt: skip


def survey_entry(survey: Survey) -> dict:
    """A survey as decide's configuration holds it."""
    return {
        "id": survey.pk, "key": survey.key, "name": survey.name, "intro": survey.intro,
        "questions": survey.questions, "thank_you": survey.thank_you,
        "url_matching": survey.url_matching, "url": survey.url,
        "segments": {s.pk for s in survey.segments.all()}, "holdout": survey.holdout_percent,
    }  # fmt: skip


NUDGE_RULES = ("segments", "holdout", "frequency_days", "max_impressions", "stop_after_click", "live_since")
SURVEY_RULES = ("segments", "holdout")


def public_entry(kind: str, entry: dict) -> dict:
    """What the snippet receives: the entry without its targeting rules."""
    hidden = NUDGE_RULES if kind == "nudge" else SURVEY_RULES
    return {k: v for k, v in entry.items() if k not in hidden}


def in_schedule(item, now: datetime) -> bool:
    return _in_schedule(item, now)


def forget(project_id: int | None = None) -> None:
    if project_id is None:
        _cache.clear()
    else:
        _cache.pop(project_id, None)


@dataclass
class PersonState:
    # segment id -> entered_at: the person's segments and their company's company segments
    segments: dict[int, datetime] = field(default_factory=dict)
    exposures: dict[tuple[str, int], tuple] = field(default_factory=dict)
    company_key: str | None = None


def company_for(project_id: int, person_id: int | None, company_key: str | None) -> tuple[int, str] | None:
    """The visitor's company: the key the snippet's group() sent, else the person's company.

    Relies on company_project_key (project_id, key) and the person's primary key.
    """
    if company_key:
        found = (
            Company.objects.filter(project_id=project_id, key=company_key)
            .values_list("pk", flat=True)
            .first()
        )
        return (found, company_key) if found else (0, company_key)  # known to the snippet, not stored yet
    if person_id is None:
        return None
    row = (
        Person.objects.filter(project_id=project_id, pk=person_id, company__isnull=False)
        .values_list("company_id", "company__key")
        .first()
    )
    return row


def person_state(
    project_id: int, person_id: int | None, company_key: str | None = None, *, companies: bool = True
) -> PersonState:
    """The visitor's segments (and, with `companies`, their company's) and exposures."""
    state = PersonState()
    company = company_for(project_id, person_id, company_key) if companies else None
    if company is not None:
        company_id, state.company_key = company
        if company_id:
            state.segments.update(company_segments_of(project_id=project_id, company_id=company_id))
    if person_id is None:
        return state
    state.segments.update(open_segments_of(project_id=project_id, person_id=person_id))
    with connection.cursor() as cursor:
        # relies on exposure_project_person (project_id, person_id)
        cursor.execute(
            "SELECT kind, object_id, held_out, last_shown_at, times_shown, clicked_at, dismissed_at, answered_at"
            " FROM interventions_exposure WHERE project_id = %s AND person_id = %s",
            [project_id, person_id],
        )
        for kind, object_id, *rest in cursor.fetchall():
            state.exposures[(kind, object_id)] = tuple(rest)
    return state


def _targets(item: dict, state: PersonState) -> bool:
    return not item["segments"] or bool(item["segments"] & state.segments.keys())


def nudges_for(config: ProjectConfig, state: PersonState, distinct_id: str, now: datetime) -> list[dict]:
    out = []
    for nudge in config.nudges:
        if not _targets(nudge, state):
            continue
        if nudge["trigger"] == Nudge.Trigger.SEGMENT_ENTRY and nudge["live_since"]:
            entered = [state.segments[s] for s in nudge["segments"] & state.segments.keys()]
            if not entered or max(entered) < nudge["live_since"]:
                continue  # in the segment since before the nudge went live: not an entry
        exposure = state.exposures.get(("nudge", nudge["id"]))
        public = public_entry("nudge", nudge)
        if held_out("nudge", nudge["id"], distinct_id, nudge["holdout"]):
            if exposure is None or not exposure[0]:
                out.append(
                    {
                        "id": nudge["id"],
                        "held_out": True,
                        "url_matching": nudge["url_matching"],
                        "url": nudge["url"],
                    }
                )
            continue
        if exposure is not None:
            _, last_shown, times_shown, clicked_at, _dismissed, _answered = exposure
            if nudge["stop_after_click"] and clicked_at:
                continue
            if nudge["max_impressions"] and times_shown >= nudge["max_impressions"]:
                continue
            if (
                nudge["frequency_days"]
                and last_shown
                and last_shown > now - timedelta(days=nudge["frequency_days"])
            ):
                continue
        out.append(public)
    return out


def surveys_for(config: ProjectConfig, state: PersonState, distinct_id: str, now: datetime) -> list[dict]:
    out = []
    for survey in config.surveys:
        if not _targets(survey, state):
            continue
        exposure = state.exposures.get(("survey", survey["id"]))
        if held_out("survey", survey["id"], distinct_id, survey["holdout"]):
            if exposure is None or not exposure[0]:
                out.append(
                    {
                        "id": survey["id"],
                        "key": survey["key"],
                        "held_out": True,
                        "url_matching": survey["url_matching"],
                        "url": survey["url"],
                    }
                )
            continue
        if exposure is not None:
            _, _last_shown, _times, _clicked, dismissed_at, answered_at = exposure
            if answered_at or (dismissed_at and dismissed_at > now - timedelta(days=30)):
                continue
        out.append(public_entry("survey", survey))
    return out


def flags_for(config: ProjectConfig, state: PersonState, distinct_id: str) -> dict:
    segment_ids = set(state.segments)
    return {
        flag["key"]: flag_value(flag, distinct_id, segment_ids, state.company_key) for flag in config.flags
    }


def group_key(payload) -> str | None:
    """The company key the snippet sends with decide (`"groups": {"company": key}`), if any."""
    groups = payload.get("groups") if hasattr(payload, "get") else None
    key = groups.get("company") if isinstance(groups, dict) else None
    return key.strip()[:200] if isinstance(key, str) and key.strip() and "\x00" not in key else None


def decide_parts(visitor: Visitor) -> dict:
    """Flags, nudges and surveys for one visitor: two indexed lookups plus the cached project config."""
    config = project_config(visitor.project.pk)
    state = person_state(
        visitor.project.pk, visitor.person_id, group_key(visitor.payload), companies=config.uses_companies
    )
    now = timezone.now()
    answer = {
        "flags": flags_for(config, state, visitor.distinct_id),
        "nudges": nudges_for(config, state, visitor.distinct_id, now),
        "surveys": surveys_for(config, state, visitor.distinct_id, now),
    }
    token = visitor.payload.get("preview")
    if token:
        # a team member's preview link: show that one nudge or survey, marked so nothing is recorded
        from interventions.preview import preview_entry

        found = preview_entry(project_id=visitor.project.pk, token=token)
        if found is not None:
            part = "nudges" if found[0] == "nudge" else "surveys"
            entry = found[1]
            answer[part] = [e for e in answer[part] if e.get("id") != entry["id"]] + [entry]
    return answer
