"""A survey's answers: counts per choice, NPS, numbers and the latest open answers, for everyone or one segment."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection

from interventions.models import (
    Survey,
)
from segments.models import Segment
from segments.selectors import member_list
from tracking.eventstore import activity

OPEN_ANSWERS_SHOWN = 20


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
    # a response names its survey by id ($survey_id, from the snippet) or by key ($survey, from a server)
    return activity.survey_responses_sql(survey.project_id, survey_id=survey.pk, key=survey.key)


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
    survey condition of a segment reads it). Everything is aggregated in PostgreSQL
    over the survey's `$survey_response` events, read where the event store keeps
    them (with ClickHouse, the responses' answers are handed in as arrays).
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
