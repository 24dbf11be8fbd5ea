"""Testing a nudge's or survey's targeting: “who would see this now?” for one distinct id, and a
preview link that shows it on the site without counting an exposure (interventions.preview).

Both are GET forms (nothing changes); with htmx only the answer is swapped.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from interventions.eligibility import eligibility
from interventions.forms.testing import PersonTestForm, PreviewLinkForm
from interventions.models import Nudge, Survey
from interventions.preview import PREVIEW_MAX_AGE, preview_link, preview_token
from interventions.views.common import get_object
from tracking.decorators import project_view
from tracking.models import Project
from web.rendering import htmx_target, render_page

TEMPLATE = "interventions/targeting_test.html"


def testing_context(request: HttpRequest, project: Project, kind: str, obj: Any) -> dict:
    """The two forms, and their answers when submitted."""
    person_form = PersonTestForm(request.GET if "distinct_id" in request.GET else None)
    default_page = (project.allowed_origin_list or [""])[0]
    link_form = PreviewLinkForm(
        request.GET if "page_url" in request.GET else None,
        initial={"page_url": f"{default_page}/" if default_page else ""},
    )
    context: dict = {"kind": kind, "obj": obj, "person_form": person_form, "link_form": link_form,
                     "preview_hours": PREVIEW_MAX_AGE // 3600}  # fmt: skip
    if person_form.is_bound and person_form.is_valid():
        context["tested"] = eligibility(
            project=project, kind=kind, obj=obj, distinct_id=person_form.cleaned_data["distinct_id"]
        )
    if link_form.is_bound and link_form.is_valid():
        context["preview_url"] = preview_link(
            page_url=link_form.cleaned_data["page_url"], token=preview_token(kind=kind, obj=obj)
        )
    return context


def _test(request: HttpRequest, project: Project, kind: str, obj: Any) -> HttpResponse:
    fragment = {"targeting-test": "answer", "targeting-preview": "preview"}.get(htmx_target(request) or "")
    context = testing_context(request, project, kind, obj)
    return render_page(request, TEMPLATE, context, project=project, fragment=fragment)


@project_view
@require_GET
def nudge_test(request: HttpRequest, project: Project, nudge_id: int) -> HttpResponse:
    return _test(request, project, "nudge", get_object(Nudge, project, nudge_id))


@project_view
@require_GET
def survey_test(request: HttpRequest, project: Project, survey_id: int) -> HttpResponse:
    return _test(request, project, "survey", get_object(Survey, project, survey_id))
