"""Reads for segments: lists, members and memberships, for the segment pages and for other apps.

Other apps ask who is in a segment through these functions (or the SQL fragments
they return), never by reading the membership table themselves. The rest of the
segment reads live beside this module: `sizes` (preview, size trends), `breakdowns`
(who the members are) and `discovery` (what the builder suggests).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from segments.models import CompanyMembership, Segment, SegmentMembership
from tracking.models import Project
from tracking.traffic.filtering import TrafficFilter, excluded_persons_sql


def segment_list(*, project: Project) -> QuerySet[Segment]:
    return (
        Segment.objects.filter(project=project).select_related("model", "frozen_from").order_by("name", "pk")
    )


def segment_get(*, project: Project, segment_id: int) -> Segment:
    """The segment if it belongs to the project; raises Segment.DoesNotExist (-> 404) otherwise."""
    return Segment.objects.select_related("project", "model").get(project=project, pk=segment_id)


def member_list(*, segment: Segment) -> QuerySet[SegmentMembership]:
    # relies on membership_open_unique (segment_id, person_id) WHERE exited_at IS NULL
    return (
        SegmentMembership.objects.filter(segment=segment, exited_at__isnull=True)
        .select_related("person", "person__company")
        .prefetch_related("person__distinct_ids")
        .order_by("person_id")
    )


def company_member_list(*, segment: Segment) -> QuerySet[CompanyMembership]:
    """A company segment's current members (relies on company_membership_open_unique)."""
    return (
        CompanyMembership.objects.filter(segment=segment, exited_at__isnull=True)
        .select_related("company")
        .order_by("company_id")
    )


def member_people_sql(*, segment: Segment) -> tuple[str, list]:
    """`SELECT person_id` of the people a segment stands for in analyses: its current members,
    or, for a company segment, the current people of its current companies.

    Relies on membership_open_unique, or company_membership_open_unique and the
    person company foreign key's index.
    """
    if segment.is_company:
        return (
            "SELECT p.id AS person_id FROM tracking_person p WHERE p.project_id = %s AND p.company_id IN"
            " (SELECT m.company_id FROM segments_companymembership m WHERE m.segment_id = %s AND m.exited_at IS NULL)",
            [segment.project_id, segment.pk],
        )
    sql, params = member_list(segment=segment).order_by().values("person_id").query.sql_with_params()
    return sql, list(params)


def company_segments_of(*, project_id: int, company_id: int) -> dict[int, datetime]:
    """Open company segment memberships: segment id -> entered_at (relies on company_membership_open)."""
    rows = CompanyMembership.objects.filter(
        project_id=project_id, company_id=company_id, exited_at__isnull=True
    ).values_list("segment_id", "entered_at")
    return dict(rows)


def person_segment_list(*, project: Project, person_id: int) -> QuerySet[SegmentMembership]:
    """A person's current memberships (relies on membership_person_open)."""
    return (
        SegmentMembership.objects.filter(project=project, person_id=person_id, exited_at__isnull=True)
        .select_related("segment")
        .order_by("segment__name")
    )


def excluded_member_counts(*, project: Project, segments: list[Segment]) -> dict[int, int]:
    """Current members per segment whom counts leave out by default: bots and internal users.

    Membership keeps them (a nudge can still be tried on a teammate); the sizes
    the pages show subtract them. Driven by the excluded persons, a small set,
    through membership_person_open (project_id, person_id) WHERE exited_at IS NULL.
    """
    excluded = excluded_persons_sql(project=project, traffic=TrafficFilter())
    if excluded is None or not segments:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.segment_id, count(*) FROM segments_segmentmembership m"  # noqa: S608 - constant SQL, values as %s parameters
            f" WHERE m.project_id = %s AND m.exited_at IS NULL AND m.person_id IN ({excluded[0]})"
            " AND m.segment_id = ANY(%s) GROUP BY m.segment_id",
            [project.pk, *excluded[1], [s.pk for s in segments]],
        )
        return dict(cursor.fetchall())


def segments_counted(*, project: Project, segments: list[Segment]) -> list[Segment]:
    """The segments with `counted_size` (what pages show) and `excluded_members` set."""
    excluded = excluded_member_counts(project=project, segments=segments)
    for segment in segments:
        segment.excluded_members = excluded.get(segment.pk, 0)
        segment.counted_size = max(segment.size - segment.excluded_members, 0)
    return segments


# -- membership, for other apps ------------------------------------------------------------------


def current_member(*, segment_id: int, person: OuterRef | int | None = None) -> Exists:
    """An expression that is true for a person who is in the segment now.

    `person` defaults to the outer query's `person_id`, as in
    `Recording.objects.filter(current_member(segment_id=…))`.
    """
    person = OuterRef("person_id") if person is None else person
    # relies on membership_open_unique (segment_id, person_id) WHERE exited_at IS NULL
    return Exists(
        SegmentMembership.objects.filter(segment_id=segment_id, person_id=person, exited_at__isnull=True)
    )


def open_segments_of(*, project_id: int, person_id: int) -> dict[int, datetime]:
    """The segments a person is in now, each with when they entered (decide's hot path: one probe)."""
    with connection.cursor() as cursor:
        # relies on membership_person_open (project_id, person_id) WHERE exited_at IS NULL
        cursor.execute(
            "SELECT segment_id, entered_at FROM segments_segmentmembership"
            " WHERE project_id = %s AND person_id = %s AND exited_at IS NULL",
            [project_id, person_id],
        )
        return dict(cursor.fetchall())


def open_members_sql(*, segment_id: int) -> tuple[str, list]:
    """`SELECT person_id, entered_at` of a person segment's members now, one row each.

    A caller's filters on `person_id` outside it (a range, an anti-join) reach the
    index: PostgreSQL flattens the subquery, and membership_open_unique
    (segment_id, person_id WHERE exited_at IS NULL) serves it in person id order.
    """
    return (
        "SELECT person_id, entered_at FROM segments_segmentmembership WHERE segment_id = %s AND exited_at IS NULL",
        [segment_id],
    )


def last_exit_sql(*, segment_id: int, person: str) -> tuple[str, list]:
    """A scalar subquery: when the person (column `person`, written by the caller) last left the segment."""
    # relies on the membership's person index
    return (
        f"(SELECT max(m.exited_at) FROM segments_segmentmembership m WHERE m.person_id = {person} AND m.segment_id = %s)",  # noqa: S608 - a column name from the caller's code
        [segment_id],
    )


def member_at_sql(*, segment_id: int, person: str, at: str) -> tuple[str, list]:
    """A SQL condition: the person (column `person`) was in the segment at the instant (column `at`).

    `person` and `at` are column references written by the caller, never input.
    The segment's reconstructed history (segments.history) answers for any
    instant it covers, to the day: membership at the last day boundary, or the
    live periods since. Instants before the history's first day (or any, for a
    segment without one: not rebuilt yet, or a fixed list) count the segment's
    first members, the best guess for events that arrived after the rebuild.
    """
    # relies on the segment_id index of the membership's foreign key, then the person's rows in it
    condition = f"""EXISTS (SELECT 1 FROM segments_segmentmembership m
          WHERE m.segment_id = %s AND m.person_id = {person}
            AND ((m.entered_at <= {at} AND (m.exited_at IS NULL OR m.exited_at > {at}))
                 OR (m.entered_at > {at} AND m.entered_at = (
                     SELECT min(f.entered_at) FROM segments_segmentmembership f WHERE f.segment_id = %s)
                     AND NOT EXISTS (SELECT 1 FROM segments_segment s JOIN tracking_project pr ON pr.id = s.project_id
                         WHERE s.id = %s AND {at} >= (s.history_from::timestamp AT TIME ZONE pr.timezone)))))"""  # noqa: S608 - column names from the caller's code
    return condition, [segment_id, segment_id, segment_id]
