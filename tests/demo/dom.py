"""A small DOM built from server-rendered HTML, and what the snippet would capture of it.

The capture rules mirror tracking/js/elements.js and privacy.js: allowed
attributes, the element's own text, and no text or attribute value that looks
like a card number or an SSN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from tracking.elements import ALLOWED_ATTRIBUTES

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_CARD_NUMBER = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")


def looks_secret(text: str) -> bool:
    return bool(_CARD_NUMBER.search(text) or _SSN.search(text))


@dataclass(eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def own_text(self) -> str:
        if self.tag == "textarea":
            return ""
        text = " ".join("".join(c for c in self.children if isinstance(c, str)).split())[:255]
        return "" if looks_secret(text) else text

    def captured(self) -> dict:
        """This element as the snippet sends it, without nth_child / nth_of_type."""
        element: dict = {"tag": self.tag}
        if self.attrs.get("id"):
            element["id"] = self.attrs["id"]
        if self.classes:
            element["classes"] = self.classes
        attrs = {
            name: value
            for name, value in self.attrs.items()
            if (name in ALLOWED_ATTRIBUTES or name.startswith("data-")) and not looks_secret(value)
        }
        if attrs:
            element["attrs"] = attrs
        if self.own_text():
            element["text"] = self.own_text()
        return element

    def chain(self) -> list[dict]:
        """Target first, up to body, as the snippet builds it."""
        chain: list[dict] = []
        node: Node | None = self
        while node is not None and node.tag != "html":
            chain.append(node.captured())
            if node.tag == "body":
                break
            node = node.parent
        return chain

    def walk(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()

    def text_content(self) -> str:
        return "".join(c if isinstance(c, str) else c.text_content() for c in self.children)


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.open: list[Node] = [self.root]

    def _add(self, tag: str, attrs: list[tuple[str, str | None]]) -> Node:
        node = Node(tag, {name: value or "" for name, value in attrs}, parent=self.open[-1])
        self.open[-1].children.append(node)
        return node

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = self._add(tag, attrs)
        if tag not in VOID:
            self.open.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, 0, -1):
            if self.open[index].tag == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
