"""Did the segment respond? Exposed vs holdout (or each flag variant vs the first) on a goal.

The goal is "did E within N days of first exposure" (E an event or action).
Everything is counted in SQL over exposures; whether an exposure converted is
the event store's test (`tracking.eventstore.activity.conversion_sql`): on
PostgreSQL one indexed EXISTS per exposure on event_project_person_ts, on
ClickHouse the converted persons found there once per measurement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection

from interventions.lift import ProportionComparison
from segments.definition import DefinitionError, _Validator
from segments.models import Segment
from segments.selectors import member_at_sql
from tracking.eventstore import activity
from tracking.models import Action
from tracking.traffic.filtering import TrafficFilter, person_filter_sql
from web import budget


@dataclass
class GroupResult:
    label: str
    persons: int
    converted: int

    @property
    def rate(self) -> float:
        return self.converted / self.persons if self.persons else 0.0


@dataclass
class Measurement:
    goal: dict
    groups: list[GroupResult] = field(default_factory=list)
    comparison: ProportionComparison | None = None
    verdict: str = ""
    by_segment: list[dict] = field(default_factory=list)
    timeline: list[dict] = field(default_factory=list)
    error: str = ""
    # the conversion test, worked out once for every breakdown of this measurement
    conversion: tuple[str, list] = field(default=("false", []), repr=False)

    def as_dict(self) -> dict:
        c = self.comparison
        return {
            "goal": self.goal,
            "groups": [
                {"label": g.label, "persons": g.persons, "converted": g.converted, "rate": g.rate}
                for g in self.groups
            ],
            "lift": c.lift if c else None,
            "difference": c.difference if c else None,
            "interval_95": list(c.interval()) if c else None,
            "p_value": c.p_value if c else None,
            "enough_data": c.enough_data if c else False,
            "verdict": self.verdict,
            "by_segment": self.by_segment,
            "timeline": self.timeline,
            "error": self.error,
        }


def validate_goal(goal: object, *, project_id: int) -> dict:
    """`{"event": E, "within_days": n}`; raises DefinitionError with the path."""
    v = _Validator(project_id=project_id, segment_id=None)
    goal = v.obj(goal, "goal")
    return {
        "event": v.event(goal.get("event"), "goal.event"),
        "within_days": v.integer(goal.get("within_days", 7), "goal.within_days", minimum=1, maximum=365),
    }


def _action_steps(project) -> Callable[[int], list]:
    def steps(action_id: int) -> list:
        return (
            Action.objects.filter(project_id=project.pk, pk=action_id).values_list("steps", flat=True).first()
            or []
        )

    return steps


def _conversion(project, kind: str, object_id: int, goal: dict) -> tuple[str, list]:
    """Did exposure `x` convert: the goal within the goal's days of first exposure (event store)."""
    exposures = (
        "SELECT person_id, first_at FROM interventions_exposure"
        " WHERE project_id = %s AND kind = %s AND object_id = %s",
        [project.pk, kind, object_id],
    )
    return activity.conversion_sql(
        project.pk,
        exposures_sql=exposures,
        within=timedelta(days=goal["within_days"]),
        spec=goal["event"],
        action_steps=_action_steps(project),
    )


def _rows(
    project,
    kind: str,
    object_id: int,
    conversion: tuple[str, list],
    *,
    segment_id: int | None,
    by_day: bool,
    traffic: TrafficFilter | None = None,
) -> list[tuple]:
    converted, converted_params = conversion
    counted, counted_params = person_filter_sql(
        "x.person_id", project=project, traffic=traffic or TrafficFilter()
    )
    segment_sql, segment_params = "", []
    if segment_id is not None:
        # In the segment when first exposed (the goal may well take people out of it
        # afterwards); exposures from before the segment was first computed count its
        # first members.
        member_sql, segment_params = member_at_sql(
            segment_id=segment_id, person="x.person_id", at="x.first_at"
        )
        segment_sql = f" AND {member_sql}"
    group_by = "x.held_out, x.variant" + (", (x.first_at AT TIME ZONE %s)::date" if by_day else "")
    select_day = ", (x.first_at AT TIME ZONE %s)::date" if by_day else ""
    tz = [project.zone.key] if by_day else []
    sql = f"""
        SELECT x.held_out, x.variant{select_day}, count(*), count(*) FILTER (WHERE {converted})
        FROM interventions_exposure x
        WHERE x.project_id = %s AND x.kind = %s AND x.object_id = %s
          AND (x.held_out OR x.times_shown > 0 OR x.kind = 'flag') AND {counted}{segment_sql}
        GROUP BY {group_by}
    """  # noqa: S608 - constant SQL composed with the event store's parameterised conversion test
    params = [
        *tz,
        *converted_params,
        project.pk,
        kind,
        object_id,
        *counted_params,
        *segment_params,
        *tz,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _label(kind: str, held_out: bool, variant: str) -> str:
    if held_out:
        return "holdout"
    if kind == "flag":
        return variant or "(none)"
    return "exposed"


def _groups(kind: str, rows) -> list[GroupResult]:
    totals: dict[str, list[int]] = {}
    for held, variant, n, converted in rows:
        label = _label(kind, held, variant)
        entry = totals.setdefault(label, [0, 0])
        entry[0] += n
        entry[1] += converted
    ordered = sorted(totals.items(), key=lambda kv: (kv[0] == "holdout", kv[0]))
    return [GroupResult(label, n, x) for label, (n, x) in ordered]


def compare_groups(kind: str, groups: list[GroupResult]) -> ProportionComparison | None:
    by_label = {g.label: g for g in groups}
    if kind in ("nudge", "survey"):
        a, b = by_label.get("exposed"), by_label.get("holdout")
    else:
        a, b = (groups[1], groups[0]) if len(groups) >= 2 else (None, None)
    if a is None or b is None:
        return None
    return ProportionComparison(n_a=a.persons, x_a=a.converted, n_b=b.persons, x_b=b.converted)


def lift_measure(
    *, project, kind: str, obj, goal: dict | None = None, traffic: TrafficFilter | None = None
) -> Measurement:
    """The intervention's lift: everyone exposed against everyone held out (a flag: each variant).

    The one measurement every page shows as "the lift" — the list rows, the
    strategy map's cells and the results page's headline — so they never
    disagree. Restricting it to the people of one segment (`measure`'s
    `by_segment`) is a different question, shown only under that name.
    Bots and internal users are left out unless `traffic` lets them in.
    """
    goal = goal or obj.goal
    if not goal:
        return Measurement(
            goal={}, error="Set a goal (an event or action, and within how many days) to measure this."
        )
    try:
        goal = validate_goal(goal, project_id=project.pk)
    except DefinitionError as error:
        return Measurement(goal=goal, error=str(error))
    result = Measurement(goal=goal)
    result.conversion = _conversion(project, kind, obj.pk, goal)
    result.groups = _groups(
        kind, _rows(project, kind, obj.pk, result.conversion, segment_id=None, by_day=False, traffic=traffic)
    )
    result.comparison = compare_groups(kind, result.groups)
    if result.comparison:
        names = ("exposed", "holdout") if kind != "flag" else (result.groups[1].label, result.groups[0].label)
        result.verdict = result.comparison.verdict(*names)
    else:
        result.verdict = (
            "Not enough data yet: nobody has been exposed and held out so far."
            if kind != "flag"
            else "Not enough data yet: fewer than two variants have been seen."
        )
    return result


def measure(
    *,
    project,
    kind: str,
    obj,
    goal: dict | None = None,
    segment_ids: list[int] | None = None,
    timeline: bool = True,
    traffic: TrafficFilter | None = None,
) -> Measurement:
    """The lift (`lift_measure`), then the same comparison within each segment and day by day.

    Inside a job, each of these counts is reported as a step of its progress.
    """
    result = lift_measure(project=project, kind=kind, obj=obj, goal=goal, traffic=traffic)
    if result.error:
        return result
    goal = result.goal

    segments = list(Segment.objects.filter(project=project, pk__in=segment_ids or []))
    steps = 1 + len(segments) + (1 if timeline else 0)
    budget.progress(1, steps)
    for done, segment in enumerate(segments, start=2):
        groups = _groups(
            kind,
            _rows(
                project, kind, obj.pk, result.conversion, segment_id=segment.pk, by_day=False, traffic=traffic
            ),
        )
        comparison = compare_groups(kind, groups)
        result.by_segment.append(
            {
                "segment": {"id": segment.pk, "name": segment.name},
                "groups": [
                    {"label": g.label, "persons": g.persons, "converted": g.converted, "rate": g.rate}
                    for g in groups
                ],
                "lift": comparison.lift if comparison else None,
                "verdict": comparison.verdict()
                if comparison and kind != "flag"
                else (
                    comparison.verdict(groups[1].label, groups[0].label)
                    if comparison
                    else "Not enough data yet."
                ),
            }
        )
        budget.progress(done, steps)
    if not timeline:
        return result
    days: dict = {}
    for held, variant, day, n, converted in _rows(
        project, kind, obj.pk, result.conversion, segment_id=None, by_day=True, traffic=traffic
    ):
        entry = days.setdefault(day, {})
        label = _label(kind, held, variant)
        current = entry.get(label, (0, 0))
        entry[label] = (current[0] + n, current[1] + converted)
    result.timeline = [
        {
            "date": day.isoformat(),
            **{label: {"persons": n, "rate": x / n if n else 0.0} for label, (n, x) in groups.items()},
        }
        for day, groups in sorted(days.items())
    ]
    return result
