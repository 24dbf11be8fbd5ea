"""Materialising membership: compute, diff against the open periods, write entries and exits.

Each run is one statement: the compiled query feeds a data-modifying CTE that
opens periods for newcomers and closes them for leavers, so member sets never
travel through Python. Runs on the same segment are serialised by an advisory
lock; concurrent runs on different segments proceed in parallel.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from segments.compiler import compile_segment
from segments.models import Segment
from segments.signals import membership_changed
from tracking.dataversion import data_changed

LOCK_NAMESPACE = 7301  # pg_advisory_xact_lock(namespace, segment id)
# where each subject's memberships live: (table, member column)
MEMBERSHIP_TABLES = {
    "person": ("segments_segmentmembership", "person_id"),
    "company": ("segments_companymembership", "company_id"),
}


def membership_table(segment: Segment) -> tuple[str, str]:
    return MEMBERSHIP_TABLES[segment.subject]


@dataclass
class MembershipChange:
    segment_id: int
    # entered and exited are person ids, or company ids when the subject is "company"
    subject: str = "person"
    entered: list[int] = field(default_factory=list)
    exited: list[int] = field(default_factory=list)
    size: int = 0
    elapsed_ms: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.entered or self.exited)


def _tune(cursor) -> None:
    # Hashed subplans (p.id IN (…)) need room; without it PostgreSQL falls back to
    # re-scanning lists per person.
    cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.SEGMENT_WORK_MEM])


def apply_membership(
    segment: Segment, *, now: datetime, person_ids: list[int] | None = None
) -> MembershipChange:
    """Bring the segment's open memberships in line with its definition (for `person_ids`, or everyone).

    A company segment's members are companies: `person_ids` are then company ids.
    """
    started = time.monotonic()
    query = compile_segment(segment, now=now, person_ids=person_ids)
    table, member = membership_table(segment)
    scope, scope_params = "", []
    if person_ids is not None:
        scope, scope_params = f" AND m.{member} = ANY(%s::bigint[])", [person_ids]
    sql = f"""
        WITH matched AS MATERIALIZED ({query.sql}),
        entered AS (
            INSERT INTO {table} (project_id, segment_id, {member}, entered_at)
            SELECT %s, %s, matched.id, %s FROM matched
            WHERE NOT EXISTS (
                SELECT 1 FROM {table} m
                WHERE m.segment_id = %s AND m.{member} = matched.id AND m.exited_at IS NULL)
            RETURNING {member}
        ),
        exited AS (
            UPDATE {table} m SET exited_at = %s
            WHERE m.segment_id = %s AND m.exited_at IS NULL{scope}
              AND NOT EXISTS (SELECT 1 FROM matched WHERE matched.id = m.{member})
            RETURNING {member}
        )
        SELECT true, {member} FROM entered UNION ALL SELECT false, {member} FROM exited
    """  # noqa: S608 - composed from the compiler's constant SQL; every value is a parameter
    params = [
        *query.params,
        segment.project_id, segment.pk, now, segment.pk,
        now, segment.pk, *scope_params,
    ]  # fmt: skip
    change = MembershipChange(segment_id=segment.pk, subject=segment.subject)
    with connection.cursor() as cursor:
        _tune(cursor)
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, segment.pk])
        cursor.execute(sql, params)
        for is_entry, person_id in cursor.fetchall():
            (change.entered if is_entry else change.exited).append(person_id)
        if person_ids is None:
            # relies on membership_open_unique (an index-only count of the open periods)
            cursor.execute(
                f"SELECT count(*) FROM {table} WHERE segment_id = %s AND exited_at IS NULL",  # noqa: S608
                [segment.pk],
            )
            change.size = cursor.fetchone()[0]
            if segment.computed_at is None:
                # A first computation can add many rows at once; without fresh statistics the
                # planner misjudges the next refreshes' anti-join (seconds instead of ms).
                cursor.execute(f"ANALYZE {table}")
        else:
            # Incremental: maintained, not counted, so the cost stays with the touched persons.
            cursor.execute(
                "UPDATE segments_segment SET size = greatest(size + %s - %s, 0) WHERE id = %s RETURNING size",
                [len(change.entered), len(change.exited), segment.pk],
            )
            change.size = cursor.fetchone()[0]
    if change.changed:
        data_changed(segment.project_id)  # analyses of this segment's members cached before are stale
    change.elapsed_ms = int((time.monotonic() - started) * 1000)
    return change


def record_snapshot(segment: Segment, *, now: datetime, size: int) -> None:
    """Upsert today's size snapshot (the day in the project's time zone) with today's entries and exits.

    A day's entries and exits are those in (its start, its end]: an entry at
    midnight, where reconstructed history puts whoever met the definition during
    the day before, belongs to that day (segments.history).
    """
    tz = segment.project.zone
    today = now.astimezone(tz).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    end = start + timedelta(days=1)
    table, _ = membership_table(segment)
    with connection.cursor() as cursor:
        # relies on membership_segment_entered / membership_segment_exited (company_membership_… alike)
        cursor.execute(
            f"""
            INSERT INTO segments_segmentsizesnapshot (project_id, segment_id, date, size, entered, exited)
            SELECT %s, %s, %s, %s,
                (SELECT count(*) FROM {table} WHERE segment_id = %s AND entered_at > %s AND entered_at <= %s),
                (SELECT count(*) FROM {table} WHERE segment_id = %s AND exited_at > %s AND exited_at <= %s)
            ON CONFLICT (segment_id, date) DO UPDATE
            SET size = EXCLUDED.size, entered = EXCLUDED.entered, exited = EXCLUDED.exited
            """,  # noqa: S608 - the table is one of two constants
            [segment.project_id, segment.pk, today, size, segment.pk, start, end, segment.pk, start, end],
        )


def emit_after_commit(changes: list[MembershipChange], *, project_id: int, initial: bool = False) -> None:
    def send() -> None:
        for change in changes:
            if change.changed:
                membership_changed.send(
                    sender=Segment,
                    segment_id=change.segment_id,
                    subject=change.subject,
                    project_id=project_id,
                    entered=change.entered,
                    exited=change.exited,
                    initial=initial,
                )

    transaction.on_commit(send)
