"""Lookups, measurement wording and rendering shared by the intervention pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.safestring import SafeString

from analysis.stats import p_text
from interventions import forms, selectors
from interventions import measure as measuring
from interventions.lift import ProportionComparison
from interventions.measure import GroupResult, Measurement
from interventions.models import FeatureFlag, Nudge, Survey
from segments.models import Segment
from tracking.models import Action, Project
from tracking.selectors.events import event_names
from web.charts import Series, line_chart
from web.confirm import confirm_page, confirmed
from web.forms import service_errors
from web.rendering import render_page

MODELS: dict[str, type[Model]] = {"nudge": Nudge, "survey": Survey, "flag": FeatureFlag}
SIGNIFICANCE = 0.05


def get_object(model: type[Model], project: Project, object_id: int) -> Any:
    """The project's object, or 404: another project's object is not found either."""
    obj = model.objects.filter(project=project, pk=object_id).first()
    if obj is None:
        raise Http404("Not found")
    return obj


def results_url(kind: str, project: Project, obj: Any) -> str:
    return reverse(f"{kind}_results", args=[project.pk, obj.pk])


def targeted_segment_ids(kind: str, obj: Any) -> list[int]:
    """The segments an object is aimed at: its segments, or its flag rules' segments."""
    if kind == "flag":
        return list(dict.fromkeys(r["segment"] for r in obj.rules or [] if r.get("segment")))
    return [s.pk for s in obj.segments.all()]


def form_context(project: Project) -> dict:
    """What every intervention form offers: the event names seen so far, for the goal's suggestions."""
    return {"event_names": event_names(project=project)}


# -- wording ---------------------------------------------------------------------------------------


def percent(rate: float | None, digits: int = 1) -> str:
    return "—" if rate is None else f"{rate * 100:.{digits}f}%"


def signed_percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.1f}%" if abs(value) < 0.1 else f"{value * 100:+.0f}%"


def points(value: float) -> str:
    return f"{value * 100:+.1f} points"


def event_words(project: Project, event: dict) -> str:
    if "action" in event:
        action = Action.objects.filter(project=project, pk=event["action"]).only("name").first()
        return f"the action “{action.name}”" if action else "a deleted action"
    filters = " (with property filters)" if event.get("where") else ""
    return f"{event.get('name', '?')}{filters}"


def goal_words(project: Project, goal: dict) -> str:
    if not goal or not isinstance(goal.get("event"), dict):
        return ""
    days = goal.get("within_days", 7)
    return f"did {event_words(project, goal['event'])} within {days} day{'s' if days != 1 else ''} of first exposure"


def group_label(kind: str, label: str) -> str:
    if kind == "flag":
        return f"variant {label}" if label not in ("true", "false", "(none)") else f"got {label}"
    return {"exposed": "Saw it", "holdout": "Held out"}.get(label, label)


# -- a measurement for the page --------------------------------------------------------------------


@dataclass
class GroupView:
    label: str
    persons: int
    converted: int
    rate: str


@dataclass
class ComparisonView:
    """A comparison in words: lift, difference, interval, p-value, verdict and its tone."""

    lift: str = "—"
    difference: str = "—"
    interval: str = "—"
    p_value: str = "—"
    verdict: str = ""
    short: str = "not enough data yet"
    tone: str = "warn"

    @classmethod
    def of(cls, comparison: ProportionComparison | None, verdict: str) -> ComparisonView:
        view = cls(verdict=verdict)
        if comparison is None:
            return view
        low, high = comparison.interval()
        view.lift = signed_percent(comparison.lift)
        view.difference = points(comparison.difference)
        view.interval = f"{points(low)} to {points(high)}"
        view.p_value = p_text(comparison.p_value)
        if comparison.enough_data:
            p = comparison.p_value
            if p is not None and p < SIGNIFICANCE:
                view.short, view.tone = ("better", "ok") if comparison.difference > 0 else ("worse", "bad")
            else:
                view.short, view.tone = "no clear difference", "muted"
        return view


@dataclass
class SegmentResultView:
    segment_id: int
    name: str
    groups: list[GroupView]
    comparison: ComparisonView


@dataclass
class MeasurementView:
    kind: str
    goal: dict
    goal_words: str
    error: str = ""
    groups: list[GroupView] = field(default_factory=list)
    comparison: ComparisonView = field(default_factory=ComparisonView)
    by_segment: list[SegmentResultView] = field(default_factory=list)
    chart: SafeString | None = None
    compared: str = ""  # "Saw it vs Held out"

    @property
    def persons(self) -> int:
        return sum(g.persons for g in self.groups)


def _groups_view(kind: str, groups: list[GroupResult]) -> list[GroupView]:
    return [GroupView(group_label(kind, g.label), g.persons, g.converted, percent(g.rate)) for g in groups]


def _compared(kind: str, groups: list[GroupResult]) -> str:
    if kind == "flag":
        return (
            f"{group_label(kind, groups[1].label)} vs {group_label(kind, groups[0].label)}"
            if len(groups) >= 2
            else ""
        )
    return "Saw it vs Held out"


def _cumulative_chart(kind: str, timeline: list[dict]) -> SafeString | None:
    """The goal's conversion among everyone first exposed up to each day, one line per group."""
    if len(timeline) < 2:
        return None
    labels = sorted(
        {key for day in timeline for key in day if key != "date"}, key=lambda k: (k == "holdout", k)
    )
    running = {label: [0, 0.0] for label in labels}
    values: dict[str, list[float]] = {label: [] for label in labels}
    for day in timeline:
        for label in labels:
            cell = day.get(label)
            if cell:
                running[label][0] += cell["persons"]
                running[label][1] += cell["rate"] * cell["persons"]
            persons, converted = running[label]
            values[label].append(round(converted * 100 / persons, 1) if persons else 0.0)
    series = [Series(f"{group_label(kind, label)} (%)", values[label]) for label in labels]
    return line_chart(
        [d["date"][5:] for d in timeline], series, height=200, title="Goal conversion over time, by group"
    )


def present(project: Project, kind: str, result: Measurement) -> MeasurementView:
    view = MeasurementView(
        kind=kind, goal=result.goal, goal_words=goal_words(project, result.goal), error=result.error
    )
    if result.error:
        return view
    view.groups = _groups_view(kind, result.groups)
    view.compared = _compared(kind, result.groups)
    view.comparison = ComparisonView.of(result.comparison, result.verdict)
    names = dict(
        Segment.objects.filter(
            project=project, pk__in=[s["segment"]["id"] for s in result.by_segment]
        ).values_list("pk", "name")
    )
    for entry in result.by_segment:
        groups = [GroupResult(g["label"], g["persons"], g["converted"]) for g in entry["groups"]]
        # the same pairing as the overall comparison, so the interval and p-value can be shown per segment
        comparison = measuring.compare_groups(kind, groups)
        segment_id = entry["segment"]["id"]
        view.by_segment.append(
            SegmentResultView(segment_id, names.get(segment_id, entry["segment"]["name"]), _groups_view(kind, groups),
                              ComparisonView.of(comparison, entry["verdict"]))
        )  # fmt: skip
    view.chart = _cumulative_chart(kind, result.timeline)
    return view


def lift_view(result: Any) -> ComparisonView | None:
    """The intervention's lift (`measure.lift_measure`) as a list row or a strategy cell shows it: the
    results page's headline, exactly; None when it could not be measured."""
    if result is None or result.error:
        return None
    return ComparisonView.of(result.comparison, result.verdict)


# -- the list tabs ---------------------------------------------------------------------------------

TABS = {"nudge": "interventions", "survey": "interventions_surveys", "flag": "interventions_flags"}


@dataclass
class ListRow:
    obj: Any
    reach: selectors.Reach
    targets: list[str]


def _flag_targets(flag: FeatureFlag, names: dict[int, str]) -> list[str]:
    if not flag.rules:
        return ["nobody (no rules yet)"]
    return [
        f"{names.get(r['segment'], 'a deleted segment') if r.get('segment') else 'everyone'} · {r.get('rollout', 100):g}%"
        for r in flag.rules
    ]


def list_rows(project: Project, kind: str) -> list[ListRow]:
    items = list(
        {"nudge": selectors.nudge_list, "survey": selectors.survey_list, "flag": selectors.flag_list}[kind](
            project=project
        )
    )
    reach = selectors.reach(project=project, kind=kind, object_ids=[o.pk for o in items])
    if kind == "flag":
        ids = {r["segment"] for f in items for r in f.rules or [] if r.get("segment")}
        names = dict(Segment.objects.filter(project=project, pk__in=ids).values_list("pk", "name"))
        return [ListRow(f, reach[f.pk], _flag_targets(f, names)) for f in items]
    return [ListRow(o, reach[o.pk], [s.name for s in o.segments.all()] or ["everyone"]) for o in items]


def render_list(request: HttpRequest, project: Project, kind: str) -> HttpResponse:
    return render_page(
        request, "interventions/list.html", {"kind": kind, "rows": list_rows(project, kind)}, project=project
    )


def end_needs_confirming(request: HttpRequest, obj: Any) -> bool:
    """Ending stops an intervention for everyone and closes its measurement: ask first."""
    return request.POST.get("status") == "ended" and obj.status != "ended" and not confirmed(request)


def end_confirm_page(
    request: HttpRequest, *, project: Project, obj: Any, kind: str, cancel_url: str
) -> HttpResponse:
    live = " It is live now: people stop seeing it straight away." if obj.status == "live" else ""
    return confirm_page(
        request,
        project=project,
        title=f"End the {kind} “{obj.name}”?",
        consequences=[
            f"Nobody sees the {kind} after this, and its results stop counting new exposures.{live}",
            "Pause it instead to stop it for a while; an ended one can go live again later.",
        ],
        button=f"End {kind}",
        cancel_url=cancel_url,
        keep={"status": "ended"},
    )


def delete_confirm_page(
    request: HttpRequest, *, project: Project, what: str, consequences: list[str], cancel_url: str
) -> HttpResponse:
    return confirm_page(
        request,
        project=project,
        title=f"Delete {what}?",
        consequences=consequences,
        button="Delete",
        cancel_url=cancel_url,
    )


def status_change(request: HttpRequest, *, obj: Any, save, done: dict[str, str]) -> None:
    """Go live, pause or end a nudge or survey from a posted StatusForm, with a message either way."""
    form = forms.StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Status: choose live, paused or ended.")
        return
    status = form.cleaned_data["status"]
    try:
        save(data={"status": status})
    except ValidationError as error:
        for key, problems in service_errors(error):
            where = "" if key == NON_FIELD_ERRORS else f"{key}: "
            messages.error(request, f"Could not change the status — {where}{' '.join(problems)}")
    else:
        messages.success(request, f"“{obj.name}” {done[status]}")
