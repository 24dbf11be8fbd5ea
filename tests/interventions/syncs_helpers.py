"""What the sync tests share: a segment whose membership rows the test writes, a receiver, storage in a temp dir."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connection
from django.utils import timezone

from segments.models import Segment, SegmentKind, SegmentMembership, SegmentStatus
from tests.bulk import foreign_key_checks_unqueued
from tracking.dataversion import data_changed
from tracking.models import Person, PersonDistinctId, Project


class Receiver:
    """A local HTTP server answering the statuses it is told to (then 200), recording every body."""

    def __init__(self, statuses: list[int] | None = None, delay: float = 0.0):
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                time.sleep(delay)
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sync"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def people(project: Project, count: int, *, prefix: str = "p") -> list[Person]:
    made, now = [], timezone.now()
    for i in range(count):
        person = Person.objects.create(
            project=project, properties={"email": f"{prefix}{i}@x.io"}, first_seen=now, last_seen=now
        )
        PersonDistinctId.objects.create(project=project, person=person, distinct_id=f"{prefix}-{i}")
        made.append(person)
    return made


def static_segment(project: Project, name: str = "Watched") -> Segment:
    return Segment.objects.create(
        project=project, name=name, kind=SegmentKind.STATIC, status=SegmentStatus.READY,
        computed_at=timezone.now(),
    )  # fmt: skip


def enter(segment: Segment, persons: list[Person], *, at: datetime | None = None) -> None:
    """Open periods for `persons`, as a computation would, and move the project's data version."""
    at = at or timezone.now()
    SegmentMembership.objects.bulk_create(
        SegmentMembership(project_id=segment.project_id, segment=segment, person=p, entered_at=at)
        for p in persons
    )
    data_changed(segment.project_id)


def leave(segment: Segment, persons: list[Person], *, at: datetime | None = None) -> None:
    at = at or timezone.now()
    SegmentMembership.objects.filter(segment=segment, person__in=persons, exited_at__isnull=True).update(
        exited_at=at
    )
    data_changed(segment.project_id)


def members_in_bulk(project: Project, segment: Segment, count: int) -> None:
    """`count` persons and their open periods, written in bulk as a computation would leave them."""
    with connection.cursor() as cursor, foreign_key_checks_unqueued(cursor):
        cursor.execute(
            "INSERT INTO tracking_person (project_id, properties, is_identified, first_seen, last_seen, created_at)"
            " SELECT %s, jsonb_build_object('email', 'p' || g || '@x.io'), true, now(), now(), now()"
            " FROM generate_series(1, %s) g",
            [project.pk, count],
        )
        cursor.execute(
            "INSERT INTO segments_segmentmembership (project_id, segment_id, person_id, entered_at)"
            " SELECT %s, %s, id, now() FROM tracking_person WHERE project_id = %s",
            [project.pk, segment.pk, project.pk],
        )
