"""Saving a part of an analysis as a static segment, as a background job.

Copying a large part (a million people) is one INSERT … SELECT, but one that may
run longer than a request should: like the analyses themselves, it runs as a job
(the jobs app) that the page waits on briefly and then shows as progress. Each
save is its own job (a fresh key), never a cached answer: saving twice makes two
segments. Dynamic segments are saved at once (their computation is the
segment's own background task).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.template.loader import render_to_string

from analysis import services
from analysis.params import ParamError
from analysis.reads import AnalysisTimeout
from jobs.kinds import JobKind, register
from jobs.services import Answer, job_request
from segments.models import Segment
from tracking.models import Project, User

KIND = "analysis_segment"


class NotSaved(Exception):
    """The part no longer holds (a segment or action it names was deleted meanwhile)."""


def segment_save_request(
    *,
    project: Project,
    kind: str,
    params: dict,
    part: dict,
    name: str,
    user: User | None = None,
    wait: float = 0.0,
) -> Answer:
    """Queue the copy of a checked part's people into a new static segment; the answer is `{"segment": id, …}`."""
    job_params = {
        "source": kind,
        "params": params,
        "part": part,
        "name": name,
        "user": user.pk if user is not None and user.is_authenticated else None,
    }
    return job_request(
        project=project,
        kind=KIND,
        params=job_params,
        key_material={**job_params, "save": uuid.uuid4().hex},
        user=user,
        wait=wait,
    )


def saved_segment(*, project: Project, answer: Answer) -> Segment:
    """The segment a finished save made (the job's result: the segment itself when run here, else its JSON)."""
    result = answer.result()
    segment_id = result.pk if isinstance(result, Segment) else result["segment"]
    return Segment.objects.get(project=project, pk=segment_id)


def _run(project: Project, params: dict) -> Segment:
    user = User.objects.filter(pk=params["user"]).first() if params.get("user") else None
    try:
        return services.analysis_segment_copy(
            project=project,
            kind=params["source"],
            params=params["params"],
            part=params["part"],
            name=params["name"],
            created_by=user,
        )
    except ValidationError as error:
        problems = "; ".join(f"{field}: {' '.join(m)}" for field, m in error.message_dict.items())
        raise NotSaved(f"The analysis no longer allows this: {problems}") from None


def _to_json(segment: Segment) -> dict:
    return {"segment": segment.pk, "name": segment.name, "kind": segment.kind, "size": segment.size}


def _render(request: HttpRequest, project: Project, params: dict, result: Any, view: str) -> str:
    saved = _to_json(result) if isinstance(result, Segment) else result
    return render_to_string(
        "analysis/segment_new.html#saved", {"project": project, "saved": saved}, request=request
    )


def register_kinds() -> None:
    register(
        JobKind(
            name=KIND,
            label="Segment copy",
            run=_run,
            to_json=_to_json,
            reported=(NotSaved, ParamError, AnalysisTimeout),
            render=_render,
            timeout_seconds=lambda: settings.ANALYSIS_JOB_TIMEOUT_SECONDS,
            timeout_hint="save a smaller part, or allow more time (ANALYSIS_JOB_TIMEOUT_SECONDS)",
        )
    )
