"""“Who would see this now?”: one distinct id against a nudge's or survey's targeting, with the reasons.

The yes/no is decide's own answer — the same configuration entry and the same
person state go through `targeting.nudges_for` / `surveys_for` — and the reasons
spell out each rule it applied: status and schedule, segments (and entry), holdout,
and what the person already saw, clicked, dismissed or answered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from interventions import targeting
from interventions.decide import person_id_for
from interventions.models import Nudge, Status, Survey
from segments.models import Segment
from tracking.models import Project

SURVEY_DISMISSED_DAYS = 30  # as targeting.surveys_for


@dataclass(frozen=True)
class Reason:
    ok: bool  # False: this rule keeps them from seeing it
    text: str


@dataclass
class Eligibility:
    distinct_id: str
    known: bool
    sees: bool
    held_out: bool = False
    reasons: list[Reason] = field(default_factory=list)
    pages: str = ""  # which pages it shows on

    @property
    def blocking(self) -> list[Reason]:
        return [r for r in self.reasons if not r.ok]


def _when(moment: datetime, project: Project) -> str:
    return timezone.localtime(moment, project.zone).strftime("%b %-d, %Y %H:%M")


def eligibility(
    *, project: Project, kind: str, obj: Nudge | Survey, distinct_id: str, now: datetime | None = None
) -> Eligibility:
    now = now or timezone.now()
    person_id = person_id_for(project, distinct_id)
    state = targeting.person_state(project.pk, person_id)
    entry = targeting.nudge_entry(obj) if kind == "nudge" else targeting.survey_entry(obj)
    result = Eligibility(distinct_id=distinct_id, known=person_id is not None, sees=False)
    reasons = result.reasons
    if not result.known:
        reasons.append(Reason(True, "Nobody with this distinct id has been seen in this project: "
                                    "this is what a new visitor with it would get (in no segment yet)."))  # fmt: skip

    live = obj.status == Status.LIVE
    reasons.append(
        Reason(True, "It is live.")
        if live
        else Reason(False, f"It is {obj.get_status_display().lower()}: nobody sees it until it is live.")
    )
    if obj.starts_at and obj.starts_at > now:
        reasons.append(Reason(False, f"It starts on {_when(obj.starts_at, project)}."))
    if obj.ends_at and obj.ends_at <= now:
        reasons.append(Reason(False, f"It ended on {_when(obj.ends_at, project)}."))

    targets = entry["segments"]
    if not targets:
        reasons.append(Reason(True, "It is for everyone (no segment chosen)."))
    else:
        names = dict(Segment.objects.filter(project=project, pk__in=targets).values_list("pk", "name"))
        inside = sorted(names[s] for s in targets & state.segments.keys() if s in names)
        if inside:
            reasons.append(Reason(True, f"They are in “{'”, “'.join(inside)}”."))
        else:
            wanted = "”, “".join(sorted(names.values()))
            reasons.append(Reason(False, f"They are in none of its segments (“{wanted}”)."))
        if (
            kind == "nudge"
            and entry["trigger"] == Nudge.Trigger.SEGMENT_ENTRY
            and inside
            and entry["live_since"]
        ):
            entered = max(state.segments[s] for s in targets & state.segments.keys())
            if entered < entry["live_since"]:
                reasons.append(Reason(False, "It shows when someone enters the segment, and they were in it "
                                             "before it went live."))  # fmt: skip

    percent = entry["holdout"]
    result.held_out = targeting.held_out(kind, obj.pk, distinct_id, percent)
    if result.held_out:
        reasons.append(Reason(False, f"They are in the holdout ({percent}% of eligible people are kept out "
                                     "on purpose, to measure the effect): they see nothing and count as held out."))  # fmt: skip
    elif percent:
        reasons.append(Reason(True, f"They are not in the holdout ({percent}%)."))

    exposure = state.exposures.get((kind, obj.pk))
    if exposure is not None and not exposure[0]:
        _, last_shown, times_shown, clicked_at, dismissed_at, answered_at = exposure
        if kind == "nudge":
            if entry["stop_after_click"] and clicked_at:
                reasons.append(Reason(False, f"They already clicked it ({_when(clicked_at, project)}); "
                                             "it stops after a click."))  # fmt: skip
            if entry["max_impressions"] and times_shown >= entry["max_impressions"]:
                reasons.append(Reason(False, f"They have seen it {times_shown} times, "
                                             f"the most it is shown ({entry['max_impressions']})."))  # fmt: skip
            if (
                entry["frequency_days"]
                and last_shown
                and last_shown > now - timedelta(days=entry["frequency_days"])
            ):
                again = last_shown + timedelta(days=entry["frequency_days"])
                reasons.append(Reason(False, f"They saw it on {_when(last_shown, project)}; "
                                             f"it shows again after {_when(again, project)}."))  # fmt: skip
            elif times_shown:
                reasons.append(Reason(True, f"They have seen it {times_shown} "
                                            f"time{'s' if times_shown != 1 else ''} before."))  # fmt: skip
        else:
            if answered_at:
                reasons.append(Reason(False, f"They already answered it ({_when(answered_at, project)})."))
            elif dismissed_at and dismissed_at > now - timedelta(days=SURVEY_DISMISSED_DAYS):
                reasons.append(Reason(False, f"They dismissed it on {_when(dismissed_at, project)}; "
                                             f"it is not asked again for {SURVEY_DISMISSED_DAYS} days."))  # fmt: skip

    # the answer itself is decide's: the same entry and state through the same rules
    if live and targeting.in_schedule(obj, now):
        config = targeting.ProjectConfig(**{f"{kind}s": [entry]})
        chosen = (targeting.nudges_for if kind == "nudge" else targeting.surveys_for)(
            config, state, distinct_id, now
        )
        result.sees = any(not item.get("held_out") for item in chosen)
    result.pages = _pages(entry)
    return result


def _pages(entry: dict) -> str:
    if not entry["url"]:
        return "on every page"
    how = {"exact": "is exactly", "regex": "matches the expression"}.get(entry["url_matching"], "contains")
    return f"on pages whose address {how} “{entry['url']}”"
