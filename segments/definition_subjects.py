"""Validation of the conditions that cross subjects: a company's people, a person's company segment.

A company segment (`"subject": "company"`) takes company traits, aggregates of
its events, other company segments and `people` — how many of the company's
people match a nested person definition. A person segment reaches companies
through `company_segment`: people whose company is in a company segment.
"""

from __future__ import annotations

from segments.models import Segment, SegmentSubject


class SubjectConditions:
    """Mixed into the definition validator (segments.definition._Validator, which has
    `fail`, `count_spec` and the condition count)."""

    subject: str
    project_id: int | None
    segment_id: int | None
    count: int

    def c_people(self, node: dict, path: str) -> dict:
        from segments.definition import _Validator

        inner = _Validator(project_id=self.project_id, segment_id=self.segment_id, subject="person")
        inner.count = self.count
        definition = inner.group(node.get("definition"), f"{path}.definition", 1)
        self.count = inner.count
        return {
            "type": "people",
            "definition": definition,
            "count": self.count_spec(node.get("count", {"operator": "gte", "value": 1}), f"{path}.count"),
        }

    def c_company_segment(self, node: dict, path: str) -> dict:
        segment_id = node.get("segment")
        if isinstance(segment_id, bool) or not isinstance(segment_id, int):
            self.fail(f"{path}.segment", "must be a segment id")
        negate = node.get("negate", False)
        if not isinstance(negate, bool):
            self.fail(f"{path}.negate", "must be true or false")
        if self.project_id is not None:
            subject = (
                Segment.objects.filter(pk=segment_id, project_id=self.project_id)
                .values_list("subject", flat=True)
                .first()
            )
            if subject is None:
                self.fail(f"{path}.segment", f"no segment {segment_id} in this project")
            if subject != SegmentSubject.COMPANY:
                self.fail(f"{path}.segment", f"segment {segment_id} is a segment of people, not of companies")
            if self.segment_id is not None and refers(segment_id, self.segment_id):
                self.fail(
                    f"{path}.segment", "a segment cannot include itself, directly or through another segment"
                )
        return {"type": "company_segment", "segment": segment_id, "negate": negate}


def refers(segment_id: int, target_id: int) -> bool:
    from segments.definition import refers_to

    return refers_to(segment_id, target_id)
