"""`POST /i/v1/batch` — see docs/wire-protocol.md."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from tracking.ingest.accept import batch_accept
from tracking.ingest.body import read_json
from tracking.ingest.http import error_response, ingest_endpoint, json_response, project_for_key


@ingest_endpoint
def batch(request: HttpRequest) -> HttpResponse:
    payload = read_json(request)
    if not isinstance(payload, dict):
        return error_response(400, "invalid batch", "The body must be a JSON object with api_key and batch.")
    project = project_for_key(payload.get("api_key"))
    if project is None:
        return error_response(
            401, "invalid api_key", "Unknown project key; copy it from the project's settings."
        )
    events = payload.get("batch")
    if not isinstance(events, list):
        return error_response(400, "invalid batch", "batch must be a list of events.")
    outcome = batch_accept(request=request, project=project, events=events, sent_at=payload.get("sent_at"))
    if not outcome.ok:
        return error_response(outcome.status, outcome.error, outcome.detail, outcome.headers)
    return json_response(outcome.answer())
