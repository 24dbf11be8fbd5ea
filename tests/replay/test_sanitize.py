from __future__ import annotations

import copy

import pytest

from replay.sanitize import is_script_url, sanitize_events
from tests.replay import rrweb


def _walk(node: dict):
    yield node
    for child in node.get("childNodes", []):
        yield from _walk(child)


def _body(events: list[dict]) -> list[dict]:
    [snapshot] = [e for e in events if e["type"] == 2]
    return list(_walk(snapshot["data"]["node"]))


def _tags(events: list[dict]) -> set[str]:
    return {n.get("tagName") for n in _body(events) if n.get("type") == 2}


def test_script_elements_go_with_their_text():
    payload = rrweb.element(
        "script", {"src": "https://evil.example/x.js"}, [rrweb.text("window.top.__pwned = 1")]
    )
    events, cleaning = sanitize_events(
        [rrweb.full_snapshot(rrweb.T0, rrweb.element("p", {}, [rrweb.text("hi")]), payload)]
    )

    assert "script" not in _tags(events)
    assert not [n for n in _body(events) if "__pwned" in str(n.get("textContent", ""))]
    assert "p" in _tags(events)
    assert cleaning.changed and cleaning.removed_nodes == 1


def test_svg_scripts_and_upper_case_tags_go_too():
    svg = rrweb.element("svg", {}, [rrweb.element("SCRIPT", {}, [rrweb.text("alert(1)")])])
    events, _ = sanitize_events([rrweb.full_snapshot(rrweb.T0, svg)])
    assert {t.lower() for t in _tags(events)} == {"html", "head", "body", "svg"}


@pytest.mark.parametrize("name", ["onerror", "onclick", "ONLOAD", "onmouseover", " onfocus"])
def test_inline_event_handlers_are_removed(name):
    img = rrweb.element(
        "img", {"src": "https://cdn.example/a.png", name: "window.top.__pwned = 1", "alt": "logo"}
    )
    events, cleaning = sanitize_events([rrweb.full_snapshot(rrweb.T0, img)])

    [kept] = [n for n in _body(events) if n.get("tagName") == "img"]
    assert kept["attributes"] == {"src": "https://cdn.example/a.png", "alt": "logo"}
    assert cleaning.removed_attributes == 1


@pytest.mark.parametrize(
    ("tag", "attribute"),
    [
        ("a", "href"),
        ("img", "src"),
        ("form", "action"),
        ("button", "formaction"),
        ("use", "xlink:href"),
        ("iframe", "src"),
    ],
)
@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "  JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "\x01javascript:x",
        "vbscript:x",
        "data:text/html,<script>x</script>",
    ],
)
def test_script_urls_are_removed_from_url_attributes(tag, attribute, url):
    node = rrweb.element(tag, {attribute: url, "class": "kept"})
    events, _ = sanitize_events([rrweb.full_snapshot(rrweb.T0, node)])

    [kept] = [n for n in _body(events) if n.get("tagName") == tag]
    assert kept["attributes"] == {"class": "kept"}


def test_ordinary_urls_stay():
    link = rrweb.element(
        "a", {"href": "https://app.example/pricing?x=javascript:1", "title": "javascript: a guide"}
    )
    image = rrweb.element("img", {"src": "data:image/png;base64,iVBORw0KGgo="})
    events, cleaning = sanitize_events([rrweb.full_snapshot(rrweb.T0, link, image)])
    assert [n["attributes"] for n in _body(events) if n.get("tagName") in ("a", "img")] == [
        {"href": "https://app.example/pricing?x=javascript:1", "title": "javascript: a guide"},
        {"src": "data:image/png;base64,iVBORw0KGgo="},
    ]
    assert not cleaning.changed


@pytest.mark.parametrize(
    "node",
    [
        rrweb.element("base", {"href": "https://evil.example/"}),
        rrweb.element("meta", {"http-equiv": "refresh", "content": "0;url=https://evil.example/"}),
        rrweb.element("meta", {"HTTP-EQUIV": "Set-Cookie", "content": "a=b"}),
        rrweb.element("object", {"data": "https://evil.example/x.swf"}),
        rrweb.element("embed", {"src": "https://evil.example/x.swf"}),
    ],
)
def test_base_refresh_object_and_embed_are_removed(node):
    viewport = rrweb.element("meta", {"name": "viewport", "content": "width=device-width"})
    events, _ = sanitize_events([rrweb.full_snapshot(rrweb.T0, node, viewport)])
    ids = {n["id"] for n in _body(events)}
    assert node["id"] not in ids
    assert viewport["id"] in ids  # an ordinary meta stays


def test_iframes_stay_without_their_source():
    frame = rrweb.element(
        "iframe", {"src": "https://evil.example/", "srcdoc": "<script>x</script>", "width": "300"}
    )
    events, _ = sanitize_events([rrweb.full_snapshot(rrweb.T0, frame)])
    [kept] = [n for n in _body(events) if n.get("tagName") == "iframe"]
    assert kept["attributes"] == {"width": "300"}


def test_mutations_cannot_add_scripts_or_their_text():
    script = rrweb.element("script", {}, [], node_id=900)
    safe = rrweb.element("div", {"onclick": "x()", "class": "added"}, [], node_id=901)
    event = rrweb.mutation(
        rrweb.T0,
        adds=[
            rrweb.add(5, script),
            rrweb.add(900, rrweb.text("window.top.__pwned=1", node_id=902)),
            rrweb.add(5, safe),
        ],
        texts=[{"id": 902, "value": "window.top.__pwned=2"}],
    )
    [kept], cleaning = sanitize_events([event])

    assert [a["node"]["id"] for a in kept["data"]["adds"]] == [901]
    assert kept["data"]["adds"][0]["node"]["attributes"] == {"class": "added"}
    assert kept["data"]["texts"] == []
    assert cleaning.removed_nodes == 2


def test_attribute_mutations_lose_handlers_script_urls_and_frame_sources():
    frame = rrweb.element("iframe", {}, [], node_id=950)
    events = [
        rrweb.full_snapshot(rrweb.T0, frame),
        rrweb.mutation(
            rrweb.T0 + 10,
            attributes=[
                {"id": 5, "attributes": {"onerror": "x()", "href": "javascript:x()", "class": "b"}},
                {"id": 950, "attributes": {"src": "https://evil.example/", "style": {"color": "red"}}},
                {"id": 6, "attributes": {"srcdoc": "<script>x</script>", "src": "https://cdn.example/b.png"}},
            ],
        ),
    ]
    kept, _ = sanitize_events(events)
    assert [c["attributes"] for c in kept[1]["data"]["attributes"]] == [
        {"class": "b"},
        {"style": {"color": "red"}},
        {"src": "https://cdn.example/b.png"},
    ]


def test_plugin_asset_and_canvas_events_are_dropped():
    events = [
        *rrweb.page(rrweb.T0),
        {"type": 6, "data": {"plugin": "rrweb/console@1", "payload": {}}, "timestamp": rrweb.T0 + 5},
        {"type": 7, "data": {"url": "https://evil.example/"}, "timestamp": rrweb.T0 + 6},
        {"type": 3, "data": {"source": 9, "id": 4, "commands": []}, "timestamp": rrweb.T0 + 7},
        rrweb.click(rrweb.T0 + 8),
    ]
    kept, cleaning = sanitize_events(events)
    assert [e["type"] for e in kept] == [4, 2, 3]
    assert cleaning.dropped_events == 3


def test_an_ordinary_recording_is_left_as_it_was():
    events = [
        *rrweb.page(
            rrweb.T0,
            "https://app.example/",
            rrweb.element("a", {"href": "/pricing"}, [rrweb.text("Pricing")]),
        ),
        rrweb.mouse_move(rrweb.T0 + 500, -400, -200, 0),
        rrweb.click(rrweb.T0 + 600),
        rrweb.mutation(
            rrweb.T0 + 700, adds=[rrweb.add(5, rrweb.element("li", {"class": "row"}, [rrweb.text("new")]))]
        ),
    ]
    before = copy.deepcopy(events)
    kept, cleaning = sanitize_events(events)
    assert kept == before
    assert not cleaning.changed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("javascript:alert(1)", True),
        ("JAVASCRIPT:alert(1)", True),
        (" \n javascript:x", True),
        ("jav\x00ascript:x", True),
        ("https://example.com", False),
        ("/relative/javascript:x", False),
        ("#javascript:x", False),
        ("data:image/png;base64,AAAA", False),
        ("data:image/svg+xml,<svg onload=x>", True),
        (None, False),
        (12, False),
    ],
)
def test_is_script_url(value, expected):
    assert is_script_url(value) is expected
