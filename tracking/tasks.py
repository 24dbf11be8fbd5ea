"""django-q2 tasks: thin, they take ids and call a service."""

from __future__ import annotations

from tracking.ingest import rollup
from tracking.services.retention import data_expire_all


def person_days_rebuild(project_id: int) -> int:
    return rollup.person_days_rebuild(project_id)


def data_expire() -> int:
    return data_expire_all()
