from __future__ import annotations

import pytest
from django.db import connection

from replay.models import Recording, RecordingChunk
from segments.models import Segment, SegmentMembership
from tests.ingest.conftest import event
from tests.replay import rrweb
from tracking.models import Event, Person, PersonDay, PersonDistinctId, PersonTouch, Session

pytestmark = pytest.mark.django_db


def _files(media_root) -> set[str]:
    return {str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()}


def _rows_about(person_id: int, project_id: int) -> dict[str, int]:
    """Every table that can hold something about a person, counted."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM tracking_event WHERE project_id = %s AND person_id = %s",
            [project_id, person_id],
        )
        events = cursor.fetchone()[0]
    return {
        "events": events,
        "sessions": Session.objects.filter(person_id=person_id).count(),
        "recordings": Recording.objects.filter(person_id=person_id).count(),
        "memberships": SegmentMembership.objects.filter(person_id=person_id).count(),
        "distinct ids": PersonDistinctId.objects.filter(person_id=person_id).count(),
        "touches": PersonTouch.objects.filter(person_id=person_id).count(),
        "active days": PersonDay.objects.filter(project_id=project_id, person_id=person_id).count(),
        "persons": Person.objects.filter(pk=person_id).count(),
    }


@pytest.fixture
def erasable(record, send, recorded_project, django_capture_on_commit_callbacks):
    """Dana: identified after browsing anonymously, two recorded sessions, in a segment. Lee: someone else."""
    with django_capture_on_commit_callbacks(execute=True):
        t = rrweb.now_ms()
        first = record(
            "s-dana-1", "anon-dana", events=[[*rrweb.page(t), rrweb.click(t + 10)], [rrweb.click(t + 5000)]]
        )
        send(
            [
                event(
                    "$identify",
                    "dana@example.com",
                    session_id="s-dana-1",
                    **{"$anon_distinct_id": "anon-dana"},
                )
            ]
        )
        second = record("s-dana-2", "dana@example.com")
        # chunks that arrived before any event of their session: linked by nothing but the id
        from replay.services import recording_chunk_ingest

        recording_chunk_ingest(
            project=recorded_project,
            session_key="s-dana-3",
            distinct_id="dana@example.com",
            seq=0,
            events=rrweb.page(t),
        )
        other = record("s-lee", "anon-lee")
    dana = Person.objects.get(distinct_ids__distinct_id="dana@example.com")
    segment = Segment.objects.create(project=recorded_project, name="Everyone", kind="static")
    for person in (dana, other.person):
        SegmentMembership.objects.create(
            project=recorded_project, segment=segment, person=person, entered_at=first.started_at
        )
    first.refresh_from_db()
    assert first.person_id == second.person_id == dana.pk
    return dana, other


def test_deleting_a_person_leaves_nothing_of_them(
    alice_client, recorded_project, erasable, media_root, django_capture_on_commit_callbacks
):
    dana, lee = erasable
    lee_files = {c.storage_path for c in lee.chunks.all()}
    dana_files = {c.storage_path for c in RecordingChunk.objects.exclude(recording=lee)}
    assert len(dana_files) == 4 and dana_files <= _files(media_root)
    assert all(_rows_about(dana.pk, recorded_project.pk).values())

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.delete(f"/api/v1/projects/{recorded_project.pk}/persons/{dana.pk}/")

    assert response.status_code == 204
    assert not any(_rows_about(dana.pk, recorded_project.pk).values()), _rows_about(
        dana.pk, recorded_project.pk
    )
    assert not Recording.objects.filter(session_key__startswith="s-dana").exists()
    assert not Recording.objects.filter(distinct_id__in=["anon-dana", "dana@example.com"]).exists()
    assert not Session.objects.filter(session_key__startswith="s-dana").exists()
    assert not Event.objects.filter(distinct_id__in=["anon-dana", "dana@example.com"]).exists()
    assert _files(media_root) == lee_files  # Dana's files are gone, Lee's are all there
    # Lee is untouched
    assert Recording.objects.get(pk=lee.pk).chunk_count == 1
    assert _rows_about(lee.person_id, recorded_project.pk)["events"] == 1
    assert alice_client.get(f"/api/v1/projects/{recorded_project.pk}/persons/{dana.pk}/").status_code == 404


def test_only_owners_and_admins_may_delete_a_person(amos_client, recorded_project, erasable):
    dana, _ = erasable
    response = amos_client.delete(f"/api/v1/projects/{recorded_project.pk}/persons/{dana.pk}/")
    assert response.status_code == 403
    assert Person.objects.filter(pk=dana.pk).exists()
    assert Recording.objects.filter(person=dana).count() == 3


def test_another_projects_owner_cannot_delete_the_person(
    bob_client, bob_api_key, client, recorded_project, erasable
):
    dana, _ = erasable
    url = f"/api/v1/projects/{recorded_project.pk}/persons/{dana.pk}/"
    assert bob_client.delete(url).status_code == 404
    assert client.delete(url, HTTP_AUTHORIZATION=f"Bearer {bob_api_key}").status_code == 404
    assert Person.objects.filter(pk=dana.pk).exists()


def test_a_person_of_another_project_is_not_found(alice_client, recorded_project, other_project):
    from django.utils import timezone

    theirs = Person.objects.create(project=other_project, first_seen=timezone.now(), last_seen=timezone.now())
    assert (
        alice_client.delete(f"/api/v1/projects/{recorded_project.pk}/persons/{theirs.pk}/").status_code == 404
    )
    assert Person.objects.filter(pk=theirs.pk).exists()


def test_deleting_a_project_deletes_its_recording_files(
    record, recorded_project, media_root, django_capture_on_commit_callbacks
):
    record("s-1", "anon-1")
    record("s-2", "anon-2")
    assert len(list(media_root.rglob("*.json.gz"))) == 2
    with django_capture_on_commit_callbacks(execute=True):
        recorded_project.delete()
    assert not Recording.objects.exists() and not RecordingChunk.objects.exists()
    assert not list(media_root.rglob("*.json.gz"))
