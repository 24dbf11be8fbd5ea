"""What the snippet collects: persons, companies, sessions and events.

Events are append-only and by far the largest table; they are written with
COPY by `tracking.ingest`, never one `save()` at a time.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import BrinIndex, GinIndex
from django.db import models
from django.db.models.fields.json import KT


class Company(models.Model):
    """A customer's customer: firmographic traits set by `group()` / `$groupidentify`."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="companies")
    key = models.CharField(max_length=200)
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "companies"
        constraints = [models.UniqueConstraint(fields=["project", "key"], name="company_project_key")]

    def __str__(self) -> str:
        return str(self.properties.get("name") or self.key)


class Person(models.Model):
    """Someone the snippet has seen, known by one or more distinct ids."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="persons")
    properties = models.JSONField(default=dict, blank=True)
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="persons"
    )
    is_identified = models.BooleanField(default=False)
    first_seen = models.DateTimeField(db_index=True)
    last_seen = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "-last_seen"], name="person_project_last_seen"),
            GinIndex(fields=["properties"], name="person_properties_gin", opclasses=["jsonb_path_ops"]),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        props = self.properties or {}
        return str(props.get("email") or props.get("name") or f"Person {self.pk}")


class PersonDistinctId(models.Model):
    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="distinct_ids")
    distinct_id = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "distinct_id"], name="distinct_id_project_unique")
        ]

    def __str__(self) -> str:
        return self.distinct_id


class Session(models.Model):
    """A visit; technographic and geographic facts are parsed once, at ingestion."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=200, help_text="The id the snippet generated.")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sessions")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    entry_url = models.TextField(blank=True)
    exit_url = models.TextField(blank=True)
    referrer = models.TextField(blank=True)
    event_count = models.PositiveIntegerField(default=0)
    pageview_count = models.PositiveIntegerField(default=0)
    autocapture_count = models.PositiveIntegerField(default=0)
    rageclick_count = models.PositiveIntegerField(default=0)
    dead_click_count = models.PositiveIntegerField(default=0)
    browser = models.CharField(max_length=64, blank=True)
    browser_version = models.CharField(max_length=32, blank=True)
    os = models.CharField(max_length=64, blank=True)
    os_version = models.CharField(max_length=32, blank=True)
    device_type = models.CharField(max_length=16, blank=True)
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    has_recording = models.BooleanField(default=False)
    # Set at ingest (tracking.traffic): a bot, crawler or automated browser; and the
    # internal network (a project rule) the session's address matched, if any.
    is_bot = models.BooleanField(default=False, db_default=False)
    internal_network = models.CharField(max_length=64, blank=True, default="", db_default="")
    # Where the visit came from and went (tracking.ingest.landing): the paths of the entry
    # and exit URLs, the entry URL's UTM parameters, and the referring site's host
    # (lowercased, without www.; '' for a direct visit or one from the site itself).
    entry_path = models.CharField(max_length=1000, blank=True, default="", db_default="")
    exit_path = models.CharField(max_length=1000, blank=True, default="", db_default="")
    utm_source = models.CharField(max_length=200, blank=True, default="", db_default="")
    utm_medium = models.CharField(max_length=200, blank=True, default="", db_default="")
    utm_campaign = models.CharField(max_length=200, blank=True, default="", db_default="")
    utm_term = models.CharField(max_length=200, blank=True, default="", db_default="")
    utm_content = models.CharField(max_length=200, blank=True, default="", db_default="")
    referrer_domain = models.CharField(max_length=255, blank=True, default="", db_default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "session_key"], name="session_project_key")]
        indexes = [
            models.Index(fields=["project", "person", "started_at"], name="session_project_person"),
            # Newest sessions first, with the facts session, device and geo conditions filter
            # on most (all short: a row stays far below the index's 2.7 kB limit), so those
            # conditions read the index alone over a window instead of the wide rows.
            # ended_at changes as a session goes on, which makes its updates non-HOT: one
            # update per session per drained chunk, not per event.
            models.Index(
                fields=["project", "-started_at"],
                include=[
                    "person",
                    "ended_at",
                    "pageview_count",
                    "browser",
                    "os",
                    "device_type",
                    "country",
                    "utm_source",
                    "utm_medium",
                ],
                name="session_project_started",
            ),
            # Sessions that came from a campaign, by source: a `utm_source` filter reads its
            # own sessions instead of every session of the window (a month of a 10M-event
            # project: 9,500 entries instead of 340,000). Only sessions with a source, about
            # a quarter, pay for it on write.
            models.Index(
                fields=["project", "utm_source", "-started_at"],
                include=["person", "ended_at", "pageview_count", "utm_medium", "utm_campaign"],
                name="session_project_source",
                condition=~models.Q(utm_source=""),
            ),
            # the traffic filter's excluded persons: small, since most sessions are neither
            models.Index(
                fields=["project", "person"], name="session_bot_person", condition=models.Q(is_bot=True)
            ),
            models.Index(
                fields=["project", "internal_network"],
                name="session_internal_network",
                condition=~models.Q(internal_network=""),
            ),
        ]

    def __str__(self) -> str:
        return self.session_key

    @property
    def duration_seconds(self) -> int:
        return int((self.ended_at - self.started_at).total_seconds())


class Event(models.Model):
    """One thing a person did. Append-only; `(project, uuid)` makes a retried batch idempotent.

    `elements_chain` encodes the autocaptured element chain (target first) in the
    format of `tracking.elements`, so CSS selectors compile to a regex over it;
    `el_text` and `href` are the clicked element's text and nearest link, kept as
    columns because action steps filter on them directly.
    """

    id = models.BigAutoField(primary_key=True)
    # No database-level foreign keys: COPY would check both for every row. And no
    # ORM cascade: collecting a person's events by person_id alone would scan the
    # table. Deleting a person or a project deletes its events explicitly, by
    # (project_id, person_id) — see tracking.services.persons and signals.
    project = models.ForeignKey(
        "tracking.Project", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    uuid = models.UUIDField()
    person = models.ForeignKey(
        Person, on_delete=models.DO_NOTHING, related_name="events", db_index=False, db_constraint=False
    )
    distinct_id = models.CharField(max_length=200)
    session_key = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=200)
    timestamp = models.DateTimeField()
    received_at = models.DateTimeField()
    url = models.TextField(blank=True)
    path = models.TextField(blank=True)
    el_text = models.TextField(blank=True)
    href = models.TextField(blank=True)
    elements_chain = models.TextField(blank=True)
    properties = models.JSONField(default=dict)
    # `properties ->> '$pathname'`, computed by PostgreSQL on every write (never written by
    # Sightline): filters on the page path read it from event_project_name_ts instead of
    # the row (tracking.properties.LIFTED_EVENT_PROPERTIES). Ingestion keeps `$pathname`
    # within MAX_PATHNAME_BYTES, so the index entry always fits.
    pathname = models.GeneratedField(
        expression=KT("properties__$pathname"), output_field=models.TextField(), db_persist=True
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "uuid"], name="event_project_uuid")]
        indexes = [
            # segment and trend queries: one event name over a time range; person_id is
            # included so behavioural counts per person are index-only scans, and pathname
            # so are those that filter on the page path
            models.Index(
                fields=["project", "name", "timestamp"],
                include=["person", "pathname"],
                name="event_project_name_ts",
            ),
            # person timelines, incremental segment refresh, merges
            models.Index(fields=["project", "person", "timestamp"], name="event_project_person_ts"),
            BrinIndex(fields=["timestamp"], name="event_timestamp_brin", autosummarize=True),
        ]

    def __str__(self) -> str:
        return f"{self.name} at {self.timestamp:%Y-%m-%d %H:%M:%S}"


class PersonDay(models.Model):
    """One person's activity on one day (in the project's time zone): a rollup of their events.

    Kept by ingestion as batches commit, so "active on N days" reads one row per
    person-day instead of every event. Like Event it has no database foreign keys;
    merges move its rows and erasure deletes them (tracking.ingest.rollup).
    """

    project = models.ForeignKey(
        "tracking.Project", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    person = models.ForeignKey(
        Person, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField()
    events = models.PositiveIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "person", "day"], name="person_day_unique")]

    def __str__(self) -> str:
        return f"person {self.person_id} on {self.day}: {self.events} events"


class PersonEventDay(models.Model):
    """How many events of each name one person did on one day (in the project's time zone).

    The PostgreSQL event store's rollup for counting conditions ("did $pageview at
    least 5 times in the last 30 days"): a window's whole days are read here, a row
    per person, day and name, and only its partial first and last day from the
    events (tracking.eventstore.postgres.segments). Kept with PersonDay by ingestion,
    merges, erasure, retention and rebuilds (tracking.ingest.rollup); not kept when
    events live in ClickHouse, which counts its own columns faster than this table.
    """

    # the key is the row's identity and what the ingestion upsert, merges and erasure look up:
    # no surrogate id, one index fewer for every batch to write
    pk = models.CompositePrimaryKey("project", "person", "day", "name")
    project = models.ForeignKey(
        "tracking.Project", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    person = models.ForeignKey(
        Person, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    day = models.DateField()
    name = models.CharField(max_length=200)
    events = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # a name's days in a window, read without touching the table
            models.Index(
                fields=["project", "name", "day"], include=["person", "events"], name="person_event_day_name"
            )
        ]

    def __str__(self) -> str:
        return f"person {self.person_id} on {self.day}: {self.events} x {self.name}"


class IngestRejection(models.Model):
    """Dead letters: an event (or a whole request) the ingestion refused, and why."""

    project = models.ForeignKey(
        "tracking.Project", on_delete=models.CASCADE, related_name="ingest_rejections"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    endpoint = models.CharField(max_length=32, default="batch")
    index = models.IntegerField(null=True, blank=True, help_text="Position of the event in its batch.")
    reason = models.CharField(max_length=500)
    payload = models.TextField(blank=True, help_text="The rejected input, truncated.")

    class Meta:
        indexes = [models.Index(fields=["project", "-received_at"], name="rejection_project_received")]

    def __str__(self) -> str:
        return self.reason


class IngestSource(models.Model):
    """Which hosts send events to a project, for the install check."""

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="ingest_sources")
    host = models.CharField(max_length=255)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    event_count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "host"], name="ingest_source_project_host")]

    def __str__(self) -> str:
        return self.host


class PersonTouch(models.Model):
    """Persons whose events arrived since the segment refresher last looked.

    Ingestion adds a row per touched person after each batch (a cheap upsert);
    the refresher takes them with DELETE … RETURNING.
    """

    project = models.ForeignKey("tracking.Project", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    touched_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "person"], name="person_touch_unique")]

    def __str__(self) -> str:
        return f"person {self.person_id} touched at {self.touched_at:%H:%M:%S}"
