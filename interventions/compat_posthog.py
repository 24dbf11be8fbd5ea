"""PostHog's flag endpoints, answered by Sightline's segment-targeted flags.

- `POST /flags/?v=2` (posthog-js) and `/flags/?v=4` (posthog-python, posthog-node):
  `{"flags": {key: {"key", "enabled", "variant", "reason", "metadata"}}, …}`.
- `POST /decide/?v=3` (older clients): `{"featureFlags": {key: value}, "featureFlagPayloads": {}}`;
  `/decide/?v=4` answers the `flags` shape as well.

The request is `{"api_key" | "token", "distinct_id", …}`, possibly gzip, base64
or form-encoded like the capture endpoints. Values come from the same evaluation
as `/i/v1/decide` and the REST API's `flags/evaluate`: the person's open segment
memberships against each flag's rules. `person_properties` and `groups` sent by
the client are not used (Sightline targets segments, not properties), and flags
have no payloads, so every payload is null.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse

from interventions import targeting
from interventions.decide import MAX_DECIDE_BYTES, person_id_for
from interventions.models import FeatureFlag
from tracking.ingest.compat.body import read_compat_payload
from tracking.ingest.http import error_response, ingest_endpoint, json_response, project_for_key
from tracking.models import Project
from web.text import is_valid_text


def _distinct_id(payload: dict) -> str | None:
    value = payload.get("distinct_id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > 200
        or "\x00" in value
        or not is_valid_text(value)
    ):
        return None
    return value.strip()


def flag_values(
    *, project: Project, distinct_id: str, company_key: str | None = None
) -> dict[str, bool | str]:
    config = targeting.project_config(project.pk)
    state = targeting.person_state(
        project.pk, person_id_for(project, distinct_id), company_key, companies=config.uses_companies
    )
    return targeting.flags_for(config, state, distinct_id)


def _detailed(project: Project, values: dict[str, bool | str]) -> dict[str, dict]:
    ids = dict(FeatureFlag.objects.filter(project=project, key__in=values).values_list("key", "pk"))
    out = {}
    for index, (key, value) in enumerate(values.items()):
        enabled = value is not False
        out[key] = {
            "key": key,
            "enabled": enabled,
            "variant": value if isinstance(value, str) else None,
            "reason": {
                "code": "condition_match" if enabled else "no_condition_match",
                "condition_index": None,
                "description": "Matched a segment rule" if enabled else "No segment rule matched",
            },
            "metadata": {"id": ids.get(key, index), "version": 1, "payload": None, "description": ""},
        }
    return out


def _read(request: HttpRequest) -> tuple[Project, str, str | None] | HttpResponse:
    """The project, the distinct id, and the company key of posthog-js's `groups` (group type "company")."""
    payload = read_compat_payload(request, max_bytes=MAX_DECIDE_BYTES)
    if not isinstance(payload, dict):
        return error_response(400, "invalid request", 'Send {"api_key", "distinct_id"}.')
    project = project_for_key(payload.get("api_key") or payload.get("token") or request.GET.get("token"))
    if project is None:
        return error_response(
            401, "invalid api_key", "Unknown project key: use the project's public key as the api key."
        )
    distinct_id = _distinct_id(payload)
    if distinct_id is None:
        return error_response(
            400, "invalid distinct_id", "distinct_id must be a non-empty string of at most 200 characters."
        )
    return project, distinct_id, targeting.group_key(payload)


def _version(request: HttpRequest, default: int) -> int:
    value = request.GET.get("v", "")
    return int(value) if value.isdecimal() and len(value) < 3 else default


@ingest_endpoint
def flags(request: HttpRequest) -> HttpResponse:
    read = _read(request)
    if isinstance(read, HttpResponse):
        return read
    project, distinct_id, company_key = read
    values = flag_values(project=project, distinct_id=distinct_id, company_key=company_key)
    return json_response(
        {
            "flags": _detailed(project, values),
            # also the older fields, for clients that read them from any answer
            "featureFlags": values,
            "featureFlagPayloads": {},
            "errorsWhileComputingFlags": False,
            "quotaLimited": [],
            "requestId": str(uuid.uuid4()),
        }
    )


@ingest_endpoint
def decide(request: HttpRequest) -> HttpResponse:
    read = _read(request)
    if isinstance(read, HttpResponse):
        return read
    project, distinct_id, company_key = read
    values = flag_values(project=project, distinct_id=distinct_id, company_key=company_key)
    answer: dict = {
        "featureFlags": values,
        "featureFlagPayloads": {},
        "errorsWhileComputingFlags": False,
        "requestId": str(uuid.uuid4()),
    }
    if _version(request, 3) >= 4:
        answer["flags"] = _detailed(project, values)
    elif _version(request, 3) < 2:  # version 1 listed the keys of the flags that are on
        answer["featureFlags"] = [key for key, value in values.items() if value is not False]
    return json_response(answer)
