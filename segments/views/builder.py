"""The segment builder: new and edit, the live size preview, and property suggestions.

The whole definition tree is posted with every request (see segments.builder).
`op` names what the request is for: `save`, `preview`, `refresh` (re-render after
a type change) or a structural edit such as `add:r_1`. With htmx, edits swap the
tree and the preview swaps itself; without JavaScript every button posts the
page and gets it back re-rendered, and saving works the same way.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from segments import services
from segments.builder import (
    COMPARATOR_CHOICES,
    NUMBER_OPERATOR_CHOICES,
    OPERATOR_CHOICES,
    RANK_MEASURE_LABELS,
    TEXT_OPERATOR_CHOICES,
    TYPE_LABELS,
    BuilderState,
    condition_from_fields,
    error_is_unfilled,
    error_target,
    error_words,
    starting_definition,
    tree_view,
    type_choices,
)
from segments.definition import MAX_SEQUENCE_STEPS, SESSION_NUMBERS, SESSION_PROPERTIES
from segments.describe import SESSION_WORDS, describe
from segments.forms import SegmentForm
from segments.jobs import PREVIEW_WAIT_SECONDS, preview_request
from segments.models import Segment, SegmentSubject
from segments.selectors import discovery
from segments.selectors.sizes import Preview, definition_check
from segments.views.common import get_segment
from tracking.decorators import project_view
from tracking.models import Action, Project
from web.forms import apply_service_errors
from web.rendering import render_page, wants_fragment

BUILDER = "segments/builder.html"
STARTERS: dict[str, tuple[str, str, dict]] = {
    "active-week": (
        "Active this week",
        "Seen at least once in the last 7 days.",
        {"match": "all", "conditions": [{"type": "last_seen", "operator": "within_last_days", "value": 7}]},
    ),
    "new": (
        "New in the last 14 days",
        "First seen in the last two weeks.",
        {"match": "all", "conditions": [{"type": "first_seen", "operator": "within_last_days", "value": 14}]},
    ),
    "engaged": (
        "Engaged",
        "Active on at least 8 of the last 28 days.",
        {"match": "all", "conditions": [
            {"type": "active_days", "count": {"operator": "gte", "value": 8}, "window": {"last_days": 28}}]},
    ),
    "slipping": (
        "Slipping away",
        "Came back on 3+ days in the last 60, but not seen for 14 days.",
        {"match": "all", "conditions": [
            {"type": "active_days", "count": {"operator": "gte", "value": 3}, "window": {"last_days": 60}},
            {"type": "last_seen", "operator": "before_last_days", "value": 14}]},
    ),
    "mobile": (
        "Mobile visitors",
        "Had a session on a phone in the last 30 days.",
        {"match": "all", "conditions": [
            {"type": "device", "property": "device_type", "operator": "eq", "value": "mobile", "window": {"last_days": 30}}]},
    ),
}  # fmt: skip
_OP = re.compile(
    r"^(save|preview|refresh|apply_json|add|add_group|remove|add_step|remove_step|add_where|remove_where)(:[\w:]*)?$"
)


@project_view
@require_http_methods(["GET", "POST"])
def segment_new(request: HttpRequest, project: Project) -> HttpResponse:
    return _builder(request, project, segment=None)


@project_view
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, project: Project, segment_id: int) -> HttpResponse:
    segment = get_segment(project, segment_id)
    if not segment.is_dynamic or segment.is_model_remainder:
        return _edit_details(request, project, segment)
    return _builder(request, project, segment=segment)


@project_view
@require_POST
def segment_preview(request: HttpRequest, project: Project) -> HttpResponse:
    """The live preview of the builder's current tree (and the JSON or the tree, kept in step)."""
    segment = None
    raw = request.POST.get("segment", "")
    if raw:
        if not raw.isdecimal():
            raise Http404("No such segment")
        segment = get_segment(project, int(raw))
    state = BuilderState.from_post(request.POST)
    if not wants_fragment(request):
        form = SegmentForm(initial={key: request.POST.get(key, "") for key in ("name", "description")})
        return _render(request, project, segment=segment, form=form, state=state)
    return _render(request, project, segment=segment, form=None, state=state, fragment="preview_response")


def builder_subject(request: HttpRequest, segment: Segment | None) -> str:
    """Whom the segment being built holds: the segment's subject, else the request's `subject`."""
    if segment is not None:
        return segment.subject
    asked = request.POST.get("subject") or request.GET.get("subject")
    return asked if asked in SegmentSubject.values else SegmentSubject.PERSON


def _builder(request: HttpRequest, project: Project, *, segment: Segment | None) -> HttpResponse:
    if request.method == "GET":
        starter = STARTERS.get(request.GET.get("starter", ""))
        subject = builder_subject(request, segment)
        if segment is not None:
            definition = segment.definition
            form = SegmentForm(initial={"name": segment.name, "description": segment.description})
        elif starter is not None and subject == SegmentSubject.PERSON:
            definition = starter[2]
            form = SegmentForm(initial={"name": starter[0], "description": starter[1]})
        else:
            definition = starting_definition(subject)
            form = SegmentForm()
        return _render(request, project, segment=segment, form=form, state=BuilderState.of(definition))

    op = request.POST.get("op", "save")
    if not _OP.match(op):
        op = "preview"
    state = BuilderState.from_post(request.POST)
    if op == "save":
        return _save(request, project, segment=segment, form=SegmentForm(request.POST), state=state)
    # An edit is not a save: keep the name as typed, without calling an empty one an error yet.
    form = SegmentForm(initial={key: request.POST.get(key, "") for key in ("name", "description")})
    if op == "apply_json" and not state.json_error:
        state = BuilderState.of(state.definition)
    elif op.partition(":")[0] not in ("preview", "refresh", "apply_json"):
        state = state.edited(op, request.POST)
    return _render(request, project, segment=segment, form=form, state=state, fragment="tree_response")


def _save(
    request: HttpRequest, project: Project, *, segment: Segment | None, form: SegmentForm, state: BuilderState
) -> HttpResponse:
    save_errors: list[tuple[str, str]] = []
    if form.is_valid() and not state.json_error:
        data = form.cleaned_data
        try:
            if segment is None:
                segment = services.segment_create(
                    project=project,
                    name=data["name"],
                    description=data["description"],
                    definition=state.definition,
                    subject=builder_subject(request, None),
                    created_by=request.user,
                )
                messages.success(
                    request, f"Segment “{segment.name}” saved. It is being computed over all stored history."
                )
            else:
                services.segment_update(
                    segment=segment,
                    name=data["name"],
                    description=data["description"],
                    definition=state.definition,
                    changed_by=request.user,
                )
                recomputing = " It is being recomputed." if segment.status == "pending" else ""
                messages.success(request, f"Segment “{segment.name}” saved.{recomputing}")
        except ValidationError as error:
            for key, problems in apply_service_errors(form, error, keep_unplaced=True).items():
                where = error_words(key, state.definition) if key.startswith("definition") else key
                save_errors.extend((where, problem) for problem in problems)
        else:
            return redirect("segment_detail", project_id=project.pk, segment_id=segment.pk)
    # A form that failed is a page to correct: the whole page, with the tree as it was posted.
    return _render(request, project, segment=segment, form=form, state=state, save_errors=save_errors)


def _preview(
    request: HttpRequest, project: Project, state: BuilderState, segment_id: int | None, subject: str
) -> tuple[Preview, dict]:
    """What the definition is missing at once, else its count: kept, or counted within a moment,
    or the job still counting it (then the context of its progress panel)."""
    checked = definition_check(
        project=project, definition=state.definition, segment_id=segment_id, subject=subject
    )
    if isinstance(checked, Preview):
        return checked, {}
    answer = preview_request(
        project=project,
        definition=checked,
        segment_id=segment_id,
        subject=subject,
        user=request.user,
        wait=PREVIEW_WAIT_SECONDS,
        watch=True,
    )
    if answer.waiting:
        return Preview(), answer.panel()
    return answer.result(), {}


def _render(
    request: HttpRequest,
    project: Project,
    *,
    segment: Segment | None,
    form: SegmentForm | None,
    state: BuilderState,
    fragment: str | None = None,
    save_errors: list[tuple[str, str]] | None = None,
) -> HttpResponse:
    segment_id = segment.pk if segment else None
    subject = builder_subject(request, segment)
    preview, job = (
        (Preview(), {}) if state.json_error else _preview(request, project, state, segment_id, subject)
    )
    tree_errors: dict[str, dict[str, str]] = {}
    errors = list(save_errors or [])
    unfilled = ""
    if preview.error_path and save_errors is None and error_is_unfilled(preview.error_path, state.definition):
        unfilled = error_words(preview.error_path, state.definition)
    elif preview.error_path:
        node, name = error_target(preview.error_path)
        tree_errors.setdefault(node, {})[name] = preview.error
        where = error_words(preview.error_path, state.definition)
        if (where, preview.error) not in errors:
            errors.insert(0, (where, preview.error))
    elif preview.error:
        errors.insert(0, ("The definition", preview.error))
    context = {
        "segment": segment,
        "builder_url": reverse("segment_edit", args=[project.pk, segment.pk])
        if segment
        else reverse("segment_new", args=[project.pk]),
        "form": form,
        "state": state,
        "tree": tree_view(state.definition, tree_errors),
        "preview": preview,
        **job,
        "errors": errors,
        "unfilled": unfilled,
        "described": describe(state.definition, project) if preview.count is not None else None,
        "subject": subject,
        "type_choices": type_choices(subject),
        "person_type_choices": type_choices(),
        "type_labels": TYPE_LABELS,
        "device_properties": [
            ("browser", "browser"),
            ("os", "operating system"),
            ("device_type", "device type"),
        ],
        "geo_properties": [("country", "country"), ("region", "region"), ("city", "city")],
        "functions": [("sum", "total"), ("avg", "average"), ("min", "smallest"), ("max", "largest")],
        "rank_measures": list(RANK_MEASURE_LABELS.items()),
        "max_steps": MAX_SEQUENCE_STEPS,
        "operator_choices": OPERATOR_CHOICES,
        "text_operator_choices": TEXT_OPERATOR_CHOICES,
        "number_operator_choices": NUMBER_OPERATOR_CHOICES,
        "session_properties": [(key, SESSION_WORDS[key]) for key in SESSION_PROPERTIES],
        "session_numbers": SESSION_NUMBERS,
        "comparator_choices": COMPARATOR_CHOICES,
        "actions": list(Action.objects.filter(project=project).order_by("name").values_list("pk", "name")),
        **_segment_choices(project, segment_id, subject),
    }
    if not (fragment and wants_fragment(request)):
        context["catalog"] = {
            "event_names": discovery.event_names(project=project),
            "person_keys": discovery.person_property_keys(project=project),
            "company_keys": discovery.company_property_keys(project=project),
            "surveys": discovery.survey_keys(project=project),
        }
    return render_page(request, BUILDER, context, project=project, fragment=fragment)


def _segment_choices(project: Project, segment_id: int | None, subject: str) -> dict:
    """The segments each picker offers: of the builder's subject, of people, of companies."""
    rows = Segment.objects.filter(project=project).exclude(pk=segment_id).order_by("name")
    people = list(rows.filter(subject=SegmentSubject.PERSON).values_list("pk", "name"))
    companies = list(rows.filter(subject=SegmentSubject.COMPANY).values_list("pk", "name"))
    return {
        "segment_choices": companies if subject == SegmentSubject.COMPANY else people,
        "person_segment_choices": people,
        "company_segment_choices": companies,
    }


def _edit_details(request: HttpRequest, project: Project, segment: Segment) -> HttpResponse:
    """A static segment (or a model's "everyone else" group) has no rule to edit: name and description only."""
    form = SegmentForm(
        request.POST or None, initial={"name": segment.name, "description": segment.description}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.segment_update(
                segment=segment, name=form.cleaned_data["name"], description=form.cleaned_data["description"]
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Segment “{segment.name}” saved.")
            return redirect("segment_detail", project_id=project.pk, segment_id=segment.pk)
    return render_page(
        request, "segments/edit_details.html", {"segment": segment, "form": form}, project=project
    )


# -- suggestions --------------------------------------------------------------------------------------

_WHERE_FIELD = re.compile(r"^(ev|s(\d+))_w(\d+)_(property|value)$")
_SESSION_VALUE = re.compile(r"^w(\d+)_value$")


@project_view
@require_GET
def segment_suggest(request: HttpRequest, project: Project) -> HttpResponse:
    """`<option>`s for one input of the builder, from what the project has seen.

    The request carries the input's node (`path`), its `field`, and the node's
    other inputs (hx-include), so a value list knows its property and event.
    """
    node = condition_from_fields(request.GET, request.GET.get("path", ""))
    suggestions = _suggestions(project, node, request.GET.get("field", ""))
    return render_page(request, "segments/_options.html", {"options": suggestions}, project=project)


def _suggestions(project: Project, node: dict, name: str) -> list[discovery.Suggestion]:
    kind = node.get("type")
    prop = str(node.get("property") or "").strip()
    if name == "value" and prop:
        if kind == "person":
            return discovery.person_property_values(project=project, key=prop)
        if kind == "company":
            return discovery.company_property_values(project=project, key=prop)
        if kind in ("device", "geo") and prop in discovery.SESSION_COLUMNS:
            return discovery.session_values(project=project, column=prop)
    if kind == "session" and (match := _SESSION_VALUE.match(name)):
        where = node.get("where") or []
        index = int(match.group(1))
        column = where[index].get("property") if index < len(where) else None
        return (
            discovery.session_values(project=project, column=column)
            if column in discovery.SESSION_COLUMNS
            else []
        )
    if kind == "survey":
        survey, question = str(node.get("survey") or ""), str(node.get("question") or "")
        if name == "question" and survey:
            return discovery.survey_questions(project=project, survey=survey)
        if name == "value" and survey and question:
            return discovery.survey_answers(project=project, survey=survey, question=question)
    if (name, kind) in (("property", "aggregate"), ("measure_property", "rank")):
        event = (node.get("measure") or {}).get("event") if kind == "rank" else node.get("event")
        if isinstance(event, dict) and event.get("name"):
            return discovery.event_property_keys(project=project, event=event["name"])
    match = _WHERE_FIELD.match(name)
    if match:
        spec = _event_spec(node) if match.group(1) == "ev" else _step(node, int(match.group(2)))
        if not isinstance(spec, dict) or not spec.get("name"):
            return []
        if match.group(4) == "property":
            return discovery.event_property_keys(project=project, event=spec["name"])
        where = spec.get("where") or []
        index = int(match.group(3))
        if index < len(where) and where[index].get("property"):
            return discovery.event_property_values(
                project=project, event=spec["name"], key=where[index]["property"]
            )
    return []


def _event_spec(node: dict) -> dict | None:
    """The condition's event: a rank keeps it in its measure."""
    if node.get("type") == "rank":
        return (node.get("measure") or {}).get("event")
    return node.get("event")


def _step(node: dict, index: int) -> dict | None:
    steps = node.get("steps") or []
    return steps[index] if index < len(steps) else None
