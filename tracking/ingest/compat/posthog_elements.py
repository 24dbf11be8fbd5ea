"""posthog-js autocapture elements -> Sightline's element list (tracking/elements.py).

posthog-js sends `$elements`, target first up to `body`, each like
`{"tag_name": "button", "$el_text": "Buy", "classes": ["btn"], "attr__id": "buy",
"attr__class": "btn", "attr__href": "/p", "nth_child": 2, "nth_of_type": 1}`, and
also (or, with `elementsChainAsString`, only) `$elements_chain`, PostHog's string
form: `button.btn:attr__class="btn"attr_id="buy"nth-child="2"nth-of-type="1"text="Buy";body:…`.
Both become the dicts `tracking.elements.normalize` accepts, so action selectors
match them exactly as they match the snippet's own autocaptures.
"""

from __future__ import annotations

import re

_ATTRIBUTE = re.compile(r'([^=";:]+)="((?:\\.|[^"\\])*)"')
_ATTRIBUTES = re.compile(r'(?:[^=";:]+="(?:\\.|[^"\\])*")*')
_NOT_ATTRIBUTES = {"class", "id", "style"}


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    return None


def element_from_posthog(raw: object) -> dict | None:
    """One posthog-js element -> one Sightline element (before normalisation), or None."""
    if not isinstance(raw, dict):
        return None
    tag = raw.get("tag_name") or raw.get("tag")
    if not isinstance(tag, str):
        return None
    element: dict = {"tag": tag}
    element_id = raw.get("attr__id") or raw.get("attr_id")
    if isinstance(element_id, str) and element_id:
        element["id"] = element_id
    classes = raw.get("classes")
    if not isinstance(classes, list):
        attr_class = raw.get("attr__class") or raw.get("attr_class")
        if isinstance(attr_class, str):
            classes = attr_class.split()
        elif isinstance(attr_class, list):
            classes = attr_class
    if isinstance(classes, list) and classes:
        element["classes"] = [c for c in classes if isinstance(c, str)]
    for key in ("nth_child", "nth_of_type"):
        number = _int(raw.get(key))
        if number:
            element[key] = number
    attrs = {}
    for key, value in raw.items():
        if isinstance(key, str) and key.startswith("attr__") and key[6:] not in _NOT_ATTRIBUTES:
            attrs[key[6:]] = value
    href = raw.get("href")
    if isinstance(href, str) and href and "href" not in attrs:
        attrs["href"] = href
    if attrs:
        element["attrs"] = attrs
    text = raw.get("$el_text", raw.get("text"))
    if isinstance(text, str) and text.strip():
        element["text"] = text
    return element


def elements_from_posthog(elements: object) -> list[dict]:
    if not isinstance(elements, list):
        raise ValueError("$elements must be a list")
    return [e for e in (element_from_posthog(raw) for raw in elements[:100]) if e is not None]


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def elements_from_chain(chain: object) -> list[dict]:
    """PostHog's `$elements_chain` string -> posthog-js-style element dicts -> Sightline elements."""
    if not isinstance(chain, str):
        raise ValueError("$elements_chain must be a string")
    out: list[dict] = []
    for part in _split_outside_quotes(chain[:100_000], ";")[:100]:
        if not part:
            continue
        head, _, attributes = part.partition(":")
        while attributes and not _ATTRIBUTES.fullmatch(attributes) and ":" in attributes:
            # a class name with a colon (`hover:underline`): the head goes on
            more, _, attributes = attributes.partition(":")
            head += ":" + more
        tag, *classes = head.split(".")
        raw: dict = {"tag_name": tag, "classes": [c for c in classes if c]}
        for key, value in _ATTRIBUTE.findall(attributes):
            value = value.replace('\\"', '"')
            if key == "text":
                raw["$el_text"] = value
            elif key == "nth-child":
                raw["nth_child"] = value
            elif key == "nth-of-type":
                raw["nth_of_type"] = value
            elif key in ("href", "attr_id") or key.startswith("attr__"):
                raw[key] = value
        element = element_from_posthog(raw)
        if element is not None:
            out.append(element)
    return out
