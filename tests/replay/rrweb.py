"""rrweb events, as the recorder sends them, for tests."""

from __future__ import annotations

import itertools
import time

_ids = itertools.count(1000)
T0 = 1_780_000_000_000  # epoch ms


def now_ms() -> int:
    return int(time.time() * 1000)


def meta(t: int, href: str = "https://app.example/", width: int = 1280, height: int = 800) -> dict:
    return {"type": 4, "data": {"href": href, "width": width, "height": height}, "timestamp": t}


def element(
    tag: str, attributes: dict | None = None, children: list | None = None, node_id: int | None = None
) -> dict:
    return {
        "type": 2,
        "tagName": tag,
        "attributes": attributes or {},
        "childNodes": children or [],
        "id": node_id if node_id is not None else next(_ids),
    }


def text(value: str, node_id: int | None = None) -> dict:
    return {"type": 3, "textContent": value, "id": node_id if node_id is not None else next(_ids)}


def document(*body_children: dict) -> dict:
    html = element("html", {}, [element("head", {}, []), element("body", {}, list(body_children))])
    return {
        "type": 0,
        "childNodes": [{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 1}, html],
        "id": 0,
    }


def full_snapshot(t: int, *body_children: dict) -> dict:
    return {
        "type": 2,
        "data": {"node": document(*body_children), "initialOffset": {"left": 0, "top": 0}},
        "timestamp": t,
    }


def page(t: int, href: str = "https://app.example/", *body_children: dict) -> list[dict]:
    """What a page load records first: its meta event and full snapshot."""
    return [meta(t, href), full_snapshot(t + 1, *(body_children or (element("h1", {}, [text("Hello")]),)))]


def mouse_move(t: int, *offsets: int) -> dict:
    positions = [
        {"x": 10 + i, "y": 20, "id": 5, "timeOffset": offset} for i, offset in enumerate(offsets or (0,))
    ]
    return {"type": 3, "data": {"source": 1, "positions": positions}, "timestamp": t}


def click(t: int, x: float = 100, y: float = 100, node_id: int = 5) -> dict:
    return {"type": 3, "data": {"source": 2, "type": 2, "id": node_id, "x": x, "y": y}, "timestamp": t}


def focus(t: int, node_id: int = 5) -> dict:
    return {"type": 3, "data": {"source": 2, "type": 5, "id": node_id}, "timestamp": t}


def scroll(t: int, y: int = 200) -> dict:
    return {"type": 3, "data": {"source": 3, "id": 1, "x": 0, "y": y}, "timestamp": t}


def typed(t: int, value: str = "***", node_id: int = 7) -> dict:
    return {
        "type": 3,
        "data": {"source": 5, "text": value, "isChecked": False, "id": node_id},
        "timestamp": t,
    }


def mutation(
    t: int, *, adds: list | None = None, attributes: list | None = None, texts: list | None = None
) -> dict:
    return {
        "type": 3,
        "data": {
            "source": 0,
            "adds": adds or [],
            "removes": [],
            "texts": texts or [],
            "attributes": attributes or [],
        },
        "timestamp": t,
    }


def add(parent_id: int, node: dict) -> dict:
    return {"parentId": parent_id, "nextId": None, "node": node}


def navigated(t: int, href: str) -> dict:
    return {"type": 5, "data": {"tag": "$url", "payload": {"href": href}}, "timestamp": t}
