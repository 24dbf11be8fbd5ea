"""Feature flags: the list tab, the form (variants and ordered rules), the kill switch, and “test a distinct id”.

Variants and rules are lists of rows edited with `op` buttons — `variant_add`,
`variant_remove:i`, `rule_add`, `rule_remove:i`, `rule_up:i`, `rule_down:i` — that
htmx answers with the edited list and that post the whole page without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import forms, services
from interventions.decide import person_id_for
from interventions.models import FeatureFlag
from interventions.views.common import delete_confirm_page, form_context, get_object, render_list
from tracking.decorators import project_view
from tracking.models import Project
from tracking.site import public_base_url
from web.confirm import confirmed
from web.rendering import htmx_target, render_page

TEMPLATE = "interventions/flag_form.html"
BLANK_VARIANT = {"key": "", "weight": "50"}
BLANK_RULE = {"segment": "", "rollout": "100"}


@project_view
@require_GET
def flag_list(request: HttpRequest, project: Project) -> HttpResponse:
    return render_list(request, project, "flag")


@project_view
@require_http_methods(["GET", "POST"])
def flag_new(request: HttpRequest, project: Project) -> HttpResponse:
    return _form_page(request, project, None)


@project_view
@require_http_methods(["GET", "POST"])
def flag_edit(request: HttpRequest, project: Project, flag_id: int) -> HttpResponse:
    return _form_page(request, project, get_object(FeatureFlag, project, flag_id))


def _form_page(request: HttpRequest, project: Project, flag: FeatureFlag | None) -> HttpResponse:
    if request.method == "GET":
        form = forms.FlagForm(project=project, initial=forms.flag_initial(flag) if flag else {})
        variants = forms.variant_editor(variants=flag.variants if flag else None)
        rules = forms.rule_editor(rules=flag.rules if flag else None)
        test = forms.FlagTestForm(request.GET if "distinct_id" in request.GET else None)
        fragment = "test" if htmx_target(request) == "flag-test" and flag is not None else None
        return _render(request, project, flag, form, variants, rules, test=test, fragment=fragment)
    op = request.POST.get("op", "save")
    form = forms.FlagForm(request.POST, project=project)
    variants, rules = forms.variant_editor(request.POST), forms.rule_editor(request.POST)
    which, _, edit = op.partition("_")
    editor = {"variant": variants, "rule": rules}.get(which)
    if editor is not None and editor.edit(edit, BLANK_VARIANT if which == "variant" else BLANK_RULE):
        fragment = f"{which}s" if htmx_target(request) == f"flag-{which}s" else None
        return _render(request, project, flag, form, variants, rules, fragment=fragment)
    if form.is_valid():
        try:
            saved = services.flag_save(
                project=project,
                data=form.data_for_service(variants, rules, creating=flag is None),
                flag=flag,
                user=request.user,
            )
        except ValidationError as error:
            forms.apply_intervention_errors(form, error, (variants, rules))
            if flag is not None:
                flag.refresh_from_db()
        else:
            state = "on" if saved.enabled else "off (the kill switch serves false to everyone)"
            messages.success(request, f"Saved the flag “{saved.key}”; it is {state}.")
            return redirect("flag_edit", project_id=project.pk, flag_id=saved.pk)
    return _render(request, project, flag, form, variants, rules)


def _render(
    request: HttpRequest, project: Project, flag: FeatureFlag | None, form: forms.FlagForm,
    variants: forms.RowEditor, rules: forms.RowEditor, *, test: forms.FlagTestForm | None = None, fragment: str | None = None,
) -> HttpResponse:  # fmt: skip
    context: dict = {
        "flag": flag, "form": form, "variants": variants, "rules": rules, "test_form": test or forms.FlagTestForm(),
        "base_url": public_base_url(request), **form_context(project),
    }  # fmt: skip
    if flag is not None and test is not None and test.is_valid():
        distinct_id = test.cleaned_data["distinct_id"].strip()
        values = services.flags_evaluate(project=project, distinct_ids=[distinct_id])[distinct_id]
        others = sorted((key, value) for key, value in values.items() if key != flag.key)
        context["tested"] = {
            "distinct_id": distinct_id,
            "value": values.get(flag.key, False),
            "others": others,
            "known": person_id_for(project, distinct_id) is not None,
        }
    return render_page(request, TEMPLATE, context, project=project, fragment=fragment)


@project_view
@require_POST
def flag_switch(request: HttpRequest, project: Project, flag_id: int) -> HttpResponse:
    """The kill switch: turn the flag on or off for everyone at once (`enabled` = "on" / "off")."""
    flag = get_object(FeatureFlag, project, flag_id)
    wanted = request.POST.get("enabled")
    if wanted not in ("on", "off"):
        messages.error(request, "Enabled: choose on or off.")
    else:
        services.flag_save(project=project, data={"enabled": wanted == "on"}, flag=flag)
        if wanted == "on":
            messages.success(request, f"“{flag.key}” is on: its rules decide who gets it.")
        else:
            messages.success(request, f"“{flag.key}” is off: everyone gets false.")
    if request.POST.get("back") == "list":
        return redirect("interventions_flags", project_id=project.pk)
    return redirect("flag_edit", project_id=project.pk, flag_id=flag.pk)


@project_view
@require_POST
def flag_delete(request: HttpRequest, project: Project, flag_id: int) -> HttpResponse:
    flag = get_object(FeatureFlag, project, flag_id)
    if not confirmed(request):
        return delete_confirm_page(
            request,
            project=project,
            what=f"the flag “{flag.key}”",
            consequences=["Code asking for it gets false from now on, whoever asks."],
            cancel_url=reverse("flag_edit", args=[project.pk, flag.pk]),
        )
    services.intervention_delete(obj=flag)
    messages.success(request, f"Deleted the flag “{flag.key}”: code asking for it now gets false.")
    return redirect("interventions_flags", project_id=project.pk)
