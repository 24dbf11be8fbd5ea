"""The recording part of the `/i/v1/decide` answer: whether to load the recorder, and how it masks.

Registered with `interventions.decide.register("recording", …)` when the app
starts. The snippet sends its session id in the decide body; the sample is
decided per session on the server (replay.sampling), so the recorder bundle is
downloaded only by the sessions that will be recorded.
"""

from __future__ import annotations

from django.templatetags.static import static

from interventions.decide import Visitor
from replay.sampling import session_sampled
from web.text import is_valid_text

RECORDER_BUNDLE = "recorder.js"


def _session_id(visitor: Visitor) -> str | None:
    value = visitor.payload.get("session_id")
    if isinstance(value, str) and value.strip() and len(value) <= 200 and is_valid_text(value):
        return value.strip()
    return None


def recording_decision(visitor: Visitor) -> dict:
    project = visitor.project
    if not project.recording_enabled or (project.respect_dnt and visitor.opted_out):
        return {"enabled": False}
    # Without a session id (an older snippet), the visitor is the unit of the sample.
    unit = _session_id(visitor) or visitor.distinct_id
    if not session_sampled(project_id=project.pk, session_id=unit, rate=project.recording_sample_rate):
        return {"enabled": False}
    return {
        "enabled": True,
        "script": static(RECORDER_BUNDLE),
        "mask_all_inputs": project.recording_mask_inputs,
        "mask_all_text": project.recording_mask_all_text,
    }
