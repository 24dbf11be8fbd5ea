"""Webhooks: the list tab, create and edit, the signing secret, a test delivery, the delivery log and resending.

Who sees the secret: it is shown once to whoever creates the webhook (they must
configure the receiver with it); after that only owners and admins can reveal
it, because with the secret anyone could forge deliveries to the receiver.
Everything else about webhooks is open to every member of the project.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import forms, selectors, services
from interventions.models import Webhook, WebhookDelivery
from interventions.views.common import get_object
from interventions.webhooks import resend, send_test
from tracking.decorators import project_view
from tracking.models import Project
from web.confirm import confirm_page, confirmed
from web.rendering import htmx_target, render_page

TEMPLATE = "interventions/webhook_form.html"
DELIVERIES_PER_PAGE = 50
FRESH_SECRET_SESSION_KEY = "interventions_webhook_secret_once"  # noqa: S105 - a session key name, not a secret


@project_view
@require_GET
def webhook_list(request: HttpRequest, project: Project) -> HttpResponse:
    return render_page(
        request,
        "interventions/webhooks.html",
        {"webhooks": selectors.webhook_list(project=project)},
        project=project,
    )


@project_view
@require_http_methods(["GET", "POST"])
def webhook_new(request: HttpRequest, project: Project) -> HttpResponse:
    return _form_page(request, project, None)


@project_view
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, project: Project, webhook_id: int) -> HttpResponse:
    return _form_page(request, project, get_object(Webhook, project, webhook_id))


def _form_page(request: HttpRequest, project: Project, hook: Webhook | None) -> HttpResponse:
    if request.method == "POST":
        form = forms.WebhookForm(request.POST, project=project)
        if form.is_valid():
            try:
                saved = services.webhook_save(project=project, data=form.data_for_service(), webhook=hook)
            except ValidationError as error:
                forms.apply_intervention_errors(form, error)
                if hook is not None:
                    hook.refresh_from_db()
            else:
                if hook is None:
                    # the creator sees the secret once, on the page this redirect leads to
                    request.session[FRESH_SECRET_SESSION_KEY] = saved.pk
                    messages.success(
                        request, f"Created the webhook “{saved.name}”. Copy its signing secret now."
                    )
                else:
                    messages.success(request, f"Saved the webhook “{saved.name}”.")
                return redirect("webhook_edit", project_id=project.pk, webhook_id=saved.pk)
    else:
        form = forms.WebhookForm(
            project=project,
            initial=forms.webhook_initial(hook) if hook else {"on_entry": True, "active": True},
        )
    fresh = (
        hook is not None
        and request.method == "GET"
        and request.session.get(FRESH_SECRET_SESSION_KEY) == hook.pk
    )
    if fresh:
        del request.session[FRESH_SECRET_SESSION_KEY]
    return _render(request, project, hook, form, reveal=fresh, fresh=fresh)


def _render(request: HttpRequest, project: Project, hook: Webhook | None, form: forms.WebhookForm, *, reveal: bool, fresh: bool = False,
            rotated: bool = False, fragment: str | None = None) -> HttpResponse:  # fmt: skip
    context = {
        "webhook": hook, "form": form, "reveal": reveal, "fresh": fresh, "rotated": rotated,
        "can_manage": request.membership.can_manage,
        "recent": list(selectors.delivery_list(webhook=hook)[:5]) if hook else [],
    }  # fmt: skip
    return render_page(request, TEMPLATE, context, project=project, fragment=fragment)


@project_view(manage=True)
@require_POST
def webhook_secret(request: HttpRequest, project: Project, webhook_id: int) -> HttpResponse:
    """Reveal the signing secret (owners and admins)."""
    hook = get_object(Webhook, project, webhook_id)
    form = forms.WebhookForm(project=project, initial=forms.webhook_initial(hook))
    fragment = "secret" if htmx_target(request) == "webhook-secret" else None
    return _render(request, project, hook, form, reveal=True, fragment=fragment)


@project_view(manage=True)
@require_POST
def webhook_secret_rotate(request: HttpRequest, project: Project, webhook_id: int) -> HttpResponse:
    """A new signing secret (owners and admins), shown at once; the old one stops verifying."""
    hook = get_object(Webhook, project, webhook_id)
    services.webhook_rotate_secret(webhook=hook)
    form = forms.WebhookForm(project=project, initial=forms.webhook_initial(hook))
    fragment = "secret" if htmx_target(request) == "webhook-secret" else None
    return _render(request, project, hook, form, reveal=True, rotated=True, fragment=fragment)


@project_view
@require_POST
def webhook_test(request: HttpRequest, project: Project, webhook_id: int) -> HttpResponse:
    hook = get_object(Webhook, project, webhook_id)
    send_test(hook)
    messages.success(
        request, f"A test delivery to {hook.url} is on its way; it appears below within seconds."
    )
    return redirect("webhook_deliveries", project_id=project.pk, webhook_id=hook.pk)


@project_view
@require_POST
def webhook_delete(request: HttpRequest, project: Project, webhook_id: int) -> HttpResponse:
    hook = get_object(Webhook, project, webhook_id)
    if not confirmed(request):
        return confirm_page(
            request,
            project=project,
            title=f"Delete the webhook “{hook.name}”?",
            consequences=[
                f"Nothing more is sent to {hook.url}, and its delivery log is deleted with it.",
                "To stop deliveries for a while instead, untick “Active” on the webhook.",
            ],
            button="Delete webhook",
            cancel_url=reverse("webhook_edit", args=[project.pk, hook.pk]),
        )
    services.intervention_delete(obj=hook)
    messages.success(request, f"Deleted the webhook “{hook.name}” and its delivery log.")
    return redirect("webhooks", project_id=project.pk)


@project_view
@require_GET
def webhook_deliveries(request: HttpRequest, project: Project, webhook_id: int) -> HttpResponse:
    hook = get_object(Webhook, project, webhook_id)
    page = Paginator(selectors.delivery_list(webhook=hook), DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    fragment = "deliveries" if htmx_target(request) == "deliveries" else None
    # a delivery on its way: the log refreshes itself until it has an outcome
    busy = any(d.state == WebhookDelivery.State.PENDING for d in page)
    return render_page(
        request,
        "interventions/deliveries.html",
        {"webhook": hook, "deliveries": page, "busy": busy},
        project=project,
        fragment=fragment,
    )


@project_view
@require_POST
def delivery_resend(
    request: HttpRequest, project: Project, webhook_id: int, delivery_id: int
) -> HttpResponse:
    """Try a delivery again now, whatever happened to it before."""
    hook = get_object(Webhook, project, webhook_id)
    delivery = WebhookDelivery.objects.filter(project=project, webhook=hook, pk=delivery_id).first()
    if delivery is None:
        raise Http404("No such delivery")
    resend(delivery)
    if htmx_target(request) == f"delivery-{delivery.pk}":
        return render_page(
            request,
            "interventions/deliveries.html",
            {"webhook": hook, "d": delivery},
            project=project,
            fragment="delivery",
        )
    messages.success(request, f"Delivery {delivery.pk} is being sent again.")
    return redirect("webhook_deliveries", project_id=project.pk, webhook_id=hook.pk)
