"""A segment's versions read as a diff, and what saving a new definition would change.

Versions are compared in words (`segments.describe`): one line per condition or
group heading, indented by depth, so a diff says "added: did “purchase” in the
last 30 days" rather than showing JSON. `change_preview` compares the people a
new definition selects now with the segment's current members, under the
preview's statement timeout.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.db import DatabaseError
from django.utils import timezone

from segments.compiler import CompileError, compile_definition
from segments.describe import Described, describe
from segments.membership import membership_table
from segments.models import Segment, SegmentVersion
from segments.selectors.history import persons_by_id
from segments.selectors.sizes import PREVIEW_TIMEOUT_MS, Preview, TimedOut, bounded_read, definition_check
from tracking.models import Company, Person, Project

SAMPLE = 10


def _lines(node: Described, depth: int = 0) -> list[str]:
    lines = [("  " * depth) + (f"{node.text}:" if node.is_group else node.text)]
    for child in node.children:
        lines += _lines(child, depth + 1)
    return lines


@dataclass
class DiffLine:
    op: str  # "same", "added", "removed"
    text: str


def definition_diff(old: dict | None, new: dict, project: Project) -> list[DiffLine]:
    """The new definition's lines against the old one's, in words (the first version: all added)."""
    before = _lines(describe(old, project)) if old is not None else []
    after = _lines(describe(new, project))
    out: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag == "equal":
            out += [DiffLine("same", line) for line in after[j1:j2]]
            continue
        out += [DiffLine("removed", line) for line in before[i1:i2]]
        out += [DiffLine("added", line) for line in after[j1:j2]]
    return out


@dataclass
class VersionView:
    version: SegmentVersion
    diff: list[DiffLine]
    is_current: bool

    @property
    def changed(self) -> bool:
        return any(line.op != "same" for line in self.diff)


def versions_of(segment: Segment) -> list[VersionView]:
    """Newest first, each with its diff against the version before it."""
    versions = list(segment.versions.select_related("created_by").order_by("number"))
    views, previous = [], None
    for version in versions:
        views.append(
            VersionView(
                version=version,
                diff=definition_diff(previous, version.definition, segment.project),
                is_current=version.definition == segment.definition and version is versions[-1],
            )
        )
        previous = version.definition
    return list(reversed(views))


@dataclass
class ChangePreview:
    """Who a new definition would take in and let go, against the segment's current members."""

    entering: int = 0
    leaving: int = 0
    staying: int = 0
    # people, or companies for a company segment
    sample_entering: list[Person | Company] = field(default_factory=list)
    sample_leaving: list[Person | Company] = field(default_factory=list)
    error: str = ""
    error_path: str = ""
    timed_out: bool = False
    subject: str = "person"

    def as_json(self) -> dict:
        def people(members: list[Person | Company]) -> list[dict]:
            return [
                {"id": m.pk, "name": m.display_name if isinstance(m, Person) else str(m)} for m in members
            ]

        return {
            "entering": self.entering,
            "leaving": self.leaving,
            "staying": self.staying,
            "sample_entering": people(self.sample_entering),
            "sample_leaving": people(self.sample_leaving),
        }


def change_preview(
    *, segment: Segment, definition: object, timeout_ms: int = PREVIEW_TIMEOUT_MS
) -> ChangePreview:
    """Compare what `definition` selects now with the open memberships (membership_open_unique, or
    company_membership_open_unique: a company segment's entering and leaving are companies)."""
    project = segment.project
    subject = segment.subject
    normalised = definition_check(
        project=project, definition=definition, segment_id=segment.pk, subject=subject
    )
    if isinstance(normalised, Preview):
        return ChangePreview(error=normalised.error, error_path=normalised.error_path, subject=subject)
    try:
        query = compile_definition(
            normalised, project=project, now=timezone.now(), segment_id=segment.pk, subject=subject
        )
    except CompileError as error:
        return ChangePreview(error=str(error), subject=subject)
    table, member = membership_table(segment)
    current = f"SELECT m.{member} AS person_id FROM {table} m WHERE m.segment_id = %s AND m.exited_at IS NULL"  # noqa: S608 - one of two constant tables
    sql = f"""
        WITH matched AS MATERIALIZED ({query.sql}), current AS MATERIALIZED ({current})
        SELECT
            (SELECT count(*) FROM matched WHERE NOT EXISTS (SELECT 1 FROM current c WHERE c.person_id = matched.id)),
            (SELECT count(*) FROM current c WHERE NOT EXISTS (SELECT 1 FROM matched WHERE matched.id = c.person_id)),
            (SELECT count(*) FROM matched WHERE EXISTS (SELECT 1 FROM current c WHERE c.person_id = matched.id)),
            ARRAY(SELECT id FROM matched WHERE NOT EXISTS (SELECT 1 FROM current c WHERE c.person_id = matched.id)
                  ORDER BY id LIMIT {SAMPLE}),
            ARRAY(SELECT c.person_id FROM current c WHERE NOT EXISTS (SELECT 1 FROM matched WHERE matched.id = c.person_id)
                  ORDER BY c.person_id LIMIT {SAMPLE})
    """  # noqa: S608 - the compiler's constant SQL; values are parameters
    try:
        [(entering, leaving, staying, sample_in, sample_out)] = bounded_read(
            sql, [*query.params, segment.pk], timeout_ms=timeout_ms
        )
    except TimedOut:
        return ChangePreview(timed_out=True, subject=subject)
    except DatabaseError as error:
        return ChangePreview(
            error=f"the database could not evaluate it: {str(error).splitlines()[0]}", subject=subject
        )
    return ChangePreview(
        entering=entering,
        leaving=leaving,
        staying=staying,
        sample_entering=_members(segment, list(sample_in)),
        sample_leaving=_members(segment, list(sample_out)),
        subject=subject,
    )


def _members(segment: Segment, ids: list[int]) -> list[Person | Company]:
    """The sampled members in the order of `ids`: persons, or companies."""
    if not segment.is_company:
        return persons_by_id(project_id=segment.project_id, person_ids=ids)
    found = {c.pk: c for c in Company.objects.filter(project_id=segment.project_id, pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]
