"""Sanitising rrweb events on ingest: recorded DOM must never carry active content.

The recording endpoint is public — anyone holding a page's public key can send
any "recording" — so what is stored is cleaned here, as a second line of
defence behind the viewer's sandboxed iframe (no `allow-scripts`) and its
Content-Security-Policy. Pure functions over rrweb's JSON: they walk full
snapshots (type 2) and DOM mutations (type 3, source 0) and remove

- `<script>` elements with their text, `<base>`, `<meta http-equiv>` (refresh,
  set-cookie…), `<object>`, `<embed>`;
- inline event handler attributes (`on*`);
- `javascript:` / `vbscript:` / `data:text/html` URLs in URL-bearing attributes;
- an iframe's `src` and `srcdoc` (the recorded frame's own content, when it
  was recorded, arrives as nodes; a URL would load a live page in the viewer).

Event types other than rrweb's DOM, meta and custom events (plugins, assets)
and canvas mutations are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# rrweb's EventType and IncrementalSource values (see @rrweb/types).
FULL_SNAPSHOT = 2
INCREMENTAL = 3
META = 4
MUTATION = 0
CANVAS_MUTATION = 9
KEPT_TYPES = frozenset({0, 1, 2, 3, 4, 5})  # DomContentLoaded, Load, FullSnapshot, Incremental, Meta, Custom
# rrweb-snapshot's NodeType
ELEMENT = 2

REMOVED_TAGS = frozenset({"script", "base", "object", "embed"})
FRAME_TAGS = frozenset({"iframe", "frame"})
FRAME_ATTRIBUTES = frozenset({"src", "srcdoc"})
URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "ping", "codebase",
        "cite", "longdesc", "lowsrc", "dynsrc", "srcset", "manifest", "icon",
        # SVG animation can set any attribute, an href included, to a script URL
        "to", "from", "values", "by",
    }
)  # fmt: skip
# Browsers ignore ASCII whitespace and control characters inside a URL's scheme.
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")
_SCRIPT_SCHEMES = (
    "javascript:",
    "vbscript:",
    "data:text/html",
    "data:application/xhtml",
    "data:image/svg+xml",
)


@dataclass
class Cleaning:
    """What sanitising one chunk removed, and the node ids it removed (their later children go too)."""

    removed_nodes: int = 0
    removed_attributes: int = 0
    dropped_events: int = 0
    removed_ids: set[int] = field(default_factory=set)
    frame_ids: set[int] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.removed_nodes or self.removed_attributes or self.dropped_events)


def is_script_url(value: object) -> bool:
    """A URL that runs code (or a document) when followed: `javascript:`, `vbscript:`, HTML data URLs."""
    if not isinstance(value, str):
        return False
    return _IGNORED_IN_SCHEME.sub("", value[:200]).lower().startswith(_SCRIPT_SCHEMES)


def _is_removed_element(node: dict) -> bool:
    tag = str(node.get("tagName", "")).lower()
    if tag in REMOVED_TAGS:
        return True
    if tag == "meta":
        attributes = node.get("attributes")
        return isinstance(attributes, dict) and any(str(k).lower() == "http-equiv" for k in attributes)
    return False


def clean_attributes(attributes: dict, *, frame: bool, cleaning: Cleaning) -> dict:
    """The attributes without event handlers, script URLs and (for frames) their content source."""
    kept = {}
    for name, value in attributes.items():
        lowered = str(name).lower().strip()
        if (
            lowered.startswith("on")
            or lowered == "srcdoc"
            or (frame and lowered in FRAME_ATTRIBUTES)
            or (lowered in URL_ATTRIBUTES and is_script_url(value))
        ):
            cleaning.removed_attributes += 1
            continue
        kept[name] = value
    return kept


def clean_node(node: Any, cleaning: Cleaning) -> dict | None:
    """A serialised node (rrweb-snapshot format) made inert, or None when it must go altogether."""
    if not isinstance(node, dict):
        cleaning.removed_nodes += 1
        return None
    if node.get("type") == ELEMENT:
        if _is_removed_element(node):
            cleaning.removed_nodes += 1
            if isinstance(node.get("id"), int):
                cleaning.removed_ids.add(node["id"])
            return None
        frame = str(node.get("tagName", "")).lower() in FRAME_TAGS
        if frame and isinstance(node.get("id"), int):
            cleaning.frame_ids.add(node["id"])
        attributes = node.get("attributes")
        if isinstance(attributes, dict):
            node["attributes"] = clean_attributes(attributes, frame=frame, cleaning=cleaning)
    children = node.get("childNodes")
    if isinstance(children, list):
        kept = []
        for child in children:  # a plain loop: one stack frame per level of a deep DOM
            cleaned = clean_node(child, cleaning)
            if cleaned is not None:
                kept.append(cleaned)
        node["childNodes"] = kept
    return node


def clean_mutation(data: dict, cleaning: Cleaning) -> dict:
    """A DOM mutation (incremental source 0) without active nodes or attributes."""
    adds = data.get("adds")
    if isinstance(adds, list):
        kept = []
        for add in adds:
            if not isinstance(add, dict):
                cleaning.removed_nodes += 1
                continue
            if add.get("parentId") in cleaning.removed_ids:
                # a node inside a removed one (the text of a script): it goes too
                cleaning.removed_nodes += 1
                if isinstance(add.get("node"), dict) and isinstance(add["node"].get("id"), int):
                    cleaning.removed_ids.add(add["node"]["id"])
                continue
            node = clean_node(add.get("node"), cleaning)
            if node is None:
                continue
            add["node"] = node
            kept.append(add)
        data["adds"] = kept
    changes = data.get("attributes")
    if isinstance(changes, list):
        for change in changes:
            if isinstance(change, dict) and isinstance(change.get("attributes"), dict):
                frame = change.get("id") in cleaning.frame_ids
                change["attributes"] = clean_attributes(change["attributes"], frame=frame, cleaning=cleaning)
    texts = data.get("texts")
    if isinstance(texts, list) and cleaning.removed_ids:
        data["texts"] = [
            t for t in texts if not (isinstance(t, dict) and t.get("id") in cleaning.removed_ids)
        ]
    return data


def sanitize_events(events: list[dict]) -> tuple[list[dict], Cleaning]:
    """Clean a chunk's events in place (they are freshly parsed JSON); returns the kept events."""
    cleaning = Cleaning()
    kept: list[dict] = []
    for event in events:
        kind = event.get("type")
        data = event.get("data")
        if kind not in KEPT_TYPES:
            cleaning.dropped_events += 1
            continue
        if kind == FULL_SNAPSHOT and isinstance(data, dict):
            node = clean_node(data.get("node"), cleaning)
            if node is None:
                cleaning.dropped_events += 1
                continue
            data["node"] = node
        elif kind == INCREMENTAL and isinstance(data, dict):
            source = data.get("source")
            if source == CANVAS_MUTATION:
                cleaning.dropped_events += 1
                continue
            if source == MUTATION:
                clean_mutation(data, cleaning)
        kept.append(event)
    return kept, cleaning
