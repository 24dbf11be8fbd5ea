"""Synthetic session recordings for a sample of seeded sessions, so the replay viewer has something true to show.

A recording is rebuilt from a seeded session's events: each page view becomes
an rrweb meta event and a full snapshot of the real demo page (rendered by
Django, parsed into rrweb's serialised-node format, its stylesheet inlined,
scripts left out as the recorder leaves them out), and each click, change,
scroll and page leave becomes the rrweb input that would have produced it.
Privacy rules are the recorder's: inputs are masked, `sl-no-capture` regions
are blocked. Chunks are stored through `replay.services.recording_chunk_ingest`,
exactly as if the recorder had sent them.

rrweb replays the pointer at recorded coordinates, and nothing here lays the
page out; `LAYOUT` holds where each demo element's centre sits, measured in
Chromium with the demo stylesheet at `VIEWPORT`. Recordings use that viewport
so the pointer lands on the elements the events say were clicked.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client

from demo import site as demo_site
from demo.world.chains import PAGES, TARGETS
from tracking.eventstore.activity import session_stream
from tracking.models import Project, Session

log = logging.getLogger(__name__)

VIEWPORT = (1424, 790)
# Document coordinates of element centres at VIEWPORT (the board's other views share the board's).
LAYOUT: dict[str, dict[str, tuple[int, int]]] = {
    "landing": {
        "hero-start-trial": (635, 483), "hero-see-pricing": (802, 483), "feature-boards": (273, 1258),
        "feature-timeline": (643, 1258), "feature-automations": (1022, 1258), "cta-start-trial": (1126, 1604),
        "header-start-trial": (1174, 64), "header-pricing": (362, 64), "banner-link": (1042, 16),
    },
    "pricing": {
        "billing-monthly": (669, 266), "billing-annual": (760, 266), "choose-plan-free": (348, 522),
        "choose-plan-pro": (712, 523), "choose-plan-business": (1076, 546), "faq-trial": (712, 897),
        "header-start-trial": (1174, 64),
    },
    "signup": {
        "signup-form": (1028, 446), "start-trial": (1028, 638), "name": (1028, 229), "email": (1028, 311),
        "company": (1028, 500), "company-size": (1028, 583), "password-label": (1028, 356),
    },
    "onboarding": {
        "create-project": (941, 442), "send-invite": (719, 634), "connect-slack": (942, 722),
        "skip-onboarding": (319, 804), "upgrade-cta": (124, 1031), "invite-form": (719, 634),
    },
    "board": {
        "new-task": (1343, 159), "share-board": (1147, 159), "export-board": (1238, 159), "tab-board": (315, 215),
        "tab-list": (387, 215), "tab-timeline": (471, 215), "task-card": (410, 323), "upgrade-cta": (124, 734),
    },
    "checkout": {
        "checkout-form": (562, 478), "checkout-pay": (562, 623), "billing-email": (562, 570), "test-card": (686, 668),
        "compare-plans": (960, 458),
    },
    "checkout_complete": {"back-to-board": (836, 412)},
}  # fmt: skip
PAGE_HEIGHTS = {"landing": 1968, "pricing": 1314, "signup": 1070, "onboarding": 1085}

# rrweb's event types, incremental sources and mouse interactions (see @rrweb/types)
FULL_SNAPSHOT, INCREMENTAL, META = 2, 3, 4
MOUSE_MOVE, MOUSE_INTERACTION, SCROLL, INPUT = 1, 2, 3, 5
MOUSE_UP, MOUSE_DOWN, CLICK, FOCUS = 0, 1, 2, 5
# rrweb-snapshot's node types
DOCUMENT, DOCTYPE, ELEMENT, TEXT = 0, 1, 2, 3

VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
BLOCK_CLASSES = frozenset({"sl-block", "sl-no-capture"})
_PATH_TO_PAGE = {page.path: key for key, page in PAGES.items()}
_CHAIN_TO_NAME = {target.chain: name for (_, name), target in TARGETS.items()}
_TARGET_ELEMENT = {name: chain[0] for page in demo_site.PAGES for name, chain in page.elements.items()} | {
    "invite-form": demo_site.page_get("onboarding").elements["send-invite"][1]
}


# -- the page as rrweb serialises it --------------------------------------------------------------
@dataclass
class Snapshot:
    """One demo page as an rrweb full snapshot, with the node id of every element by its attributes."""

    node: dict
    elements: list[tuple[int, str, dict]] = field(default_factory=list)  # (id, tag, attributes)
    body_id: int = 0

    def find(self, name: str) -> int:
        """The node id of a demo element (by tag, id, classes and listed attributes)."""
        wanted = _TARGET_ELEMENT.get(name)
        if wanted is None:
            return self.body_id
        for node_id, tag, attrs in self.elements:
            if tag != wanted["tag"]:
                continue
            if wanted.get("id") and attrs.get("id") != wanted["id"]:
                continue
            if not set(wanted.get("classes", [])) <= set(attrs.get("class", "").split()):
                continue
            if any(attrs.get(key) != value for key, value in wanted.get("attrs", {}).items()):
                continue
            return node_id
        return self.body_id


class _SnapshotParser(HTMLParser):
    """HTML -> rrweb's serialised nodes: no scripts, masked inputs, blocked private regions, inlined CSS."""

    def __init__(self, css: dict[str, str]) -> None:
        super().__init__(convert_charrefs=True)
        self.css = css
        self.next_id = 1
        self.document = {"type": DOCUMENT, "childNodes": [], "id": self._id()}
        self.stack: list[dict] = [self.document]
        self.snapshot = Snapshot(node=self.document)
        self.skipping = 0  # inside <script>
        self.blocked = 0  # inside a blocked region
        self.svg = 0

    def _id(self) -> int:
        node_id = self.next_id
        self.next_id += 1
        return node_id

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype"):
            self.stack[-1]["childNodes"].append(
                {"type": DOCTYPE, "name": "html", "publicId": "", "systemId": "", "id": self._id()}
            )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping or tag == "script":
            self.skipping += tag == "script"
            return
        if self.blocked:
            if tag not in VOID_TAGS:
                self.blocked += 1
            return
        attributes = {name: value if value is not None else "" for name, value in attrs}
        if tag == "svg":
            self.svg += 1
        node: dict = {
            "type": ELEMENT,
            "tagName": tag,
            "attributes": attributes,
            "childNodes": [],
            "id": self._id(),
        }
        if self.svg:
            node["isSVG"] = True
        if tag == "input" and attributes.get("type") not in ("submit", "button", "checkbox", "radio"):
            if attributes.get("value"):
                attributes["value"] = "*" * len(attributes["value"])
        if tag == "link" and attributes.get("rel") == "stylesheet" and attributes.get("href") in self.css:
            attributes["_cssText"] = self.css[attributes["href"]]
        classes = set(attributes.get("class", "").split())
        if classes & BLOCK_CLASSES or "data-sl-no-capture" in attributes:
            # blocked as the recorder blocks: an empty placeholder keeping the region's place
            node["attributes"] = {
                "class": attributes.get("class", ""),
                "rr_width": "100%",
                "rr_height": "160px",
            }
            self.stack[-1]["childNodes"].append(node)
            if tag not in VOID_TAGS:
                self.blocked = 1
            return
        self.stack[-1]["childNodes"].append(node)
        self.snapshot.elements.append((node["id"], tag, attributes))
        if tag == "body":
            self.snapshot.body_id = node["id"]
        if tag not in VOID_TAGS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and not self.skipping and not self.blocked:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            self.skipping -= tag == "script"
            return
        if self.blocked:
            if tag not in VOID_TAGS:
                self.blocked -= 1
            return
        if tag == "svg":
            self.svg = max(0, self.svg - 1)
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index]["tagName"] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        if self.skipping or self.blocked or len(self.stack) < 2:
            return
        parent = self.stack[-1]
        node: dict = {"type": TEXT, "textContent": data, "id": self._id()}
        if parent.get("tagName") == "style":
            node["isStyle"] = True
        parent["childNodes"].append(node)


def _host() -> str:
    """A host name the running configuration accepts, to render demo pages through Django."""
    for host in settings.ALLOWED_HOSTS:
        if host == "*":
            break
        return host.lstrip(".")
    return "localhost"


def _stylesheets() -> dict[str, str]:
    sheets = {}
    for name in ("css/demo.css",):
        found = finders.find(name)
        if found:
            with open(found, encoding="utf-8") as handle:
                sheets[static(name)] = handle.read()
    return sheets


class Snapshots:
    """Demo pages rendered by Django and serialised once each."""

    def __init__(self) -> None:
        self.client = Client(HTTP_HOST=_host())
        self.css = _stylesheets()
        self.cache: dict[str, Snapshot] = {}

    def get(self, path: str) -> Snapshot | None:
        if path not in self.cache:
            response = self.client.get(path, secure=True)
            if response.status_code != 200:
                log.warning("demo page %s answered %s; no recording uses it", path, response.status_code)
                return None
            parser = _SnapshotParser(self.css)
            parser.feed(response.content.decode())
            parser.close()
            self.cache[path] = parser.snapshot
        return self.cache[path]


# -- a session's events as rrweb input --------------------------------------------------------------
class RecordingBuilder:
    def __init__(self, snapshots: Snapshots, rng: random.Random) -> None:
        self.snapshots = snapshots
        self.rng = rng
        self.events: list[dict] = []
        self.page = ""
        self.snapshot: Snapshot | None = None
        self.pointer = (VIEWPORT[0] // 2, VIEWPORT[1] // 2)
        self.scroll_y = 0
        self.last_ms = 0

    def _at(self, ms: int) -> int:
        # never go back in time: rrweb plays events in timestamp order
        self.last_ms = max(self.last_ms, ms)
        return self.last_ms

    def _incremental(self, ms: int, data: dict) -> None:
        self.events.append({"type": INCREMENTAL, "data": data, "timestamp": self._at(ms)})

    def pageview(self, ms: int, url: str, path: str) -> None:
        snapshot = self.snapshots.get(path)
        if snapshot is None:
            self.snapshot = None
            return
        self.page = _PATH_TO_PAGE.get(path, "")
        self.snapshot = snapshot
        self.scroll_y = 0
        width, height = VIEWPORT
        self.events.append(
            {"type": META, "data": {"href": url, "width": width, "height": height}, "timestamp": self._at(ms)}
        )
        self.events.append(
            {
                "type": FULL_SNAPSHOT,
                "data": {"node": snapshot.node, "initialOffset": {"left": 0, "top": 0}},
                "timestamp": self._at(ms + 5),
            }
        )

    def _layout(self, name: str) -> tuple[int, int] | None:
        page = "board" if self.page.startswith("board") else self.page
        return LAYOUT.get(page, {}).get(name)

    def _page_height(self) -> int:
        return PAGE_HEIGHTS.get("board" if self.page.startswith("board") else self.page, VIEWPORT[1])

    def scroll_to(self, ms: int, y: int) -> None:
        y = max(0, min(y, self._page_height() - VIEWPORT[1]))
        if self.snapshot is None or y == self.scroll_y:
            return
        steps = 4
        for step in range(1, steps + 1):
            position = self.scroll_y + (y - self.scroll_y) * step // steps
            self._incremental(
                ms - (steps - step) * 120,
                {"source": SCROLL, "id": self.snapshot.node["id"], "x": 0, "y": position},
            )
        self.scroll_y = y

    def move_to(self, ms: int, x: int, y: int, node_id: int) -> None:
        """A pointer path to (x, y) in viewport coordinates, ending just before `ms`."""
        start_x, start_y = self.pointer
        steps = 6
        span = 700 + self.rng.randint(0, 600)
        end = ms - 60
        positions = []
        for step in range(1, steps + 1):
            fraction = step / steps
            wobble = self.rng.randint(-6, 6) if step < steps else 0
            positions.append(
                {
                    "x": round(start_x + (x - start_x) * fraction) + wobble,
                    "y": round(start_y + (y - start_y) * fraction) + wobble,
                    "id": node_id,
                    "timeOffset": -round(span * (1 - fraction)),
                }
            )
        self._incremental(end, {"source": MOUSE_MOVE, "positions": positions})
        self.pointer = (x, y)

    def click(self, ms: int, name: str, *, focus: bool = False) -> None:
        if self.snapshot is None:
            return
        where = self._layout(name)
        if where is None:
            return
        x, doc_y = where
        if not self.scroll_y <= doc_y - 40 <= self.scroll_y + VIEWPORT[1] - 80:
            self.scroll_to(ms - 900, doc_y - VIEWPORT[1] // 2)
        node_id = self.snapshot.find(name)
        y = doc_y - self.scroll_y
        self.move_to(ms, x, y, node_id)
        for kind in (MOUSE_DOWN, MOUSE_UP, CLICK):
            self._incremental(ms, {"source": MOUSE_INTERACTION, "type": kind, "id": node_id, "x": x, "y": y})
        if focus:
            self._incremental(ms, {"source": MOUSE_INTERACTION, "type": FOCUS, "id": node_id})

    def typed(self, ms: int, name: str, since_ms: int) -> None:
        """Keystrokes into a field, masked as the recorder masks every input."""
        if self.snapshot is None:
            return
        node_id = self.snapshot.find(name)
        length = self.rng.randint(6, 18)
        begin = min(max(since_ms + 300, ms - 4000), ms - 100)
        for index in range(1, length + 1, 3):
            self._incremental(
                begin + (ms - begin) * index // length,
                {"source": INPUT, "text": "*" * index, "isChecked": False, "id": node_id},
            )

    def leave(self, ms: int, depth: int) -> None:
        target = depth * self._page_height() // 100 - VIEWPORT[1]
        if target > self.scroll_y:
            self.scroll_to(ms - 500, target)


@dataclass(frozen=True)
class _Row:
    name: str
    ms: int
    url: str
    path: str
    chain: str
    properties: dict


def _session_events(project_id: int, session_key: str) -> tuple[str, list[_Row]]:
    rows = session_stream(project_id, session_key)
    distinct_id = rows[0].distinct_id if rows else ""
    return distinct_id, [
        _Row(e.name, int(e.timestamp.timestamp() * 1000), e.url, e.path, e.elements_chain, e.properties)
        for e in rows
    ]


def recording_build(rows: list[_Row], snapshots: Snapshots, rng: random.Random) -> list[list[dict]]:
    """rrweb events for one session's events, in chunks (one per page, as the recorder flushes)."""
    builder = RecordingBuilder(snapshots, rng)
    chunks: list[list[dict]] = []
    last_click_ms = 0
    for row in rows:
        if row.name == "$pageview":
            if builder.events:
                chunks.append(builder.events)
                builder.events = []
            builder.pageview(row.ms, row.url, row.path)
        elif row.name == "$autocapture" and row.chain:
            name = _CHAIN_TO_NAME.get(row.chain, "")
            kind = row.properties.get("$event_type")
            if kind == "click":
                is_field = name in ("name", "email", "company", "company-size", "billing-email")
                builder.click(row.ms, name, focus=is_field)
                last_click_ms = row.ms
            elif kind == "change":
                builder.typed(row.ms, name, last_click_ms)
        elif row.name == "$pageleave":
            builder.leave(row.ms, int(row.properties.get("$scroll_depth") or 0))
    if builder.events:
        chunks.append(builder.events)
    return [chunk for chunk in chunks if chunk]


def _chosen_sessions(project: Project, count: int) -> list[Session]:
    """Recent desktop sessions with a few pages: some with rage clicks (the checkout failures), the latest others."""
    recent = Session.objects.filter(
        project=project, device_type="desktop", pageview_count__gte=2, has_recording=False
    ).order_by("-started_at")
    failures = list(recent.filter(rageclick_count__gt=0)[: count // 3])
    others = list(recent.exclude(pk__in=[s.pk for s in failures])[: count - len(failures)])
    return sorted(failures + others, key=lambda s: s.started_at)


def recordings_seed(*, project: Project, sessions: int = 50, seed: int = 1) -> int:
    """Store recordings for about `sessions` recent seeded sessions; returns how many were stored.

    Does nothing (and says so in the log) where the replay app is not installed
    or the project does not record sessions.
    """
    try:
        from replay.services import recording_chunk_ingest
    except ImportError:
        log.info("replay is not installed: no demo recordings")
        return 0
    if not project.recording_enabled:
        return 0
    snapshots = Snapshots()
    stored = 0
    for session in _chosen_sessions(project, sessions):
        distinct_id, rows = _session_events(project.pk, session.session_key)
        chunks = recording_build(rows, snapshots, random.Random(f"{seed}:{session.session_key}"))
        if not chunks:
            continue
        for seq, events in enumerate(chunks):
            recording_chunk_ingest(
                project=project,
                session_key=session.session_key,
                distinct_id=distinct_id,
                seq=seq,
                events=events,
            )
        stored += 1
    return stored
