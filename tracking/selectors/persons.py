"""Reads over persons: the searchable list, one person's page and the API."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import BooleanField, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from tracking.eventstore import explore
from tracking.models import Person, PersonDistinctId, Project, Session

MAX_SEARCH = 200


def like_pattern(text: str) -> str:
    """`text` as a literal inside an ILIKE '%…%' pattern (backslash is PostgreSQL's default escape)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def property_value_matches(table: str, text: str) -> RawSQL:
    """True when any top-level property value of a row of `table` contains `text`, ignoring case.

    No index serves a substring match inside jsonb (the GIN index answers containment
    only), so this reads the project's rows of a table that is small next to events.
    """
    if table not in ("tracking_person", "tracking_company"):
        raise ValueError(f"no properties column on {table}")
    sql = f"EXISTS (SELECT 1 FROM jsonb_each_text({table}.properties) AS kv WHERE kv.value ILIKE %s)"  # noqa: S608 - table from the fixed list above
    return RawSQL(  # noqa: S611 - the search text is a parameter
        sql,
        [like_pattern(text)],
        output_field=BooleanField(),
    )


def _distinct_ids_prefetch() -> Prefetch:
    return Prefetch("distinct_ids", queryset=PersonDistinctId.objects.order_by("id"))


def person_list(*, project: Project, search: str = "") -> QuerySet[Person]:
    """The project's persons, most recently seen first, optionally searched.

    `search` matches a distinct id (substring), any property value (e-mail, name, plan…)
    or, when it is a number, the person's id.
    """
    queryset = Person.objects.filter(project_id=project.pk)
    search = search.strip()[:MAX_SEARCH]
    if search:
        matches = Q(
            Exists(
                PersonDistinctId.objects.filter(
                    project_id=project.pk, person_id=OuterRef("pk"), distinct_id__icontains=search
                )
            )
        ) | Q(property_value_matches("tracking_person", search))
        if search.isdecimal() and len(search) < 18:
            matches |= Q(pk=int(search))
        queryset = queryset.filter(matches)
    # person_project_last_seen (project, -last_seen) serves the order.
    return (
        queryset.select_related("company")
        .prefetch_related(_distinct_ids_prefetch())
        .order_by("-last_seen", "-id")
    )


def person_get(*, project: Project, person_id: int) -> Person:
    """The project's person, or 404 (a person of another project is not found either)."""
    person = (
        Person.objects.filter(project_id=project.pk, pk=person_id)
        .select_related("company")
        .prefetch_related(_distinct_ids_prefetch())
        .first()
    )
    if person is None:
        raise Http404("No such person")
    return person


def person_by_distinct_id(*, project: Project, distinct_id: str) -> int | None:
    """The id of the person known by `distinct_id` (unique index distinct_id_project_unique)."""
    return (
        PersonDistinctId.objects.filter(project_id=project.pk, distinct_id=distinct_id)
        .values_list("person_id", flat=True)
        .first()
    )


def person_event_counts(*, project: Project, person_ids: Iterable[int]) -> dict[int, int]:
    """How many events each person has, for one page of persons."""
    return explore.person_event_counts(project.pk, list(person_ids))


def person_sessions(*, project: Project, person: Person) -> QuerySet[Session]:
    """A person's sessions, newest first (session_project_person)."""
    return Session.objects.filter(project_id=project.pk, person_id=person.pk).order_by("-started_at", "-id")
