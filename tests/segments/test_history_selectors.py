"""Reads of membership history: which traits an as-of answer took at their current value,
and how `as_of` is read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from segments.models import Segment
from segments.selectors.history import AsOfError, as_of_parse, trait_fallbacks
from tracking.models import Company, CompanyTrait, Person, PersonTrait

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 10, 12, tzinfo=UTC)


def person(project, company=None, **properties) -> Person:
    return Person.objects.create(
        project=project, company=company, properties=properties, first_seen=NOW, last_seen=NOW
    )


def test_traits_without_history_are_counted_through_nested_segments(project, other_project):
    gold = Company.objects.create(project=project, key="acme", properties={"tier": "gold"})
    told = person(project, plan="pro", country="FR")
    PersonTrait.objects.create(project=project, person=told, key="plan", value="pro", at=NOW)
    person(project, plan="pro")  # no history for plan
    person(project, company=gold, plan="free")
    person(other_project, plan="pro")  # another project's person is not counted
    Company.objects.create(project=project, key="told", properties={"tier": "gold"})
    CompanyTrait.objects.create(project=project, company=Company.objects.get(key="told"), key="tier",
                                value="gold", at=NOW)  # fmt: skip
    inner = Segment.objects.create(
        project=project,
        name="Gold",
        definition={"match": "all", "conditions": [{"type": "company", "property": "tier", "operator": "eq", "value": "gold"}]},
    )  # fmt: skip
    definition = {
        "match": "all",
        "conditions": [
            {"type": "person", "property": "plan", "operator": "eq", "value": "pro"},
            {"type": "person", "property": "country", "operator": "is_set", "value": None},
            {"match": "any", "conditions": [{"type": "segment", "segment": inner.pk}]},
        ],
    }
    found = {(f.subject, f.key): f.count for f in trait_fallbacks(definition, project)}
    # plan: one person's history holds it, two others' does not; tier reached through the nested segment
    assert found == {("person", "plan"): 2, ("person", "country"): 1, ("company", "tier"): 1}


def test_as_of_reads_offsets_naive_moments_and_dates_in_the_projects_zone(project):
    project.timezone = "America/New_York"
    assert as_of_parse("2026-10-03T14:00:00Z", project=project, now=NOW) == datetime(
        2026, 10, 3, 14, tzinfo=UTC
    )
    unescaped = as_of_parse("2026-10-03T14:00:00 02:00", project=project, now=NOW)  # "+" read as a space
    assert unescaped == datetime(2026, 10, 3, 12, tzinfo=UTC)
    naive = as_of_parse("2026-10-03T14:00:00", project=project, now=NOW)
    assert naive.utcoffset().total_seconds() == -4 * 3600
    midnight = as_of_parse("2026-10-03", project=project, now=NOW)
    assert midnight.astimezone(project.zone).hour == 0 and midnight.day == 3
    for bad in ("", "tomorrow", "2026-13-01", "2026-10-11"):
        with pytest.raises(AsOfError):
            as_of_parse(bad, project=project, now=NOW)
    assert as_of_parse(timezone.now().isoformat(), project=project) <= timezone.now()
