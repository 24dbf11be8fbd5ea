"""Recording chunks in the ingest queue: their encoding, and the drain handler that stores them.

`/i/v1/recording` checks a chunk and appends it (tracking.ingest.queue); the
drain hands this module's handler the project's queued chunks in arrival order.
What needs the database or storage is decided here: a chunk past the
recording's size limit or not storable is dead-lettered; storage being away
keeps the chunk queued.
"""

from __future__ import annotations

import json
from datetime import timedelta

import orjson

from replay.blobs import StorageUnavailable
from replay.services import RecordingFull, UnstorableEvents, recording_chunk_ingest
from tracking.ingest.drain import DrainLater
from tracking.ingest.queue import QueuedItem
from tracking.models import IngestRejection, Project

KIND_RECORDING = "recording"
_PAYLOAD_KEEP = 2000


def recording_encode(*, session_id: str, distinct_id: str, seq: int, events: list, skew: timedelta) -> bytes:
    """The queue payload of one checked chunk; UnstorableEvents when its events cannot be written as JSON."""
    document = {
        "s": session_id,
        "d": distinct_id,
        "q": seq,
        "k": skew // timedelta(microseconds=1),
        "e": events,
    }
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:
        pass
    # orjson stops at 255 levels of nesting and at 64-bit integers; a deep DOM can
    # go past the first, a forged body past the second.
    try:
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, TypeError, RecursionError) as error:
        raise UnstorableEvents(str(error)[:200]) from None


def _decode(payload: bytes) -> dict:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return json.loads(payload)


def _dead_letter(project: Project, item: QueuedItem, reason: str) -> None:
    IngestRejection.objects.create(
        project=project,
        endpoint=KIND_RECORDING,
        reason=reason[:500],
        payload=item.payload[:_PAYLOAD_KEEP].decode("utf-8", "replace").replace("\x00", ""),
    )


def recordings_store(project: Project, items: list[QueuedItem]) -> None:
    """Drain handler for "recording" items: each chunk stored as `recording_chunk_ingest` does."""
    for item in items:
        chunk = _decode(item.payload)
        try:
            recording_chunk_ingest(
                project=project,
                session_key=chunk["s"],
                distinct_id=chunk["d"],
                seq=chunk["q"],
                events=chunk["e"],
                skew=timedelta(microseconds=chunk["k"]),
            )
        except RecordingFull:
            _dead_letter(
                project, item, "recording too large: this session's recording reached its size limit"
            )
        except UnstorableEvents as problem:
            _dead_letter(project, item, f"invalid events: {problem}")
        except StorageUnavailable as problem:
            raise DrainLater(str(problem)) from None
