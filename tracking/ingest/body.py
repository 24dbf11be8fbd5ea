"""Reading ingestion request bodies: size limits, streaming gzip, JSON.

Shared by every `/i/v1/` endpoint. Decompression is streamed with a cap, so a
gzip bomb is cut off after `max_decompressed + 1` bytes of output and answered
413 without ever holding the expanded body in memory.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.http import HttpRequest

CHUNK = 64 * 1024


@dataclass
class BodyError(Exception):
    status: int
    error: str
    detail: str = ""


def _is_gzip(request: HttpRequest) -> bool:
    encoding = request.headers.get("Content-Encoding", "").lower()
    return "gzip" in encoding or request.GET.get("compression") in ("gzip", "gzip-js")


def read_raw(request: HttpRequest, *, max_bytes: int | None = None) -> bytes:
    """The request body as sent, refusing anything over the compressed limit."""
    limit = max_bytes or settings.INGEST_MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH")
    if declared:
        try:
            if int(declared) > limit:
                raise BodyError(413, "payload too large", f"The body exceeds {limit} bytes.")
        except ValueError:
            raise BodyError(400, "invalid Content-Length") from None
    data = request.read(limit + 1)
    if len(data) > limit:
        raise BodyError(413, "payload too large", f"The body exceeds {limit} bytes.")
    return data


def decompress(data: bytes, *, max_bytes: int | None = None) -> bytes:
    limit = max_bytes or settings.INGEST_MAX_DECOMPRESSED_BYTES
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    try:
        pending = data
        while pending:
            out += inflater.decompress(pending, limit + 1 - len(out))
            if len(out) > limit:
                raise BodyError(413, "payload too large", f"The decompressed body exceeds {limit} bytes.")
            pending = inflater.unconsumed_tail
        out += inflater.flush()
    except zlib.error as error:
        raise BodyError(400, "invalid gzip body", str(error)) from None
    if len(out) > limit:
        raise BodyError(413, "payload too large", f"The decompressed body exceeds {limit} bytes.")
    return bytes(out)


def read_json(request: HttpRequest, *, max_bytes: int | None = None) -> object:
    """Read, decompress (when gzip) and parse a JSON body, or raise BodyError."""
    data = read_raw(request, max_bytes=max_bytes)
    if _is_gzip(request) or data[:2] == b"\x1f\x8b":
        data = decompress(data)
    elif len(data) > settings.INGEST_MAX_DECOMPRESSED_BYTES:
        raise BodyError(413, "payload too large", "The body exceeds the size limit.")
    return parse_json(data, empty="Send a JSON object.")


def parse_json(data: bytes, *, empty: str) -> object:
    """Parse a decompressed JSON body, or raise BodyError (`empty` says what to send instead)."""
    if not data.strip():
        raise BodyError(400, "empty body", empty)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        first_error = str(error)[:200]
    # orjson refuses a whole body for one lone surrogate escape or one invalid
    # UTF-8 byte; the standard parser accepts both (bad bytes become U+FFFD), so
    # only the event carrying them is rejected later, not its whole batch.
    try:
        return json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        raise BodyError(400, "invalid JSON", first_error) from None
