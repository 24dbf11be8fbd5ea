"""Acting on segments: feature flags, nudges, surveys and webhooks — and measuring them.

Targeting always reads materialised segment membership, so a person who enters
a segment is reached on their next decide, within seconds of the event that
put them there.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    LIVE = "live", "Live"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


class UrlMatching(models.TextChoices):
    CONTAINS = "contains", "URL contains"
    EXACT = "exact", "URL is exactly"
    REGEX = "regex", "URL matches regex"


class Targeted(models.Model):
    """What nudges and surveys share: status, schedule, audience, page match, holdout, goal."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    segments = models.ManyToManyField("segments.Segment", blank=True, related_name="+")
    url_matching = models.CharField(max_length=10, choices=UrlMatching.choices, default=UrlMatching.CONTAINS)
    url = models.CharField(max_length=500, blank=True, help_text="Empty: every page.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    holdout_percent = models.PositiveSmallIntegerField(
        default=0, help_text="Eligible people kept out on purpose, to measure the effect (0–90)."
    )
    goal = models.JSONField(default=dict, blank=True, help_text='{"event": E, "within_days": n}')
    live_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class Nudge(Targeted):
    class Kind(models.TextChoices):
        BANNER = "banner", "Banner"
        MODAL = "modal", "Modal"
        TOOLTIP = "tooltip", "Tooltip"

    class Trigger(models.TextChoices):
        PAGE_LOAD = "page_load", "On page load"
        SEGMENT_ENTRY = "segment_entry", "When the person enters a target segment"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BANNER)
    anchor_selector = models.CharField(
        max_length=300, blank=True, help_text="CSS selector a tooltip points at."
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    cta_text = models.CharField(max_length=100, blank=True)
    cta_url = models.CharField(max_length=1000, blank=True)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.PAGE_LOAD)
    frequency_days = models.PositiveSmallIntegerField(
        default=7, help_text="Show at most once per this many days (0: every page)."
    )
    max_impressions = models.PositiveSmallIntegerField(
        default=3, help_text="Stop after this many impressions (0: no limit)."
    )
    stop_after_click = models.BooleanField(default=True)


class Survey(Targeted):
    key = models.SlugField(
        max_length=100, help_text='Used in segment definitions: {"type": "survey", "survey": KEY, …}'
    )
    intro = models.TextField(blank=True)
    questions = models.JSONField(default=list)
    thank_you = models.CharField(max_length=200, default="Thank you!")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="survey_project_key")]


class FeatureFlag(models.Model):
    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="flags")
    key = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=False, help_text="The kill switch: off serves false to everyone.")
    # [{"key": "control", "weight": 50}, {"key": "new", "weight": 50}]; empty means a boolean flag
    variants = models.JSONField(default=list, blank=True)
    # evaluated in order; the first whose segment contains the person decides:
    # [{"segment": id | null (everyone), "rollout": 0-100}]
    rules = models.JSONField(default=list, blank=True)

    class BucketBy(models.TextChoices):
        PERSON = "person", "Each person"
        COMPANY = "company", "Each company (everyone at a company gets the same value)"

    # who a rollout and variants are drawn for: each person, or each company (the snippet's group())
    bucket_by = models.CharField(
        max_length=10, choices=BucketBy.choices, default=BucketBy.PERSON, db_default="person"
    )
    goal = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="flag_project_key")]
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    @property
    def is_multivariate(self) -> bool:
        return bool(self.variants)


class Exposure(models.Model):
    """One person's history with one nudge, survey or flag; kept current from the snippet's events."""

    class Kind(models.TextChoices):
        NUDGE = "nudge"
        SURVEY = "survey"
        FLAG = "flag"

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.BigIntegerField()
    person = models.ForeignKey("tracking.Person", on_delete=models.CASCADE, related_name="+")
    variant = models.CharField(max_length=100, blank=True, help_text="Flag variant, or 'holdout'.")
    held_out = models.BooleanField(default=False)
    first_at = models.DateTimeField()
    last_shown_at = models.DateTimeField(null=True, blank=True)
    times_shown = models.PositiveIntegerField(default=0)
    clicked_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "kind", "object_id", "person"], name="exposure_unique")
        ]
        indexes = [models.Index(fields=["project", "person"], name="exposure_project_person")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} for person {self.person_id}"


class Webhook(models.Model):
    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=100, help_text="Signs every delivery (HMAC-SHA256).")
    segments = models.ManyToManyField("segments.Segment", related_name="+")
    on_entry = models.BooleanField(default=True)
    on_exit = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)  # segment.entered / segment.exited / segment.alert / test
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["webhook", "-created_at"], name="delivery_webhook_created")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk} ({self.state})"


class SegmentAlert(models.Model):
    """Notify when a segment's size moves by more than a percentage within a day or a week."""

    class Window(models.TextChoices):
        DAY = "day", "Within a day"
        WEEK = "week", "Within a week"

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey("segments.Segment", on_delete=models.CASCADE, related_name="alerts")
    threshold_percent = models.PositiveSmallIntegerField(default=20)
    window = models.CharField(max_length=4, choices=Window.choices, default=Window.DAY)
    emails = models.TextField(blank=True, help_text="One address per line.")
    webhook = models.ForeignKey(Webhook, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    active = models.BooleanField(default=True)
    last_triggered_at = models.DateTimeField(null=True, blank=True)
    last_change_percent = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.segment} ±{self.threshold_percent}%/{self.window}"


class SegmentSync(models.Model):
    """A segment's scheduled export: its member list as a daily file, its entries and exits to a webhook.

    The file goes to the default storage (interventions.sync_files); the entries
    and exits are pushed in signed batches (interventions.sync_push), which keep
    in SegmentSyncMember who the receiver has been told is in.
    """

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey("segments.Segment", on_delete=models.CASCADE, related_name="+")
    daily_file = models.BooleanField(
        default=True, help_text="Write the full member list to storage once a day."
    )
    webhook_url = models.URLField(
        max_length=1000, blank=True, help_text="Receives entries and exits in signed batches. Empty: none."
    )
    secret = models.CharField(max_length=100, help_text="Signs every batch (HMAC-SHA256).")
    batch_size = models.PositiveIntegerField(default=500)
    push_current_members = models.BooleanField(
        default=True, help_text="Start by pushing everyone already in the segment as an entry."
    )
    enabled = models.BooleanField(default=True)
    # When the push began following the segment (its state was set up); None until then.
    push_started_at = models.DateTimeField(null=True, blank=True)
    # The project's data version when a pass last found nothing left to push (tracking.dataversion):
    # while it has not moved, membership has not either and the minute's pass reads nothing.
    checked_version = models.BigIntegerField(null=True, blank=True)
    push_failures = models.PositiveSmallIntegerField(default=0)
    next_push_at = models.DateTimeField(null=True, blank=True)
    push_lease_until = models.DateTimeField(null=True, blank=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    last_push_error = models.CharField(max_length=500, blank=True)
    last_file_at = models.DateTimeField(null=True, blank=True)
    last_file_error = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Sync of segment {self.segment_id}"

    @property
    def pushes(self) -> bool:
        return bool(self.webhook_url)


class SegmentSyncRun(models.Model):
    """One run of a sync: a member-list file written, or a pass of entries and exits pushed."""

    class Kind(models.TextChoices):
        FILE = "file", "Member list file"
        PUSH = "push", "Entries and exits"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Done"
        FAILED = "failed", "Failed"

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    sync = models.ForeignKey(SegmentSync, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(max_length=4, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveBigIntegerField(default=0, help_text="Members written, or changes pushed.")
    file_name = models.CharField(max_length=500, blank=True)
    file_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    batches = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["sync", "kind", "-started_at"], name="syncrun_sync_kind_started")]
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} run #{self.pk} ({self.status})"


class SegmentSyncBatch(models.Model):
    """One POST of entries and exits: what it carried and how the receiver answered."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    sync = models.ForeignKey(SegmentSync, on_delete=models.CASCADE, related_name="batches")
    run = models.ForeignKey(SegmentSyncRun, on_delete=models.CASCADE, related_name="batch_log")
    entered = models.PositiveIntegerField(default=0)
    exited = models.PositiveIntegerField(default=0)
    first_person_id = models.BigIntegerField()
    last_person_id = models.BigIntegerField()
    delivered = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["sync", "-sent_at"], name="syncbatch_sync_sent")]
        ordering = ["-sent_at", "-pk"]

    def __str__(self) -> str:
        return f"batch #{self.pk} ({self.entered} in, {self.exited} out)"

    @property
    def count(self) -> int:
        return self.entered + self.exited


class SegmentSyncMember(models.Model):
    """Someone the receiver has been told is in the segment (a person id: the person may since be gone)."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    sync = models.ForeignKey(SegmentSync, on_delete=models.CASCADE, related_name="+")
    person_id = models.BigIntegerField()
    entered_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sync", "person_id"], name="syncmember_sync_person")]

    def __str__(self) -> str:
        return f"{self.person_id} pushed by sync {self.sync_id}"
