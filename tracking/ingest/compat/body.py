"""Request bodies as the PostHog and Segment clients send them.

On top of what `tracking.ingest.body` reads (JSON, gzip by header, query or magic
bytes, under the same size and decompression limits), PostHog's browser and
mobile clients send form-encoded bodies (`data=<JSON or base64>`), base64 bodies
(`?compression=base64`) and gzip signalled by `?compression=gzip-js`.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest

from tracking.ingest.body import BodyError, decompress, parse_json, read_raw

_GZIP_MAGIC = b"\x1f\x8b"


def _compression(request: HttpRequest) -> str:
    return (request.GET.get("compression") or "").lower()


def _unbase64(data: bytes) -> bytes:
    text = b"".join(data.split())
    text = text.replace(b"-", b"+").replace(b"_", b"/")
    text += b"=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BodyError(400, "invalid base64 body", "The body is not valid base64.") from None


def _parse_json(data: bytes) -> object:
    return parse_json(data, empty="Send a JSON object or array.")


def _form_data(data: bytes) -> bytes | None:
    """The `data` field of a form-encoded body, or None when the body is not a form."""
    if not data.startswith(b"data="):
        return None
    try:
        fields = parse_qs(data.decode("latin-1"), keep_blank_values=True, max_num_fields=50)
    except ValueError:
        raise BodyError(400, "invalid form body", "The form body could not be parsed.") from None
    values = fields.get("data") or [""]
    return values[0].encode("latin-1")


def read_compat_payload(request: HttpRequest, *, max_bytes: int | None = None) -> object:
    """Read, unwrap and parse a PostHog- or Segment-style body, or raise BodyError (a 4xx)."""
    data = read_raw(request, max_bytes=max_bytes)
    compression = _compression(request)
    encoding = request.headers.get("Content-Encoding", "").lower()
    if "gzip" in encoding or compression in ("gzip", "gzip-js") or data[:2] == _GZIP_MAGIC:
        data = decompress(data)
    elif len(data) > settings.INGEST_MAX_DECOMPRESSED_BYTES:
        raise BodyError(413, "payload too large", "The body exceeds the size limit.")
    form = _form_data(data)
    if form is not None:
        data = form
    if compression == "lz64":
        raise BodyError(415, "unsupported compression", "lz64 is not supported; use gzip-js or base64.")
    stripped = data.lstrip()
    if compression == "base64" or (form is not None and stripped[:1] not in (b"{", b"[")):
        data = _unbase64(data)
        if data[:2] == _GZIP_MAGIC:
            data = decompress(data)
        elif len(data) > settings.INGEST_MAX_DECOMPRESSED_BYTES:
            raise BodyError(413, "payload too large", "The body exceeds the size limit.")
    return _parse_json(data)
