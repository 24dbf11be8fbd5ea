"""The demo site's clickable elements as stored columns, computed once.

Generated autocaptures use exactly the element chains that `demo.site`
lists for each page, so an action defined by selector on /demo/ matches seeded
events and live clicks alike. `el_text` and `href` are derived the way
ingestion derives them (`tracking.elements.target_text` / `target_href`).
"""

from __future__ import annotations

from dataclasses import dataclass

from demo import site as demo_site
from demo.world.catalog import SITE
from tracking import elements as chain


@dataclass(frozen=True)
class Target:
    """One element as the events table stores it."""

    chain: str
    text: str
    href: str


@dataclass(frozen=True)
class Page:
    key: str
    path: str
    url: str


def _target(elements: tuple[dict, ...]) -> Target:
    listed = list(elements)
    return Target(chain=chain.encode(listed), text=chain.target_text(listed), href=chain.target_href(listed))


TARGETS: dict[tuple[str, str], Target] = {
    (page.key, name): _target(elements)
    for page in demo_site.PAGES
    for name, elements in page.elements.items()
}

# A `submit` autocapture targets the form itself: its chain is the tail of its
# submit button's chain, starting at the <form>.
_INVITE_BUTTON = demo_site.page_get("onboarding").elements["send-invite"]
TARGETS[("onboarding", "invite-form")] = _target(_INVITE_BUTTON[1:])
assert _INVITE_BUTTON[1]["tag"] == "form" and _INVITE_BUTTON[1]["id"] == "invite-form"

PAGES: dict[str, Page] = {page.key: Page(page.key, page.path, SITE + page.path) for page in demo_site.PAGES}
# The board's other views are single-page navigations of the board page (same elements).
for _tab in demo_site.BOARD_TABS:
    if _tab.key != "board":
        PAGES[f"board-{_tab.key}"] = Page(f"board-{_tab.key}", _tab.path, SITE + _tab.path)


def target(page_key: str, name: str) -> Target:
    return TARGETS[(page_key, name)]
