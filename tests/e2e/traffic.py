"""What a page sent: request bodies, decoded for assertions."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Sent:
    url: str
    method: str
    content_type: str
    raw: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def gzipped(self) -> bool:
        return self.raw[:2] == b"\x1f\x8b"

    @property
    def body(self) -> bytes:
        return gzip.decompress(self.raw) if self.gzipped else self.raw

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Traffic:
    """`observed`: bodies the browser reported (page.on("request")); `received`: bodies the server read."""

    observed: list[Sent] = field(default_factory=list)
    received: list[Sent] = field(default_factory=list)

    def observe(self, request) -> None:
        raw = request.post_data_buffer
        if raw is not None:
            self.observed.append(
                Sent(
                    url=request.url,
                    method=request.method,
                    content_type=request.headers.get("content-type", ""),
                    raw=raw,
                )
            )

    def to(self, path: str) -> list[Sent]:
        """What the server received on `path`, beacons included."""
        return [s for s in self.received if s.path == path]

    def events(self) -> list[dict]:
        return [event for sent in self.to("/i/v1/batch") for event in sent.json()["batch"]]

    def contains(self, text: str) -> bool:
        needle = text.encode()
        return any(needle in s.raw or needle in s.body for s in self.observed + self.received)
