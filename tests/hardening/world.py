"""One object of every kind a URL can point at, in one project, made through the real services.

Used by the isolation sweep: another organization's member is pointed at each
of these and must find nothing. Every name carries `MARKER`, so a page that
leaks one of them can be caught by its text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import models
from django.forms.models import model_to_dict

from analysis.jobs import analysis_request
from analysis.kinds import analysis_params
from tests.ingest.conftest import event
from tests.replay import rrweb
from tracking import eventstore
from tracking.models import Company, Event, Person, PersonDistinctId, Project, Session, User

MARKER = "Acmesecret"

PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}
GOAL = {"event": {"name": "upgraded"}, "within_days": 7}
QUESTIONS = [{"key": "nps", "type": "rating", "prompt": "Recommend us?", "scale": 10}]


def build_world(
    *, project: Project, owner: User, send: Callable[..., Any], on_commit: Callable[[], Any]
) -> dict[str, models.Model]:
    """Create the objects; keys are the kinds the sweep fills URL arguments with."""
    from analysis.services import metric_create, saved_analysis_create
    from interventions import services as interventions
    from interventions.sync_files import sync_file_write
    from interventions.syncs import sync_save
    from interventions.webhooks import send_test
    from replay.models import RecordingChunk
    from replay.services import recording_chunk_ingest, retention_rule_save
    from segments.lifecycle import custom_model_create
    from segments.services import persona_save, segment_create
    from tracking.services.accounts import api_key_create, invitation_create
    from tracking.services.actions import action_create

    _spread_ids()
    now = datetime.now(UTC)
    stamp = now.isoformat()
    session_key = f"{MARKER}-session"
    batch = [
        event("$pageview", "anon-a", session_id=session_key, timestamp=stamp, **{"$current_url": "https://acme.test/pricing"}),
        event("$identify", "customer-a", session_id=session_key, timestamp=stamp,
              **{"$anon_distinct_id": "anon-a", "$set": {"plan": "pro", "name": f"{MARKER} person"}}),
        event("$groupidentify", "customer-a", session_id=session_key, timestamp=stamp,
              **{"$group_key": f"{MARKER}-co", "$group_set": {"name": f"{MARKER} company"}}),
        event("signup", "customer-a", session_id=session_key, timestamp=stamp),
    ]  # fmt: skip
    response = send(batch)
    assert response.status_code == 200 and response.json()["accepted"] == len(batch), response.content
    person_id = PersonDistinctId.objects.get(project=project, distinct_id="customer-a").person_id

    with on_commit():
        segment = segment_create(project=project, name=f"{MARKER} pro", definition=PRO, created_by=owner)
        segmentation_model = custom_model_create(
            project=project, name=f"{MARKER} tiers", groups=[("Pro", PRO)], created_by=owner
        )
    t = rrweb.now_ms()
    recording_chunk_ingest(
        project=project, session_key=session_key, distinct_id="customer-a", seq=0,
        events=[*rrweb.page(t), rrweb.click(t + 1000)],
    )  # fmt: skip
    chunk = RecordingChunk.objects.get(project=project, recording__session_key=session_key)
    hook = interventions.webhook_save(
        project=project,
        data={"name": f"{MARKER} CRM", "url": "http://127.0.0.1:9/hook", "segments": [segment.pk]},
    )
    sync = sync_save(
        project=project, data={"segment": segment.pk, "webhook_url": "http://127.0.0.1:9/sync"}, user=owner
    )
    objects = {
        "project": project,
        "person": Person.objects.get(project=project, pk=person_id),
        "company": Company.objects.get(project=project, key=f"{MARKER}-co"),
        "session": Session.objects.get(project=project, session_key=session_key),
        "action": action_create(
            project=project, user=owner, name=f"{MARKER} signed up", steps=[{"event": "signup"}]
        ),
        "segment": segment,
        "segment_version": segment.versions.get(number=1),
        "segmentation_model": segmentation_model,
        "persona": persona_save(project=project, name=f"{MARKER} founder", segment=segment),
        "metric": metric_create(
            project=project,
            name=f"{MARKER} signed up",
            kind="activation",
            definition={"event": {"name": "signup"}, "within_days": 7},
        ),
        "saved_analysis": saved_analysis_create(
            project=project, name=f"{MARKER} paths", kind="paths", params={"start": {"path": "/pricing"}}
        ),
        "job": analysis_request(
            project=project,
            kind="paths",
            query=analysis_params(project=project, kind="paths", params={"start": {"path": "/pricing"}}),
            refresh=True,
        ).job,
        "recording": chunk.recording,
        "recording_chunk": chunk,
        "retention_rule": retention_rule_save(project=project, segment=segment, days=90),
        "nudge": interventions.nudge_save(
            project=project,
            data={"name": f"{MARKER} upgrade", "title": "Go pro", "segments": [segment.pk], "goal": GOAL},
        ),
        "survey": interventions.survey_save(
            project=project,
            data={"name": f"{MARKER} NPS", "key": "nps", "questions": QUESTIONS, "goal": GOAL},
        ),
        "flag": interventions.flag_save(
            project=project,
            data={
                "key": "new-nav",
                "description": MARKER,
                "rules": [{"segment": segment.pk, "rollout": 50}],
                "goal": GOAL,
            },
        ),
        "webhook": hook,
        "webhook_delivery": send_test(hook),
        "alert": interventions.alert_save(
            project=project, data={"segment": segment.pk, "threshold_percent": 20, "emails": "ops@acme.test"}
        ),
        "segment_sync": sync,
        "segment_sync_run": sync_file_write(sync),
        "invitation": invitation_create(
            organization=project.organization,
            email="new@acme.test",
            role="member",
            invited_by=owner,
            base_url="http://testserver",
        ).invitation,
        "api_key": api_key_create(user=owner, label=f"{MARKER} key").key,
    }
    if not eventstore.using_clickhouse():  # a row of its own only in PostgreSQL
        objects["event"] = Event.objects.filter(project=project, name="signup").get()
    return objects


def _spread_ids() -> None:
    """Give each kind of object ids of its own range, so a URL filled with the wrong kind's id 404s.

    Sequences only ever move forward here (they are not rolled back with the test).
    """
    from django.apps import apps
    from django.db import connection

    tables = sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.app_label in {"tracking", "segments", "analysis", "replay", "interventions"}
        and isinstance(model._meta.pk, models.AutoField)
    )
    with connection.cursor() as cursor:
        sequences = []
        for table in tables:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequences.append(cursor.fetchone()[0])
        cursor.execute(
            "SELECT max(last_value) FROM pg_sequences WHERE schemaname || '.' || sequencename = ANY(%s)"
            " OR sequencename = ANY(%s)",
            [sequences, sequences],
        )
        base = ((cursor.fetchone()[0] or 0) // 1000 + 1) * 1000
        for position, sequence in enumerate(sequences):
            cursor.execute("SELECT setval(%s, %s)", [sequence, base + 1000 * position])


def snapshot(world: dict[str, models.Model]) -> dict[str, dict]:
    """The stored state of every object, to prove a stranger's requests changed nothing."""
    state = {}
    for kind, obj in world.items():
        fresh = type(obj).objects.filter(pk=obj.pk).first()
        state[kind] = model_to_dict(fresh) if fresh is not None else None
    return state


def row_counts() -> dict[str, int]:
    """Rows per model of the product apps, and events in ClickHouse: a write anywhere shows up here."""
    from django.apps import apps

    counts = {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"tracking", "segments", "analysis", "replay", "interventions"}
    }
    if eventstore.using_clickhouse():
        from tracking.eventstore.clickhouse.client import client

        ch = client()
        counts["clickhouse.events"] = ch.query(f"SELECT count() FROM {ch.table('events')}")[0][0]
        counts["clickhouse.person_overrides"] = ch.query(
            f"SELECT count() FROM {ch.table('person_overrides')}"
        )[0][0]
    return counts
