"""Reads for the intervention pages: lists with reach, segment choices, survey answers, the strategy map."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet

from interventions.models import (
    Exposure,
    FeatureFlag,
    Nudge,
    SegmentAlert,
    Status,
    Survey,
    Webhook,
    WebhookDelivery,
)
from segments.models import Segment, SegmentationModel
from segments.selectors import member_list, segment_list
from tracking.models import Project

OPEN_ANSWERS_SHOWN = 20


# -- lists ------------------------------------------------------------------------------------------


def nudge_list(*, project: Project) -> QuerySet[Nudge]:
    return Nudge.objects.filter(project=project).prefetch_related("segments").order_by("-created_at", "-pk")


def survey_list(*, project: Project) -> QuerySet[Survey]:
    return Survey.objects.filter(project=project).prefetch_related("segments").order_by("-created_at", "-pk")


def flag_list(*, project: Project) -> QuerySet[FeatureFlag]:
    return FeatureFlag.objects.filter(project=project).order_by("key")


def webhook_list(*, project: Project) -> QuerySet[Webhook]:
    """Webhooks with their last delivery time and how many deliveries are failing or waiting for a retry."""
    return (
        Webhook.objects.filter(project=project)
        .prefetch_related("segments")
        .annotate(
            last_delivery_at=Max("deliveries__created_at"),
            failing=Count("deliveries", filter=Q(deliveries__state__in=["failed", "retrying"])),
        )
        .order_by("name", "pk")
    )


def delivery_list(*, webhook: Webhook) -> QuerySet[WebhookDelivery]:
    # relies on delivery_webhook_created (webhook_id, created_at DESC)
    return WebhookDelivery.objects.filter(webhook=webhook).order_by("-created_at", "-pk")


def alert_list(*, project: Project) -> QuerySet[SegmentAlert]:
    return (
        SegmentAlert.objects.filter(project=project)
        .select_related("segment", "webhook")
        .order_by("segment__name", "pk")
    )


@dataclass(frozen=True)
class Reach:
    exposed: int = 0
    held_out: int = 0


def reach(*, project: Project, kind: str, object_ids: list[int]) -> dict[int, Reach]:
    """Distinct persons who saw each object (or, for flags, were evaluated) and who were held out.

    One row per person and object in Exposure, so counting rows counts people
    (exposure_unique: project, kind, object_id, person).
    """
    shown = Q(held_out=False) & (
        Q(times_shown__gt=0) | Q(answered_at__isnull=False) | Q(kind=Exposure.Kind.FLAG)
    )
    rows = (
        Exposure.objects.filter(project=project, kind=kind, object_id__in=object_ids)
        .values("object_id")
        .annotate(exposed=Count("id", filter=shown), held=Count("id", filter=Q(held_out=True)))
        .order_by()
    )
    found = {row["object_id"]: Reach(row["exposed"], row["held"]) for row in rows}
    return {object_id: found.get(object_id, Reach()) for object_id in object_ids}


# -- segments to pick from --------------------------------------------------------------------------


@dataclass
class SegmentGroup:
    """Segments shown together in a picker: the standalone ones, or the groups of one model."""

    label: str
    segments: list[Segment]
    model: SegmentationModel | None = None


def segment_groups(*, project: Project) -> list[SegmentGroup]:
    """The project's segments for pickers: standalone segments first, then each model's groups in order."""
    segments = list(segment_list(project=project))
    groups = [SegmentGroup("Segments", [s for s in segments if s.model_id is None])]
    models: dict[int, SegmentGroup] = {}
    for segment in segments:
        if segment.model_id is not None:
            models.setdefault(
                segment.model_id, SegmentGroup(segment.model.name, [], segment.model)
            ).segments.append(segment)
    for group in sorted(models.values(), key=lambda g: (g.label, g.model.pk if g.model else 0)):
        group.segments.sort(key=lambda s: (s.is_model_remainder, s.model_position, s.pk))
        groups.append(group)
    return [g for g in groups if g.segments]


# -- survey answers ---------------------------------------------------------------------------------


@dataclass
class AnswerCount:
    answer: str
    count: int
    share: float  # of the question's respondents (multiple choice shares add up to more than 1)
    members: int = 0
    member_share: float = 0.0
    others: int = 0
    other_share: float = 0.0


@dataclass
class Nps:
    score: float  # percent promoters minus percent detractors, from -100 to 100
    promoters: int
    passives: int
    detractors: int


@dataclass
class OpenAnswer:
    text: str
    at: datetime
    person_id: int
    member: bool


@dataclass
class QuestionResult:
    question: dict
    respondents: int = 0
    members: int = 0
    others: int = 0
    counts: list[AnswerCount] = field(default_factory=list)
    average: float | None = None
    nps: Nps | None = None
    member_nps: Nps | None = None
    other_nps: Nps | None = None
    latest: list[OpenAnswer] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.question.get("type", "")

    @property
    def is_nps(self) -> bool:
        return self.kind == "rating" and self.question.get("scale", 10) == 10


@dataclass
class SurveyResults:
    responses: int
    respondents: int
    questions: list[QuestionResult]
    segment: Segment | None = None


def _responses_cte(survey: Survey) -> tuple[str, list]:
    # one index range on event_project_name_ts (project_id, name, timestamp); a response names
    # its survey by id ($survey_id, from the snippet) or by key ($survey, from a server)
    return (
        "SELECT e.person_id, e.timestamp, e.properties -> '$answers' AS answers FROM tracking_event e"
        " WHERE e.project_id = %s AND e.name = '$survey_response'"
        " AND (e.properties ->> '$survey_id' = %s OR e.properties ->> '$survey' = %s)"
        " AND jsonb_typeof(e.properties -> '$answers') = 'object'",
        [survey.project_id, str(survey.pk), survey.key],
    )


def _member_test(segment: Segment | None) -> tuple[str, list]:
    """SQL true when `person_id` is a current member of the segment (false without one)."""
    if segment is None:
        return "false", []
    # segments' own selector, on membership_open_unique (segment_id, person_id) WHERE exited_at IS NULL
    sql, params = member_list(segment=segment).order_by().values("person_id").query.sql_with_params()
    return f"person_id IN ({sql})", list(params)


def _number(answer: str) -> float | None:
    try:
        value = float(answer)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _label(answer: str) -> str:
    """Ratings arrive as 9 or 9.0; show them the same way."""
    value = _number(answer)
    if value is not None and value == int(value):
        return str(int(value))
    return answer


def _nps(counts: dict[str, int]) -> Nps | None:
    promoters = passives = detractors = 0
    for answer, n in counts.items():
        value = _number(answer)
        if value is None or not 0 <= value <= 10:
            continue
        if value >= 9:
            promoters += n
        elif value >= 7:
            passives += n
        else:
            detractors += n
    total = promoters + passives + detractors
    if not total:
        return None
    return Nps(
        score=(promoters - detractors) * 100 / total,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
    )


def _ordered_answers(question: dict, seen: set[str]) -> list[str]:
    """The question's own choices (or scale) in their order, then any other answer that came in."""
    kind = question.get("type")
    if kind in ("single", "multiple"):
        base = list(question.get("choices", []))
    elif kind == "rating":
        base = [str(n) for n in (range(0, 11) if question.get("scale", 10) == 10 else range(1, 6))]
    else:
        base = []
    extra = sorted(seen - set(base), key=lambda a: (_number(a) is None, _number(a) or 0, a))
    return base + extra


def survey_results(*, survey: Survey, segment: Segment | None = None) -> SurveyResults:
    """Response counts, each closed question's distribution and each open question's latest answers.

    Each person counts once per question, with their latest answer to it (as the
    survey condition of a segment reads it). Everything is aggregated in SQL over
    the survey's `$survey_response` events; no event is loaded into Python.
    """
    responses_sql, responses_params = _responses_cte(survey)
    member_sql, member_params = _member_test(segment)
    questions = [q for q in survey.questions if isinstance(q, dict) and q.get("key")]
    closed = [q["key"] for q in questions if q.get("type") != "open"]
    open_keys = [q["key"] for q in questions if q.get("type") == "open"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH r AS ({responses_sql}) SELECT count(*), count(DISTINCT person_id) FROM r",  # noqa: S608 - constant SQL
            responses_params,
        )
        responses, respondents = cursor.fetchone()
        cursor.execute(
            f"""
            WITH r AS ({responses_sql}),
            latest AS (
                SELECT DISTINCT ON (a.key, r.person_id) a.key, r.person_id, a.value
                FROM r CROSS JOIN LATERAL jsonb_each(r.answers) a
                WHERE a.key = ANY(%s) AND jsonb_typeof(a.value) <> 'null' AND a.value <> '""'::jsonb
                ORDER BY a.key, r.person_id, r.timestamp DESC
            ),
            tagged AS (SELECT key, value, {member_sql} AS member FROM latest)
            SELECT key, NULL AS answer, member, count(*) FROM tagged GROUP BY key, member
            UNION ALL
            SELECT t.key, x.answer, t.member, count(*)
            FROM tagged t CROSS JOIN LATERAL jsonb_array_elements_text(
                CASE WHEN jsonb_typeof(t.value) = 'array' THEN t.value ELSE jsonb_build_array(t.value) END) AS x(answer)
            WHERE t.key = ANY(%s) AND x.answer IS NOT NULL AND x.answer <> ''
            GROUP BY t.key, x.answer, t.member
            """,  # noqa: S608 - constant SQL; the member test is segments' own parameterised query
            [*responses_params, [*closed, *open_keys], *member_params, closed],
        )
        distribution = cursor.fetchall()
        cursor.execute(
            f"""
            WITH r AS ({responses_sql}),
            latest AS (
                SELECT DISTINCT ON (a.key, r.person_id) a.key, a.value #>> '{{}}' AS text, r.timestamp, r.person_id
                FROM r CROSS JOIN LATERAL jsonb_each(r.answers) a
                WHERE a.key = ANY(%s) AND jsonb_typeof(a.value) = 'string' AND btrim(a.value #>> '{{}}') <> ''
                ORDER BY a.key, r.person_id, r.timestamp DESC
            ),
            answers AS (
                SELECT *, row_number() OVER (PARTITION BY key ORDER BY timestamp DESC) AS n FROM latest
            )
            SELECT key, text, timestamp, person_id, {member_sql} FROM answers WHERE n <= %s ORDER BY key, timestamp DESC
            """,  # noqa: S608 - constant SQL, as above
            [*responses_params, open_keys, *member_params, OPEN_ANSWERS_SHOWN],
        )
        open_rows = cursor.fetchall()

    totals: dict[str, dict[bool, int]] = defaultdict(lambda: {True: 0, False: 0})
    counts: dict[str, dict[str, dict[bool, int]]] = defaultdict(
        lambda: defaultdict(lambda: {True: 0, False: 0})
    )
    for key, answer, member, n in distribution:
        if answer is None:
            totals[key][member] += n
        else:
            counts[key][_label(answer)][member] += n
    latest: dict[str, list[OpenAnswer]] = defaultdict(list)
    for key, text, at, person_id, member in open_rows:
        latest[key].append(OpenAnswer(text=text, at=at, person_id=person_id, member=bool(member)))

    results = []
    for question in questions:
        key = question["key"]
        members, others = totals[key][True], totals[key][False]
        result = QuestionResult(
            question=question, respondents=members + others, members=members, others=others
        )
        if question.get("type") == "open":
            result.latest = latest[key]
        else:
            by_answer = counts[key]
            for answer in _ordered_answers(question, set(by_answer)):
                m, o = (
                    by_answer.get(answer, {True: 0, False: 0})[True],
                    by_answer.get(answer, {True: 0, False: 0})[False],
                )
                total = result.respondents
                result.counts.append(
                    AnswerCount(
                        answer=answer, count=m + o, share=(m + o) / total if total else 0.0,
                        members=m, member_share=m / members if members else 0.0,
                        others=o, other_share=o / others if others else 0.0,
                    )
                )  # fmt: skip
            if question.get("type") == "rating":
                numeric = [(v, c.count) for c in result.counts if (v := _number(c.answer)) is not None]
                answered = sum(n for _, n in numeric)
                result.average = sum(v * n for v, n in numeric) / answered if answered else None
                if result.is_nps:
                    result.nps = _nps({c.answer: c.count for c in result.counts})
                    result.member_nps = _nps({c.answer: c.members for c in result.counts})
                    result.other_nps = _nps({c.answer: c.others for c in result.counts})
        results.append(result)
    return SurveyResults(responses=responses, respondents=respondents, questions=results, segment=segment)


# -- strategy: which segment gets which treatment ---------------------------------------------------


@dataclass(frozen=True)
class Treatment:
    """One intervention as it applies to one segment."""

    kind: str  # nudge, survey, flag, webhook, alert
    obj: Nudge | Survey | FeatureFlag | Webhook | SegmentAlert
    detail: str = ""
    # what makes the same intervention a different treatment (a flag's rollout), for comparing groups
    variant: str = ""

    @property
    def acting(self) -> bool:
        """Does it change anything for the segment's people right now? (An alert only tells the team.)"""
        if self.kind in ("nudge", "survey"):
            return self.obj.status == Status.LIVE
        if self.kind == "flag":
            return self.obj.enabled
        if self.kind == "webhook":
            return self.obj.active
        return False

    @property
    def state(self) -> str:
        if self.kind in ("nudge", "survey"):
            return self.obj.get_status_display().lower()
        if self.kind == "flag":
            return "on" if self.obj.enabled else "off"
        return "active" if self.obj.active else "inactive"

    @property
    def measurable(self) -> bool:
        return self.kind in ("nudge", "survey", "flag")

    @property
    def signature(self) -> tuple[str, int, str]:
        return (self.kind, self.obj.pk, self.variant)


@dataclass
class SegmentTreatments:
    segment: Segment
    name: str
    treatments: list[Treatment] = field(default_factory=list)
    alerts: list[Treatment] = field(default_factory=list)

    @property
    def acting(self) -> list[Treatment]:
        return [t for t in self.treatments if t.acting]

    @property
    def reporting_only(self) -> bool:
        """A segment that changes no message, flow or gate is just reporting."""
        return not self.acting

    @property
    def signature(self) -> frozenset:
        return frozenset(t.signature for t in self.acting)


@dataclass
class ModelTreatments:
    model: SegmentationModel
    groups: list[SegmentTreatments]
    merge_candidates: list[list[SegmentTreatments]] = field(default_factory=list)

    @property
    def all_reporting(self) -> bool:
        return all(g.reporting_only for g in self.groups)

    @property
    def merge_ids(self) -> set[int]:
        return {row.segment.pk for members in self.merge_candidates for row in members}


@dataclass
class Strategy:
    segments: list[SegmentTreatments]
    models: list[ModelTreatments]
    everyone: list[Treatment]

    @property
    def reporting_only_count(self) -> int:
        return sum(1 for s in self.segments if s.reporting_only) + sum(
            1 for m in self.models for g in m.groups if g.reporting_only
        )


def _short(segment: Segment) -> str:
    if segment.model_id and segment.name.startswith(f"{segment.model.name}: "):
        return segment.name[len(segment.model.name) + 2 :]
    return segment.name


def strategy(*, project: Project) -> Strategy:
    """Every segment (and each group of each model) with the interventions that target it.

    Groups of one model that get exactly the same acting treatment are candidates
    to merge: splitting them changes nothing anyone experiences. A model none of
    whose groups is treated is reporting only as a whole, so no merge is suggested.
    """
    by_segment: dict[int, list[Treatment]] = defaultdict(list)
    alerts: dict[int, list[Treatment]] = defaultdict(list)
    everyone: list[Treatment] = []
    for kind, items in (("nudge", nudge_list(project=project)), ("survey", survey_list(project=project))):
        for item in items:
            targets = list(item.segments.all())
            if not targets:
                everyone.append(Treatment(kind, item))
            for segment in targets:
                by_segment[segment.pk].append(Treatment(kind, item))
    for flag in flag_list(project=project):
        seen: set[int | None] = set()
        for index, rule in enumerate(flag.rules or []):
            segment_id = rule.get("segment")
            if segment_id in seen:
                continue  # a later rule for the same segment never decides anything
            seen.add(segment_id)
            rollout = f"{rule.get('rollout', 100):g}"
            treatment = Treatment("flag", flag, f"rule {index + 1}: {rollout}% rollout", variant=rollout)
            if segment_id is None:
                everyone.append(treatment)
            else:
                by_segment[segment_id].append(treatment)
    for hook in Webhook.objects.filter(project=project).prefetch_related("segments").order_by("name", "pk"):
        when = " and ".join(w for w, on in (("entry", hook.on_entry), ("exit", hook.on_exit)) if on)
        for segment in hook.segments.all():
            by_segment[segment.pk].append(Treatment("webhook", hook, f"on {when}"))
    for alert in alert_list(project=project):
        alerts[alert.segment_id].append(
            Treatment("alert", alert, f"±{alert.threshold_percent}% {alert.get_window_display().lower()}")
        )

    def row(segment: Segment) -> SegmentTreatments:
        return SegmentTreatments(
            segment, _short(segment), by_segment.get(segment.pk, []), alerts.get(segment.pk, [])
        )

    standalone, models = [], []
    for group in segment_groups(project=project):
        if group.model is None:
            standalone = [row(s) for s in group.segments]
            continue
        rows = [row(s) for s in group.segments]
        entry = ModelTreatments(model=group.model, groups=rows)
        if not entry.all_reporting:
            same: dict[frozenset, list[SegmentTreatments]] = defaultdict(list)
            for r in rows:
                same[r.signature].append(r)
            entry.merge_candidates = [members for members in same.values() if len(members) > 1]
        models.append(entry)
    return Strategy(segments=standalone, models=models, everyone=everyone)
