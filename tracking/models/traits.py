"""Trait history: every `$set`, `$set_once` and `$groupidentify` value with the time of its event.

Persons and companies keep their current traits in `properties`; these rows
keep how they got there, so a segment can be evaluated as of any moment
(segments.compiler, `as_of`). Written by ingestion beside the update of the
current traits; moved on merges; deleted with their person or company.
"""

from __future__ import annotations

from django.db import models


class PersonTrait(models.Model):
    """One trait value a person's event set: `once` for `$set_once` (first write wins), else `$set`."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("tracking.Person", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    value = models.JSONField(null=True)
    at = models.DateTimeField()
    once = models.BooleanField(default=False, db_default=False)

    class Meta:
        indexes = [
            # the value of one trait as of a moment, for everyone: segments.compiler
            models.Index(fields=["project", "key", "person", "at"], name="person_trait_key"),
            # one person's history (merges, the person page)
            models.Index(fields=["person", "at"], name="person_trait_person"),
            # whose traits changed between two moments: segments.history
            models.Index(fields=["project", "at"], name="person_trait_at"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}.{self.key} at {self.at:%Y-%m-%d %H:%M}"


class CompanyTrait(models.Model):
    """One trait value a `$groupidentify` set on a company."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    company = models.ForeignKey("tracking.Company", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    value = models.JSONField(null=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["project", "key", "company", "at"], name="company_trait_key"),
            models.Index(fields=["project", "at"], name="company_trait_at"),
        ]

    def __str__(self) -> str:
        return f"{self.company_id}.{self.key} at {self.at:%Y-%m-%d %H:%M}"
