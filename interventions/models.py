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
