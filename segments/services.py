"""Writes for segments: create, update, compute, refresh, freeze, upload, models, personas."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django_q.tasks import async_task

from segments.compiler import CompileError, segment_depends
from segments.compiler.companies import people_of
from segments.definition import (
    DefinitionError,
    depends_on_everyone,
    referenced_segments,
    refers_to,
    validate_definition,
)
from segments.membership import (
    MembershipChange,
    apply_membership,
    emit_after_commit,
    membership_table,
    record_snapshot,
)
from segments.models import (
    Persona,
    Segment,
    SegmentKind,
    SegmentMembership,
    SegmentStatus,
    SegmentSubject,
    SegmentVersion,
)
from segments.origins import origin_check
from tracking.models import PersonDistinctId, Project
from web.sql import bounded_fetch


def _definition_or_error(
    definition, *, project: Project, segment_id: int | None = None, subject: str = SegmentSubject.PERSON
) -> dict:
    try:
        return validate_definition(definition, project_id=project.pk, segment_id=segment_id, subject=subject)
    except DefinitionError as error:
        raise ValidationError({error.path: [error.message]}) from None


def version_record(
    segment: Segment, *, change: str, user=None, restored_from: int | None = None
) -> SegmentVersion:
    """Keep the segment's definition as its next version.

    Numbers are taken in turn: the caller has just updated (or inserted) the segment's
    row in its transaction, which holds that row's lock until it commits.
    """
    last = segment.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return SegmentVersion.objects.create(
        project_id=segment.project_id,
        segment=segment,
        number=last + 1,
        definition=segment.definition,
        change=change,
        restored_from=restored_from,
        created_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
    )


def _schedule_compute(segment: Segment) -> None:
    transaction.on_commit(
        lambda: async_task("segments.tasks.compute_segment", segment.pk, task_name=f"segment-{segment.pk}")
    )


def segment_refresh_queue(*, segment: Segment) -> Segment:
    """Recompute in the background: the segment shows as pending until the worker is done."""
    if not segment.is_dynamic:
        raise ValidationError({"segment": ["A static segment's members are fixed."]})
    Segment.objects.filter(pk=segment.pk).update(status=SegmentStatus.PENDING)
    segment.status = SegmentStatus.PENDING
    _schedule_compute(segment)
    return segment


@transaction.atomic
def segment_create(
    *,
    project: Project,
    name: str,
    definition: dict,
    description: str = "",
    kind: str = SegmentKind.DYNAMIC,
    subject: str = SegmentSubject.PERSON,
    created_by=None,
    origin: dict | None = None,
) -> Segment:
    """Save a segment (of people, or of companies) and queue its computation over all history;
    `origin`: the analysis it was made from."""
    if kind != SegmentKind.DYNAMIC:
        raise ValidationError(
            {"kind": ["Static segments are made by freezing a dynamic one or uploading a list."]}
        )
    if subject not in SegmentSubject.values:
        raise ValidationError({"subject": [f"must be one of {', '.join(SegmentSubject.values)}"]})
    segment = Segment(
        project=project,
        name=name,
        description=description,
        kind=kind,
        subject=subject,
        definition=_definition_or_error(definition, project=project, subject=subject),
        origin=None if origin is None else origin_check(origin, project_id=project.pk),
        created_by=created_by,
        status=SegmentStatus.PENDING,
    )
    segment.full_clean()
    segment.save()
    version_record(segment, change=SegmentVersion.Change.CREATED, user=created_by)
    _schedule_compute(segment)
    return segment


@transaction.atomic
def segment_update(
    *,
    segment: Segment,
    changed_by=None,
    change: str = SegmentVersion.Change.EDITED,
    restored_from=None,
    **fields,
) -> Segment:
    """Change a segment; a new definition is kept as a version (by `changed_by`) and recomputed."""
    if "definition" in fields:
        if not segment.is_dynamic:
            raise ValidationError(
                {"definition": ["A static segment's members are fixed; it has no definition."]}
            )
        fields["definition"] = _definition_or_error(
            fields["definition"], project=segment.project, segment_id=segment.pk, subject=segment.subject
        )
    if fields.get("kind", segment.kind) != segment.kind:
        raise ValidationError(
            {"kind": ["A segment's kind cannot change; freeze it into a static copy instead."]}
        )
    if fields.get("subject", segment.subject) != segment.subject:
        raise ValidationError({"subject": ["Whether a segment holds people or companies cannot change."]})
    recompute = "definition" in fields and fields["definition"] != segment.definition
    for key, value in fields.items():
        setattr(segment, key, value)
    if recompute:
        segment.status = SegmentStatus.PENDING
        # the history was the old definition's: rebuilt after the next computation
        segment.history_from = segment.history_built_at = None
    segment.full_clean()
    segment.save()
    if recompute:
        version_record(segment, change=change, user=changed_by, restored_from=restored_from)
        _schedule_compute(segment)
    return segment


def segment_version_restore(*, segment: Segment, number: int, user=None) -> Segment:
    """Make an earlier version's definition the current one again (itself a new version)."""
    version = segment.versions.filter(number=number).first()
    if version is None:
        raise ValidationError({"version": [f"This segment has no version {number}."]})
    if version.definition == segment.definition:
        raise ValidationError({"version": [f"Version {number} is the current definition already."]})
    return segment_update(
        segment=segment,
        definition=version.definition,
        changed_by=user,
        change=SegmentVersion.Change.RESTORED,
        restored_from=number,
    )


def segment_delete(*, segment: Segment) -> None:
    users = [
        s.name
        for s in Segment.objects.filter(project_id=segment.project_id).exclude(pk=segment.pk)
        if segment.pk in referenced_segments(s.definition)
    ]
    if users:
        raise ValidationError({"segment": [f"Used by {', '.join(sorted(users))}; change those first."]})
    segment.delete()


def segment_compute(*, segment: Segment, now=None) -> MembershipChange:
    """Compute a dynamic segment over all history and materialise the difference."""
    now = now or timezone.now()
    initial = segment.computed_at is None
    Segment.objects.filter(pk=segment.pk).update(status=SegmentStatus.COMPUTING, status_detail="")
    try:
        with transaction.atomic():
            change = apply_membership(segment, now=now)
            record_snapshot(segment, now=now, size=change.size)
            Segment.objects.filter(pk=segment.pk).update(
                status=SegmentStatus.READY,
                size=change.size,
                computed_at=now,
                compute_ms=change.elapsed_ms,
                status_detail="",
            )
            changes = [change]
            if segment.is_company and change.changed:
                changes += _refresh_company_dependents(
                    segment, company_ids=[*change.entered, *change.exited], now=now
                )
            emit_after_commit(changes[:1], project_id=segment.project_id, initial=initial)
            emit_after_commit(changes[1:], project_id=segment.project_id)
    except CompileError as error:
        Segment.objects.filter(pk=segment.pk).update(status=SegmentStatus.ERROR, status_detail=str(error))
        raise
    segment.refresh_from_db()
    return change


def segments_refresh_persons(*, project: Project, person_ids: list[int], now=None) -> list[MembershipChange]:
    """Re-evaluate only these persons for every computed dynamic segment of the project (within the caller's transaction).

    Company segments go first, for the companies of these persons; person
    segments then also re-evaluate the people of companies that entered or
    left one, whose `company_segment` conditions may have changed. Segments
    with a rank are left alone: others' events move them too, so the periodic
    pass recomputes them in full (segments.refresh).
    """
    now = now or timezone.now()
    changes = []
    segments = [
        segment
        for segment in Segment.objects.filter(
            project=project, kind=SegmentKind.DYNAMIC, computed_at__isnull=False
        )
        .select_related("project", "model")
        .order_by("pk")
        if not segment_depends(segment, depends_on_everyone)
    ]
    companies = [s for s in segments if s.is_company]
    if companies:
        company_ids = companies_of(project_id=project.pk, person_ids=person_ids)
        moved: set[int] = set()
        for segment in companies:
            change = _refresh(segment, now=now, member_ids=company_ids)
            if change is not None:
                changes.append(change)
                moved.update(change.entered, change.exited)
        if moved:
            person_ids = sorted(set(person_ids) | set(people_of(project.pk, sorted(moved))))
    for segment in segments:
        if segment.is_company:
            continue
        change = _refresh(segment, now=now, member_ids=person_ids)
        if change is not None:
            changes.append(change)
    emit_after_commit(changes, project_id=project.pk)
    return changes


def _refresh_company_dependents(segment: Segment, *, company_ids: list[int], now) -> list[MembershipChange]:
    """Person segments naming this company segment (directly or through other segments),
    re-evaluated for the people of companies that moved."""
    dependents = [
        other
        for other in Segment.objects.filter(
            project_id=segment.project_id, kind=SegmentKind.DYNAMIC, computed_at__isnull=False
        ).select_related("project", "model")
        if not other.is_company
        and other.pk != segment.pk
        and refers_to(other.pk, segment.pk)
        and not segment_depends(other, depends_on_everyone)  # ranks: recomputed in full periodically
    ]
    people = people_of(segment.project_id, company_ids) if dependents else []
    changes = []
    for other in dependents:
        change = _refresh(other, now=now, member_ids=people)
        if change is not None:
            changes.append(change)
    return changes


def companies_of(*, project_id: int, person_ids: list[int]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT company_id FROM tracking_person"
            " WHERE project_id = %s AND id = ANY(%s::bigint[]) AND company_id IS NOT NULL ORDER BY 1",
            [project_id, person_ids],
        )
        return [row[0] for row in cursor.fetchall()]


def _refresh(segment: Segment, *, now, member_ids: list[int]) -> MembershipChange | None:
    try:
        change = apply_membership(segment, now=now, person_ids=member_ids)
    except CompileError as error:
        Segment.objects.filter(pk=segment.pk).update(status=SegmentStatus.ERROR, status_detail=str(error))
        return None
    if change.changed:
        record_snapshot(segment, now=now, size=change.size)
    return change


@transaction.atomic
def segment_freeze(*, segment: Segment, name: str, created_by=None) -> Segment:
    """A static copy of a segment's current members."""
    now = timezone.now()
    frozen = Segment.objects.create(
        project=segment.project,
        name=name,
        description=f"Members of “{segment.name}” on {now:%Y-%m-%d %H:%M} UTC.",
        kind=SegmentKind.STATIC,
        subject=segment.subject,
        frozen_from=segment,
        status=SegmentStatus.READY,
        computed_at=now,
        created_by=created_by,
    )
    table, member = membership_table(segment)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (project_id, segment_id, {member}, entered_at)"  # noqa: S608 - constants
            f" SELECT project_id, %s, {member}, %s FROM {table}"
            " WHERE segment_id = %s AND exited_at IS NULL",
            [frozen.pk, now, segment.pk],
        )
        cursor.execute(f"SELECT count(*) FROM {table} WHERE segment_id = %s", [frozen.pk])  # noqa: S608
        frozen.size = cursor.fetchone()[0]
    frozen.save(update_fields=["size"])
    record_snapshot(frozen, now=now, size=frozen.size)
    return frozen


@transaction.atomic
def segment_from_people(
    *,
    project: Project,
    name: str,
    people: tuple[str, list],
    origin: dict,
    description: str = "",
    created_by=None,
    timeout_ms: int,
    work_mem: str,
) -> Segment:
    """A static segment of exactly the persons `people` selects (`SELECT person_id …`), with its origin.

    The ids go from the query into the membership table in one INSERT … SELECT,
    never through Python, so a million people cost one statement. Only persons of
    this project are taken, whatever the query returns; repeats count once. The
    statement runs under `timeout_ms` (web.sql.QueryTimedOut when cancelled).
    """
    now = timezone.now()
    segment = Segment(
        project=project,
        name=(name or "").strip(),
        description=description,
        kind=SegmentKind.STATIC,
        origin=origin_check(origin, project_id=project.pk),
        status=SegmentStatus.READY,
        computed_at=now,
        created_by=created_by,
    )
    segment.full_clean()
    segment.save()
    sql, params = people
    # the persons are probed through their primary key; the semi-join drops repeats
    ((size,),) = bounded_fetch(
        "WITH added AS (INSERT INTO segments_segmentmembership (project_id, segment_id, person_id, entered_at)"  # noqa: S608 - the caller's SQL with its %s parameters
        f" SELECT p.project_id, %s, p.id, %s FROM tracking_person p WHERE p.project_id = %s"
        f" AND p.id IN (SELECT person_id FROM ({sql}) people) RETURNING 1)"
        " SELECT count(*) FROM added",
        [segment.pk, now, project.pk, *params],
        timeout_ms=timeout_ms,
        work_mem=work_mem,
    )
    segment.size = size
    segment.save(update_fields=["size"])
    record_snapshot(segment, now=now, size=size)
    return segment


@dataclass
class UploadResult:
    segment: Segment
    matched: int
    unmatched: list[str]


MAX_UPLOAD_ROWS = 100_000


def parse_identifier_csv(data: bytes) -> list[str]:
    """Distinct ids or e-mails, one per line (the first column of a CSV; a header row is skipped)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            {"file": ["The file must be UTF-8 text (a CSV of distinct ids or e-mails)."]}
        ) from None
    if "\x00" in text:
        raise ValidationError({"file": ["The file contains a NUL character: is it really a CSV?"]})
    values: list[str] = []
    for index, row in enumerate(csv.reader(io.StringIO(text))):
        if not row or not row[0].strip():
            continue
        value = row[0].strip()
        if index == 0 and value.lower() in {"distinct_id", "email", "id", "e-mail", "user_id"}:
            continue
        values.append(value[:200])
        if len(values) > MAX_UPLOAD_ROWS:
            raise ValidationError({"file": [f"At most {MAX_UPLOAD_ROWS:,} rows per upload."]})
    if not values:
        raise ValidationError({"file": ["The file has no distinct ids or e-mails."]})
    return values


@transaction.atomic
def segment_upload(
    *, project: Project, name: str, identifiers: list[str], description: str = "", created_by=None
) -> UploadResult:
    """A static segment from a list of distinct ids or e-mail addresses."""
    now = timezone.now()
    wanted = list(dict.fromkeys(identifiers))
    by_distinct_id = dict(
        PersonDistinctId.objects.filter(project=project, distinct_id__in=wanted).values_list(
            "distinct_id", "person_id"
        )
    )
    emails = [w for w in wanted if w not in by_distinct_id and "@" in w]
    by_email: dict[str, int] = {}
    if emails:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT lower(properties ->> 'email'), id FROM tracking_person"
                " WHERE project_id = %s AND lower(properties ->> 'email') = ANY(%s)",
                [project.pk, [e.lower() for e in emails]],
            )
            by_email = dict(cursor.fetchall())
    person_ids: set[int] = set()
    unmatched: list[str] = []
    for value in wanted:
        pid = by_distinct_id.get(value) or by_email.get(value.lower())
        if pid:
            person_ids.add(pid)
        else:
            unmatched.append(value)
    segment = Segment.objects.create(
        project=project,
        name=name,
        description=description,
        kind=SegmentKind.STATIC,
        status=SegmentStatus.READY,
        computed_at=now,
        size=len(person_ids),
        created_by=created_by,
    )
    SegmentMembership.objects.bulk_create(
        SegmentMembership(project=project, segment=segment, person_id=pid, entered_at=now)
        for pid in sorted(person_ids)
    )
    record_snapshot(segment, now=now, size=segment.size)
    return UploadResult(segment=segment, matched=len(person_ids), unmatched=unmatched)


def persona_save(*, project: Project, persona: Persona | None = None, **fields) -> Persona:
    persona = persona or Persona(project=project)
    segment = fields.get("segment")
    if segment is not None and segment.project_id != project.pk:
        raise ValidationError({"segment": ["Choose a segment of this project."]})
    for key, value in fields.items():
        setattr(persona, key, value)
    persona.full_clean()
    persona.save()
    return persona


def persona_delete(*, persona: Persona) -> None:
    persona.delete()


def segmentation_model_delete(*, model) -> None:
    """Delete a model and its groups, unless another segment refers to one of them."""

    group_ids = set(model.groups.values_list("pk", flat=True))
    users = [
        s.name
        for s in Segment.objects.filter(project_id=model.project_id).exclude(pk__in=group_ids)
        if group_ids & set(referenced_segments(s.definition))
    ]
    if users:
        raise ValidationError(
            {"model": [f"Segments {', '.join(sorted(users))} use its groups; change those first."]}
        )
    model.delete()
