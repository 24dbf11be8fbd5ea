"""Tasklane, the demo site at /demo/: a fictional product with the snippet installed.

Its forms store nothing: a submission only moves on to the next step. They are
CSRF-exempt for that reason (there is no state to forge a change to).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from demo import site as demo_site


def _render(request: HttpRequest, page_key: str, context: dict | None = None) -> HttpResponse:
    page = demo_site.page_get(page_key)
    return render(
        request,
        f"demo/{page.key}.html",
        {
            "page": page,
            "sightline_key": demo_site.public_key(),
            # The demo sends to the Sightline serving it, whatever name it is reached by.
            "sightline_host": request.build_absolute_uri("/").rstrip("/"),
            **(context or {}),
        },
    )


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    return _render(request, "landing", {"columns": demo_site.BOARD_COLUMNS})


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    return _render(request, "pricing", {"plans": demo_site.PLANS})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return redirect("demo:onboarding")
    plan = demo_site.plan_get(request.GET.get("plan"))
    return _render(request, "signup", {"plan": plan, "company_sizes": demo_site.COMPANY_SIZES})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def onboarding(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":  # the invite form
        return redirect(reverse("demo:onboarding") + "?invited=1")
    invited = request.GET.get("invited") == "1"
    return _render(
        request,
        "onboarding",
        {
            "invited": invited,
            "done": 2 if invited else 1,
            "recovery_codes": demo_site.RECOVERY_CODES,
            "api_token": demo_site.API_TOKEN,
        },
    )


@require_GET
def board(request: HttpRequest, tab: str = "board") -> HttpResponse:
    view = demo_site.tab_get(tab)
    # Each view has one address: /demo/board/board/ must not duplicate /demo/board/.
    if view is None or request.path_info != view.path:
        raise Http404("No such board view")
    return _render(
        request,
        "board",
        {"tabs": demo_site.BOARD_TABS, "active_tab": tab, "columns": demo_site.BOARD_COLUMNS},
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return redirect("demo:checkout_complete")
    return _render(request, "checkout")


@require_GET
def checkout_complete(request: HttpRequest) -> HttpResponse:
    return _render(request, "checkout_complete")
