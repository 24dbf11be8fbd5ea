"""Reads over companies (firmographic traits) and their members."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from tracking.models import Company, Person, Project
from tracking.selectors.persons import MAX_SEARCH, property_value_matches


def company_list(*, project: Project, search: str = "", key: str | None = None) -> QuerySet[Company]:
    """The project's companies with their member counts, largest first.

    `search` matches the key or any property value; `key` is an exact match.
    """
    queryset = Company.objects.filter(project_id=project.pk)
    if key is not None:
        queryset = queryset.filter(key=key)
    search = search.strip()[:MAX_SEARCH]
    if search:
        queryset = queryset.filter(
            Q(key__icontains=search) | Q(property_value_matches("tracking_company", search))
        )
    return queryset.annotate(person_count=Count("persons")).order_by("-person_count", "key")


def company_get(*, project: Project, company_id: int) -> Company:
    """The project's company with its member count, or 404."""
    company = company_list(project=project).filter(pk=company_id).first()
    if company is None:
        raise Http404("No such company")
    return company


def company_members(*, project: Project, company: Company) -> QuerySet[Person]:
    """The persons of a company, most recently seen first."""
    return (
        Person.objects.filter(project_id=project.pk, company_id=company.pk)
        .prefetch_related("distinct_ids")
        .order_by("-last_seen", "-id")
    )
