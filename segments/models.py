"""Segments and their materialised, historied membership.

A segment's definition (docs/segments.md) is compiled to one SQL statement by
`segments.compiler`; members are kept in SegmentMembership with entry and exit
times, so "who entered this week", growth and triggers all read one table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", "Dynamic (kept live)"
    STATIC = "static", "Static (a fixed list)"


class SegmentSubject(models.TextChoices):
    PERSON = "person", "People"
    COMPANY = "company", "Companies"


class SegmentStatus(models.TextChoices):
    PENDING = "pending", "Waiting to compute"
    COMPUTING = "computing", "Computing"
    READY = "ready", "Ready"
    ERROR = "error", "Error"


class SegmentationModel(models.Model):
    """An ordered list of segments where each person belongs to exactly one: first match wins."""

    class Template(models.TextChoices):
        LIFECYCLE = "lifecycle", "Lifecycle"
        CUSTOM = "custom", "Custom"

    project = models.ForeignKey(
        "tracking.Project", on_delete=models.CASCADE, related_name="segmentation_models"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    template = models.CharField(max_length=20, choices=Template.choices, default=Template.CUSTOM)
    parameters = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Segment(models.Model):
    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC)
    # Who the members are: people (SegmentMembership) or companies (CompanyMembership).
    subject = models.CharField(
        max_length=10, choices=SegmentSubject.choices, default=SegmentSubject.PERSON, db_default="person"
    )
    definition = models.JSONField(default=dict, blank=True)
    # A group of a segmentation model: `definition` is the group's own rule; the
    # model's earlier groups are excluded when it is compiled (first match wins).
    model = models.ForeignKey(
        SegmentationModel, on_delete=models.CASCADE, null=True, blank=True, related_name="groups"
    )
    model_position = models.PositiveSmallIntegerField(default=0)
    is_model_remainder = models.BooleanField(default=False, help_text="The model's “everyone else” group.")
    frozen_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="frozen_copies"
    )
    status = models.CharField(max_length=10, choices=SegmentStatus.choices, default=SegmentStatus.PENDING)
    status_detail = models.TextField(blank=True)
    size = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)
    compute_ms = models.PositiveIntegerField(null=True, blank=True)
    # Membership history reconstructed over stored events (segments.history): the first
    # day it covers, and when it was built; None until built for the current definition.
    history_from = models.DateField(null=True, blank=True)
    history_built_at = models.DateTimeField(null=True, blank=True)
    # Where the segment came from when it was made from an analysis (segments.origins):
    # {"kind", "label", "link", "params", "part"}; None for segments built or uploaded here.
    origin = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["project", "kind"], name="segment_project_kind")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_dynamic(self) -> bool:
        return self.kind == SegmentKind.DYNAMIC

    @property
    def is_company(self) -> bool:
        return self.subject == SegmentSubject.COMPANY


class SegmentMembership(models.Model):
    """One period of membership: open while `exited_at` is null."""

    # The segment's project, copied for scoping: no foreign key of its own in the database (the
    # segment's has it). PostgreSQL checks each key of each row written: a rebuilt history writes
    # tens of thousands of periods of one segment, and each check of the same project cost about as
    # much as the row's index entries (10% of a rebuild). Deleting a project still removes its rows.
    project = models.ForeignKey(
        "tracking.Project", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    # no index of its own: membership_segment_entered and _exited lead with segment_id, and a rebuild
    # writes hundreds of thousands of rows through every index
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    person = models.ForeignKey(
        "tracking.Person", on_delete=models.CASCADE, related_name="segment_memberships"
    )
    entered_at = models.DateTimeField()
    exited_at = models.DateTimeField(null=True, blank=True)
    # Entry (and exit) found by reconstructing history at day boundaries, not seen live.
    reconstructed = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints = [
            # at most one open period per person and segment; also the lookup the refresh diff uses
            models.UniqueConstraint(
                fields=["segment", "person"],
                condition=models.Q(exited_at__isnull=True),
                name="membership_open_unique",
            )
        ]
        indexes = [
            models.Index(fields=["segment", "entered_at"], name="membership_segment_entered"),
            models.Index(fields=["segment", "exited_at"], name="membership_segment_exited"),
            # decide and the person page: a person's current segments
            models.Index(
                fields=["project", "person"],
                condition=models.Q(exited_at__isnull=True),
                name="membership_person_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.segment_id}"


class CompanyMembership(models.Model):
    """One period of a company's membership of a company segment: open while `exited_at` is null."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="company_memberships")
    company = models.ForeignKey(
        "tracking.Company", on_delete=models.CASCADE, related_name="segment_memberships"
    )
    entered_at = models.DateTimeField()
    exited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "company"],
                condition=models.Q(exited_at__isnull=True),
                name="company_membership_open_unique",
            )
        ]
        indexes = [
            models.Index(fields=["segment", "entered_at"], name="company_membership_entered"),
            models.Index(fields=["segment", "exited_at"], name="company_membership_exited"),
            # decide: a company's current segments
            models.Index(
                fields=["project", "company"],
                condition=models.Q(exited_at__isnull=True),
                name="company_membership_open",
            ),
        ]

    def __str__(self) -> str:
        return f"company {self.company_id} in {self.segment_id}"


class SegmentVersion(models.Model):
    """One saved definition of a dynamic segment, numbered from 1: its edit history, any of it restorable."""

    class Change(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        RESTORED = "restored", "Restored"

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    change = models.CharField(max_length=10, choices=Change.choices, default=Change.EDITED)
    restored_from = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "number"], name="segment_version_number")]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"{self.segment_id} v{self.number}"


class SegmentSizeSnapshot(models.Model):
    """A segment's size at the end of a day (updated during the day), with that day's entries and exits."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="snapshots")
    date = models.DateField()
    size = models.PositiveIntegerField()
    entered = models.PositiveIntegerField(default=0)
    exited = models.PositiveIntegerField(default=0)
    reconstructed = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "date"], name="snapshot_segment_date")]
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.segment_id} on {self.date}: {self.size}"


class Persona(models.Model):
    """A narrative (who, goals, quotes) tied to a segment, so the story shows how many real people it has."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="personas")
    segment = models.ForeignKey(
        Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="personas"
    )
    name = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True, help_text="One line: who they are.")
    goals = models.TextField(blank=True)
    frustrations = models.TextField(blank=True)
    quotes = models.TextField(blank=True, help_text="One quote per line.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    @property
    def quote_list(self) -> list[str]:
        return [q.strip() for q in self.quotes.splitlines() if q.strip()]


class RefreshState(models.Model):
    """Debounces live refreshes: at most one queued refresh per project at a time."""

    project = models.OneToOneField(
        "tracking.Project", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    pending = models.BooleanField(default=False)
    requested_at = models.DateTimeField(null=True)
    last_run_at = models.DateTimeField(null=True)
    last_run_ms = models.PositiveIntegerField(null=True)
    last_run_persons = models.PositiveIntegerField(null=True)

    def __str__(self) -> str:
        return f"refresh of project {self.project_id}"
