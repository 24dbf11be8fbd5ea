"""The element chain of an autocaptured event, and its stored text encoding.

The snippet sends `$elements`, target first, up to `body`:

    [{"tag": "button", "id": "buy", "classes": ["btn", "primary"], "nth_child": 2,
      "nth_of_type": 1, "attrs": {"type": "submit", "data-plan": "pro"}, "text": "Buy"}, ...]

It is stored in `Event.elements_chain` as one string so that CSS selectors can
be compiled to a single regular expression, evaluated by PostgreSQL (`~`) and
by Python (`re`) with the same meaning:

    RS tag (US field)* RS tag (US field)* ... RS

RS is U+001E (record separator) before each element and at the very end; US is
U+001F (unit separator) before each field. Fields are `c=<class>`, `i=<id>`,
`n=<nth-child>`, `t=<nth-of-type>`, `x=<own text>` and `a:<name>=<value>`.
Separators are removed from every value, so they can only mean structure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

RS = "\x1e"
US = "\x1f"

MAX_ELEMENTS = 30
MAX_TEXT = 255
MAX_VALUE = 1000
MAX_CLASSES = 20
MAX_ATTRS = 20

# Only these attributes are kept (data-* too); the snippet applies the same list.
ALLOWED_ATTRIBUTES = {"href", "name", "type", "role", "aria-label", "title", "alt", "for", "placeholder"}
_TAG = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
_ATTR = re.compile(r"^[a-z][a-z0-9_:.-]{0,60}$")
_SEPARATORS = str.maketrans("", "", RS + US + "\x00")  # and NUL, which a PostgreSQL text column cannot hold
# Scalars as isinstance reads them fastest: every autocaptured click cleans a dozen values
# (a `str | int | float` union is built anew on each call, and costs 4 times the tuple).
_SCALARS = (str, int, float)


def _clean(value: Any, limit: int = MAX_VALUE) -> str:
    if type(value) is str:
        text = value
    elif isinstance(value, _SCALARS):
        text = str(value)
    else:
        return ""  # a forged list or object is no tag or id (and str() of a deeply nested one recurses)
    if RS in text or US in text or "\x00" in text:  # rare: three scans beat translate's lookup per character
        text = text.translate(_SEPARATORS)
    return text.strip()[:limit]


def _attribute_allowed(name: str) -> bool:
    return name in ALLOWED_ATTRIBUTES or name.startswith("data-")


def normalize(elements: Any) -> list[dict]:
    """Validate and trim a `$elements` list from the wire; unknown keys and bad items are dropped."""
    if not isinstance(elements, list):
        raise ValueError("$elements must be a list")
    out: list[dict] = []
    for raw in elements[:MAX_ELEMENTS]:
        if not isinstance(raw, dict):
            continue
        tag = _clean(raw.get("tag") or raw.get("tag_name") or "", 41).lower()
        if not _TAG.match(tag):
            continue
        element: dict = {"tag": tag}
        if raw.get("id"):
            element["id"] = _clean(raw["id"], 200)
        classes = raw.get("classes")
        if isinstance(classes, list):
            cleaned = [_clean(c, 100) for c in classes[:MAX_CLASSES] if isinstance(c, str) and c.strip()]
            cleaned = [c for c in cleaned if " " not in c]
            if cleaned:
                element["classes"] = cleaned
        for key in ("nth_child", "nth_of_type"):
            value = raw.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100000:
                element[key] = value
        attrs = raw.get("attrs") or raw.get("attributes")
        if isinstance(attrs, dict):
            kept = {}
            for name, value in list(attrs.items())[:MAX_ATTRS]:
                name = str(name).lower()
                if _ATTR.match(name) and _attribute_allowed(name) and isinstance(value, _SCALARS):
                    kept[name] = _clean(value)
            if kept:
                element["attrs"] = kept
        text = raw.get("text")
        if isinstance(text, str) and text.strip():
            element["text"] = _clean(" ".join(text.split()), MAX_TEXT)
        out.append(element)
    return out


def encode(elements: Iterable[dict]) -> str:
    """Normalized elements -> the stored chain string."""
    parts: list[str] = []
    for element in elements:
        fields = [element["tag"]]
        for cls in element.get("classes", ()):
            fields.append(f"c={cls}")
        if "id" in element:
            fields.append(f"i={element['id']}")
        if "nth_child" in element:
            fields.append(f"n={element['nth_child']}")
        if "nth_of_type" in element:
            fields.append(f"t={element['nth_of_type']}")
        for name, value in element.get("attrs", {}).items():
            fields.append(f"a:{name}={value}")
        if "text" in element:
            fields.append(f"x={element['text']}")
        parts.append(US.join(fields))
    if not parts:
        return ""
    return RS + RS.join(parts) + RS


def decode(chain: str) -> list[dict]:
    """The stored chain string -> element dicts (for display and selector suggestions)."""
    elements: list[dict] = []
    for part in chain.strip(RS).split(RS) if chain else []:
        if not part:
            continue
        tag, *fields = part.split(US)
        element: dict = {"tag": tag}
        for field in fields:
            key, _, value = field.partition("=")
            if key == "c":
                element.setdefault("classes", []).append(value)
            elif key == "i":
                element["id"] = value
            elif key in ("n", "t"):
                element["nth_child" if key == "n" else "nth_of_type"] = (
                    int(value) if value.isdecimal() else value
                )
            elif key == "x":
                element["text"] = value
            elif key.startswith("a:"):
                element.setdefault("attrs", {})[key[2:]] = value
        elements.append(element)
    return elements


def target_text(elements: list[dict]) -> str:
    """The clicked element's text: the target's, else the nearest ancestor's that has some."""
    for element in elements[:3]:
        if element.get("text"):
            return element["text"]
    return ""


def target_href(elements: list[dict]) -> str:
    for element in elements:
        href = element.get("attrs", {}).get("href")
        if href:
            return href
    return ""


def describe(element: dict) -> str:
    """A short CSS-like label: `button#buy.btn.primary`."""
    label = element.get("tag", "?")
    if element.get("id"):
        label += f"#{element['id']}"
    for cls in element.get("classes", [])[:3]:
        label += f".{cls}"
    return label
