"""Surveys: the list tab, the form with its questions editor, status, deletion, and the results page.

The questions editor posts every question as rows (`q<i>-key`, `q<i>-type`…) with
`op`: `add`, `remove:i`, `up:i`, `down:i` edit the rows (htmx swaps the editor;
without JavaScript the page comes back), `apply_json` replaces them with the JSON
textarea's, and saving uses the JSON instead of the rows when it was edited.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import forms, selectors, services
from interventions.models import Survey
from interventions.selectors import surveys as answers
from interventions.views.common import (
    delete_confirm_page,
    end_confirm_page,
    end_needs_confirming,
    form_context,
    get_object,
    render_list,
    status_change,
)
from interventions.views.results import measurement_context
from segments.models import Segment
from tracking.decorators import project_view
from tracking.models import Project
from web.charts import bar_chart
from web.confirm import confirmed
from web.rendering import htmx_target, render_page

TEMPLATE = "interventions/survey_form.html"
FIRST_QUESTION = {
    "key": "",
    "type": "rating",
    "prompt": "How likely are you to recommend us to a friend or colleague?",
    "scale": 10,
}
STATUS_DONE = {
    "live": "is live: eligible people are asked on their next page.",
    "paused": "is paused: nobody is asked until you resume it.",
    "ended": "has ended. Its answers stay available.",
}


@project_view
@require_GET
def survey_list(request: HttpRequest, project: Project) -> HttpResponse:
    return render_list(request, project, "survey")


@project_view
@require_http_methods(["GET", "POST"])
def survey_new(request: HttpRequest, project: Project) -> HttpResponse:
    return _form_page(request, project, None)


@project_view
@require_http_methods(["GET", "POST"])
def survey_edit(request: HttpRequest, project: Project, survey_id: int) -> HttpResponse:
    return _form_page(request, project, get_object(Survey, project, survey_id))


def _form_page(request: HttpRequest, project: Project, survey: Survey | None) -> HttpResponse:
    if request.method == "GET":
        form = forms.SurveyForm(project=project, initial=forms.survey_initial(survey) if survey else {})
        editor = forms.question_editor(questions=survey.questions if survey else [FIRST_QUESTION])
        return _render(request, project, survey, form, editor)
    op = request.POST.get("op", "save")
    form = forms.SurveyForm(request.POST, project=project)
    editor = forms.question_editor(request.POST)
    if op == "apply_json":
        raw = request.POST.get("questions_json", "")
        try:
            editor.rows = forms.rows_from_questions(json.loads(raw or "[]"))
        except ValueError as error:
            return _render(
                request,
                project,
                survey,
                form,
                editor,
                json_error=f"Questions as JSON: not valid JSON ({error}).",
                raw_json=raw,
            )
        return _render(request, project, survey, form, editor)
    if editor.edit(op, forms.BLANK_QUESTION):
        return _render(request, project, survey, form, editor)
    with timezone.override(project.zone):
        valid = form.is_valid()
    edited = form.edited_json()
    if edited is not None:
        editor.rows = forms.rows_from_questions(edited)
    if valid and not form.errors:
        data = form.data_for_service(edited if edited is not None else forms.questions_from_rows(editor.rows))
        if op == "save_live":
            data["status"] = "live"
        try:
            saved = services.survey_save(project=project, data=data, survey=survey, user=request.user)
        except ValidationError as error:
            forms.apply_intervention_errors(form, error, (editor,))
            if survey is not None:
                survey.refresh_from_db()
        else:
            live = " It is live." if saved.status == "live" else ""
            messages.success(request, f"Saved the survey “{saved.name}”.{live}")
            return redirect("survey_edit", project_id=project.pk, survey_id=saved.pk)
    return _render(
        request,
        project,
        survey,
        form,
        editor,
        raw_json=request.POST.get("questions_json", "")
        if edited is None and form.has_error("questions_json")
        else "",
    )


def _render(
    request: HttpRequest, project: Project, survey: Survey | None, form: forms.SurveyForm, editor: forms.RowEditor,
    *, json_error: str = "", raw_json: str = "",
) -> HttpResponse:  # fmt: skip
    shown = forms.questions_json(editor)
    context = {
        "survey": survey, "form": form, "editor": editor, "question_kinds": forms.QUESTION_KINDS,
        "questions_json": raw_json or shown, "questions_json_shown": shown, "json_error": json_error, **form_context(project),
    }  # fmt: skip
    fragment = "questions" if htmx_target(request) == "questions" else None
    return render_page(request, TEMPLATE, context, project=project, fragment=fragment)


@project_view
@require_POST
def survey_status(request: HttpRequest, project: Project, survey_id: int) -> HttpResponse:
    survey = get_object(Survey, project, survey_id)
    if end_needs_confirming(request, survey):
        return end_confirm_page(
            request,
            project=project,
            obj=survey,
            kind="survey",
            cancel_url=reverse("survey_edit", args=[project.pk, survey.pk]),
        )
    status_change(
        request,
        obj=survey,
        save=lambda data: services.survey_save(project=project, data=data, survey=survey),
        done=STATUS_DONE,
    )
    return redirect("survey_edit", project_id=project.pk, survey_id=survey.pk)


@project_view
@require_POST
def survey_delete(request: HttpRequest, project: Project, survey_id: int) -> HttpResponse:
    survey = get_object(Survey, project, survey_id)
    if not confirmed(request):
        return delete_confirm_page(
            request,
            project=project,
            what=f"the survey “{survey.name}”",
            consequences=["Nobody is asked it any more. The answers already given stay in the events."],
            cancel_url=reverse("survey_edit", args=[project.pk, survey.pk]),
        )
    services.intervention_delete(obj=survey)
    messages.success(request, f"Deleted the survey “{survey.name}”. Its answers stay in the events.")
    return redirect("interventions_surveys", project_id=project.pk)


@project_view
@require_GET
def survey_results(request: HttpRequest, project: Project, survey_id: int) -> HttpResponse:
    """Answers per question (optionally split by a segment's members and the rest), then the lift."""
    survey = get_object(Survey, project, survey_id)
    target = htmx_target(request)
    segment = None
    raw = request.GET.get("segment", "")
    if raw:
        segment = Segment.objects.filter(project=project, pk=int(raw)).first() if raw.isdecimal() else None
        if segment is None:
            raise Http404("No such segment")
    context: dict = {"kind": "survey", "obj": survey, "survey": survey, "segment": segment}
    if target in (None, "answers"):
        results = answers.survey_results(survey=survey, segment=segment)
        context.update(
            results=results,
            questions=[(q, _chart(q)) for q in results.questions],
            segment_groups=selectors.segment_groups(project=project),
        )  # fmt: skip
    if target == "answers":
        return render_page(
            request, "interventions/survey_results.html", context, project=project, fragment="answers"
        )
    context.update(measurement_context(request, project, "survey", survey))
    if target == "measurement":
        return render_page(
            request, "interventions/survey_results.html", context, project=project, fragment="measurement"
        )
    context["reach"] = selectors.reach(project=project, kind="survey", object_ids=[survey.pk])[survey.pk]
    return render_page(request, "interventions/survey_results.html", context, project=project)


def _chart(question: selectors.QuestionResult) -> SafeString | None:
    """A bar per choice or rating value; open questions have none."""
    if not question.counts or not question.respondents:
        return None
    return bar_chart([c.answer for c in question.counts], [c.count for c in question.counts], height=160,
                     title=f"Answers to “{question.question.get('prompt', '')}”")  # fmt: skip
