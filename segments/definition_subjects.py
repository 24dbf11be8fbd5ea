"""Validation of the conditions that cross subjects: a company's people, a person's company segment.

A company segment (`"subject": "company"`) takes company traits, aggregates of
its events, other company segments and `people` — how many of the company's
people match a nested person definition. A person segment reaches companies
through `company_segment`: people whose company is in a company segment.
"""

from __future__ import annotations

from segments.models import SegmentSubject


class SubjectConditions:
    """Mixed into the definition validator (segments.definition._Validator, which has
    `fail`, `count_spec`, `segment_reference` and the condition count)."""

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
        segment_id, negate = self.segment_reference(
            node,
            path,
            subject=SegmentSubject.COMPANY,
            wrong_subject=lambda segment_id, _: (
                f"segment {segment_id} is a segment of people, not of companies"
            ),
        )
        return {"type": "company_segment", "segment": segment_id, "negate": negate}
