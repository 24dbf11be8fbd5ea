"""Personas: narratives tied to a segment, showing how many real people stand behind them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from segments.forms import PersonaForm
from segments.models import Persona
from segments.selectors import segments_counted
from segments.selectors.sizes import persons_total, recent_members, size_trends
from segments.services import persona_save
from segments.views.common import get_persona
from tracking.decorators import project_view
from tracking.models import Project
from web.charts import Series, line_chart
from web.forms import apply_service_errors
from web.rendering import render_page

EXAMPLES = 5


@project_view
@require_GET
def persona_list(request: HttpRequest, project: Project) -> HttpResponse:
    personas = list(Persona.objects.filter(project=project).select_related("segment").order_by("name"))
    segments = segments_counted(
        project=project, segments=[p.segment for p in personas if p.segment is not None]
    )
    trends = size_trends(project=project, segments=segments)
    rows = [(p, trends.get(p.segment_id) if p.segment_id else None) for p in personas]
    return render_page(request, "segments/personas.html", {"rows": rows}, project=project)


@project_view
@require_GET
def persona_detail(request: HttpRequest, project: Project, persona_id: int) -> HttpResponse:
    persona = get_persona(project, persona_id)
    context: dict = {"persona": persona}
    if persona.segment is not None:
        segment = segments_counted(project=project, segments=[persona.segment])[0]
        trend = size_trends(project=project, segments=[segment], days=90)[segment.pk]
        total = persons_total(project=project)
        context.update(
            trend=trend,
            share=segment.counted_size / total if total else 0,
            chart=line_chart(
                trend.known_labels,
                [Series("People", trend.known_sizes)],
                height=180,
                title=f"{persona.name}: people per day",
            )
            if len(trend.known_sizes) > 1
            else None,
            examples=recent_members(segment=segment, limit=EXAMPLES),
        )
    return render_page(request, "segments/persona_detail.html", context, project=project)


@project_view
@require_http_methods(["GET", "POST"])
def persona_new(request: HttpRequest, project: Project) -> HttpResponse:
    return _edit(request, project, persona=None)


@project_view
@require_http_methods(["GET", "POST"])
def persona_edit(request: HttpRequest, project: Project, persona_id: int) -> HttpResponse:
    return _edit(request, project, persona=get_persona(project, persona_id))


def _edit(request: HttpRequest, project: Project, *, persona: Persona | None) -> HttpResponse:
    initial = {}
    if persona is None and request.GET.get("segment", "").isdecimal():
        initial["segment"] = int(request.GET["segment"])
    form = PersonaForm(request.POST or None, instance=persona, initial=initial, project=project)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in PersonaForm.Meta.fields}
        try:
            saved = persona_save(project=project, persona=persona, **fields)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Persona “{saved.name}” saved.")
            return redirect("persona_detail", project_id=project.pk, persona_id=saved.pk)
    return render_page(
        request, "segments/persona_form.html", {"persona": persona, "form": form}, project=project
    )
