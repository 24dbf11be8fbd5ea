"""Saved analyses: save one from its page, the dashboard of cards, one saved analysis, delete."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from analysis import forms
from analysis.jobs import analysis_request
from analysis.kinds import KINDS, analysis_params
from analysis.params import ParamError
from analysis.selectors import saved_analysis_get, saved_analysis_list
from analysis.services import saved_analysis_create, saved_analysis_delete
from analysis.views.common import freshness, labelled
from tracking.decorators import project_view
from tracking.models import Project
from web.rendering import render_page, wants_fragment


def page_url(project: Project, kind: str, params: dict) -> str:
    """The kind's page showing these parameters."""
    return f"{reverse(KINDS[kind].page, args=[project.pk])}?{forms.querystring(kind, params)}"


def _card(request: HttpRequest, project: Project, saved, *, refresh: bool) -> dict:
    """A saved analysis as a card shows it: the cached result at once (with a background
    recompute when newer data arrived), or the job computing it."""
    card: dict = {
        "saved": saved,
        "open_url": page_url(project, saved.kind, saved.params),
        "result_template": f"{KINDS[saved.kind].template}#result",
    }
    try:
        query = analysis_params(project=project, kind=saved.kind, params=saved.params)
    except ParamError as error:
        card["errors"] = labelled(error.errors)
        return card
    answer = analysis_request(
        project=project,
        kind=saved.kind,
        query=query,
        user=request.user,
        watch=True,
        refresh=refresh,
        stale="show+recompute",
    )
    card.update(result=answer.result(), **freshness(request, answer))
    if answer.job is not None and (answer.job.active or answer.waiting):
        card.update(answer.panel(view="card"))  # progress (beside a stale result), or why it failed
    return card


@project_view
@require_GET
def dashboard(request: HttpRequest, project: Project) -> HttpResponse:
    """Every card at once: cached results show instantly, the others fill in as their jobs end."""
    refresh = request.GET.get("refresh") == "1"
    cards = [
        _card(request, project, saved, refresh=refresh) for saved in saved_analysis_list(project=project)
    ]
    return render_page(request, "analysis/dashboard.html", {"cards": cards, "kinds": KINDS}, project=project)


@project_view
@require_GET
def saved_detail(request: HttpRequest, project: Project, saved_id: int) -> HttpResponse:
    """A saved analysis on a page of its own, as its dashboard card shows it."""
    saved = saved_analysis_get(project=project, saved_id=saved_id)
    card = _card(request, project, saved, refresh=request.GET.get("refresh") == "1")
    context = {"card": card, "saved": saved, "kind": KINDS[saved.kind], "open_url": card["open_url"]}
    return render_page(request, "analysis/saved.html", context, project=project, fragment="card")


@project_view
@require_POST
def saved_create(request: HttpRequest, project: Project) -> HttpResponse:
    kind = request.POST.get("kind", "")
    raw = request.POST.get("params", "")
    name = request.POST.get("name", "")
    errors: dict[str, list[str]] = {}
    saved = None
    try:
        params = json.loads(raw)
    except json.JSONDecodeError:
        errors = {"params": ["the analysis parameters were not readable; run the analysis again"]}
        params = {}
    if not errors:
        try:
            saved = saved_analysis_create(
                project=project, name=name, kind=kind, params=params, created_by=request.user
            )
        except ValidationError as error:
            errors = error.message_dict
    context = {
        "saved": saved,
        "save_errors": labelled(errors),
        "kind": kind,
        "saved_params": raw,
        "save_name": name,
    }
    if wants_fragment(request):
        return render_page(request, "analysis/dashboard.html", context, project=project, fragment="save_form")
    if saved is not None:
        messages.success(request, f"Saved “{saved.name}” to the dashboard.")
        return redirect("analysis_dashboard", project.pk)
    for field, message in context["save_errors"]:
        messages.error(request, f"Not saved — {field}: {message}")
    back = (
        page_url(project, kind, params)
        if kind in KINDS and isinstance(params, dict)
        else reverse("analysis", args=[project.pk])
    )
    return redirect(back)


@project_view
@require_POST
def saved_delete(request: HttpRequest, project: Project, saved_id: int) -> HttpResponse:
    saved = saved_analysis_get(project=project, saved_id=saved_id)
    saved_analysis_delete(saved=saved)
    messages.success(request, f"Removed “{saved.name}” from the dashboard.")
    return redirect("analysis_dashboard", project.pk)
