"""Companies: the list and one company's page (firmographic traits and members)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tracking.decorators import project_view
from tracking.filters import SearchFilter, error_summary
from tracking.models import Project
from tracking.selectors.companies import company_get, company_list, company_members
from web.rendering import render_page

COMPANIES_PER_PAGE = 50
MEMBERS_PER_PAGE = 50


@project_view
@require_GET
def companies(request: HttpRequest, project: Project) -> HttpResponse:
    form = SearchFilter(request.GET)
    if not form.is_valid():
        context = {"form": form, "error": error_summary(form), "page_obj": None}
        return render_page(
            request, "tracking/companies.html", context, project=project, fragment="results", status=400
        )
    search = form.cleaned_data["q"]
    page_obj = Paginator(company_list(project=project, search=search), COMPANIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"form": form, "search": search, "page_obj": page_obj}
    return render_page(request, "tracking/companies.html", context, project=project, fragment="results")


@project_view
@require_GET
def company_detail(request: HttpRequest, project: Project, company_id: int) -> HttpResponse:
    company = company_get(project=project, company_id=company_id)
    members = Paginator(company_members(project=project, company=company), MEMBERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"company": company, "members": members}
    return render_page(request, "tracking/company_detail.html", context, project=project, fragment="members")
