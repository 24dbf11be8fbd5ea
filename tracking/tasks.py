"""django-q2 tasks: thin, they take ids and call a service."""

from __future__ import annotations


def person_days_rebuild(project_id: int) -> int:
    from tracking.ingest.rollup import person_days_rebuild as rebuild

    return rebuild(project_id)


def data_expire() -> int:
    from tracking.services.retention import data_expire_all

    return data_expire_all()
