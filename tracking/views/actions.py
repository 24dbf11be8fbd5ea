"""Action pages: the list, the builder (new and existing, with a live preview), delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from tracking.decorators import project_view
from tracking.forms.actions import ActionBuilder
from tracking.matching.actions import ActionError, describe_step, validate_steps
from tracking.models import Action, Project
from tracking.selectors.actions import (
    ActionDraft,
    ActionStats,
    action_days,
    action_draft_from_event,
    action_events,
    action_get,
    action_list,
    action_preview,
    action_stats,
)
from tracking.selectors.events import event_names, event_rows
from tracking.services.actions import action_create, action_delete, action_update
from web.charts import Series, line_chart
from web.rendering import render_page, wants_fragment

BUILDER = "tracking/actions/builder.html"
RECENT_EVENTS = 20


@project_view
@require_GET
def actions(request: HttpRequest, project: Project) -> HttpResponse:
    found = list(action_list(project=project))
    stats = action_stats(project=project, actions=found)
    rows = [
        (action, stats.get(action.pk, ActionStats()), [describe_step(step) for step in action.steps])
        for action in found
    ]
    return render_page(request, "tracking/actions/list.html", {"rows": rows}, project=project)


@project_view
@require_http_methods(["GET", "POST"])
def action_new(request: HttpRequest, project: Project) -> HttpResponse:
    return _builder(request, project, action=None)


@project_view
@require_http_methods(["GET", "POST"])
def action_detail(request: HttpRequest, project: Project, action_id: int) -> HttpResponse:
    return _builder(request, project, action=action_get(project=project, action_id=action_id))


@project_view
@require_http_methods(["GET", "POST"])
def action_delete_view(request: HttpRequest, project: Project, action_id: int) -> HttpResponse:
    action = action_get(project=project, action_id=action_id)
    if request.method == "POST":
        action_delete(action=action)
        messages.success(request, f"Action “{action.name}” deleted. The events it matched are untouched.")
        return redirect("actions", project_id=project.pk)
    return render_page(request, "tracking/actions/delete.html", {"action": action}, project=project)


def _builder(request: HttpRequest, project: Project, *, action: Action | None) -> HttpResponse:
    """GET shows the builder; POST previews, adds/removes a step, or saves (by `intent`)."""
    if request.method == "GET":
        builder, steps, draft = _initial_builder(request, project, action)
        preview = action_preview(project=project, steps=steps) if steps else None
        return _render(request, project, action=action, builder=builder, preview=preview, draft=draft)

    intent = request.POST.get("intent", "save")
    if intent == "add_step" or intent.startswith("remove_step:"):
        builder = ActionBuilder.rearranged(request.POST, intent)
        return _render(request, project, action=action, builder=builder, fragment="builder")

    builder = ActionBuilder(request.POST, action=action)
    if intent == "preview":
        preview = (
            action_preview(project=project, steps=builder.cleaned_steps) if builder.validate_steps() else None
        )
        return _render(request, project, action=action, builder=builder, preview=preview, fragment="preview")

    if builder.is_valid():
        data = builder.form.cleaned_data
        try:
            if action is None:
                action = action_create(
                    project=project,
                    user=request.user,
                    name=data["name"],
                    description=data["description"],
                    steps=builder.cleaned_steps,
                )
                messages.success(
                    request, f"Action “{action.name}” created. It already covers all stored events."
                )
            else:
                action_update(
                    action=action,
                    name=data["name"],
                    description=data["description"],
                    steps=builder.cleaned_steps,
                )
                messages.success(request, f"Action “{action.name}” saved.")
        except ValidationError as error:
            builder.add_errors(error.message_dict)
        else:
            return redirect("action_detail", project_id=project.pk, action_id=action.pk)
    preview = action_preview(project=project, steps=builder.cleaned_steps) if builder.cleaned_steps else None
    # A form that failed is still a page to correct, not a client error: htmx and browsers show it.
    return _render(request, project, action=action, builder=builder, preview=preview)


def _initial_builder(
    request: HttpRequest, project: Project, action: Action | None
) -> tuple[ActionBuilder, list[dict], ActionDraft | None]:
    """The builder for a GET, the steps to preview straight away (stored or suggested ones),
    and the draft it was taken from (`?from_event=<uuid>`, with `&page=1` to keep its page)."""
    if action is not None:
        return ActionBuilder(action=action), action.steps, None
    raw = request.GET.get("from_event")
    if raw is None:
        # every click, to start from: the preview then shows what there is to narrow down
        steps = [{"event": "$autocapture"}]
        return ActionBuilder(initial_steps=steps), steps, None
    draft = action_draft_from_event(project=project, event_id=raw, on_page=request.GET.get("page") == "1")
    builder = ActionBuilder(initial_steps=draft.steps, initial={"name": draft.name})
    try:
        steps = validate_steps(draft.steps, check_regex=False)
    except ActionError:
        steps = []  # the builder shows the draft; the preview waits for the first edit
    return builder, steps, draft


def _render(
    request: HttpRequest,
    project: Project,
    *,
    action: Action | None,
    builder: ActionBuilder,
    preview=None,
    fragment: str | None = None,
    draft: ActionDraft | None = None,
) -> HttpResponse:
    context = {"action": action, "builder": builder, "preview": preview, "draft": draft}
    if not (fragment and wants_fragment(request)):
        context["event_names"] = event_names(project=project)
        if action is not None:
            context.update(_action_history(project, action))
    return render_page(request, BUILDER, context, project=project, fragment=fragment)


def _action_history(project: Project, action: Action) -> dict:
    """The stored action's last 30 days (chart) and most recent matching events."""
    trend = action_days(project=project, action=action)
    chart = line_chart(
        [day.strftime("%b %-d") for day in trend.days],
        [Series("Events", trend.counts), Series("Unique persons", trend.persons)],
        title=f"{action.name}: events and persons per day",
    )
    recent = list(action_events(project=project, steps=action.steps)[:RECENT_EVENTS])
    return {"trend": trend, "chart": chart, "rows": event_rows(project=project, events=recent)}
