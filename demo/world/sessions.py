"""One visit as the snippet would have reported it: page views, clicks, custom events, in time order.

`SessionBuilder` is the only place events are made. It mirrors what the
snippet sends (page properties on every event, `$pageleave` with time on page
and scroll depth, `$rageclick` and `$dead_click` with the clicked element) and
what ingestion keeps (`$set`/`$set_once` lifted out of the properties; the
element chain, its text and link in their own columns), and it keeps the
session's counts exactly as `tracking.ingest.sessions` would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import orjson

from demo.world.campaigns import History
from demo.world.catalog import HOST, LIB_VERSION
from demo.world.chains import PAGES, TARGETS, Target
from demo.world.engagement import DAY
from demo.world.records import Batch, EventIds, SessionRow
from demo.world.world import DeviceUse, PersonProfile, Place

_dumps = orjson.dumps


@dataclass
class Actor:
    """A person while their history is written: who they appear as now, and what their events set."""

    profile: PersonProfile
    distinct_id: str
    company_index: int | None = None
    identified: bool = False
    properties: dict = field(default_factory=dict)
    distinct_ids: list[str] = field(default_factory=list)
    first_seen: float | None = None
    last_seen: float | None = None
    # (time, key, value, once) of every trait write: tracking.PersonTrait, as ingestion keeps it
    trait_writes: list[tuple[float, str, object, bool]] = field(default_factory=list)
    # what they did, for the decisions of later sessions
    tasks: int = 0
    projects: int = 0
    invites: int = 0
    failed_checkouts: int = 0
    asked_goal: bool = False
    answered_goal: bool = False
    answered_nps: bool = False
    # what decides their segments, for the team's nudges and flag
    history: History = field(default_factory=History)

    def __post_init__(self) -> None:
        self.distinct_ids.append(self.distinct_id)

    def apply(self, t: float, set_props: dict | None, set_once: dict | None) -> None:
        """`$set_once` then `$set`, in event order: what `tracking.ingest.persons.update_persons` leaves."""
        if set_once:
            for key, value in set_once.items():
                if not any(once and k == key for _, k, _, once in self.trait_writes):
                    self.trait_writes.append((t, key, value, True))
                self.properties.setdefault(key, value)
        if set_props:
            for key, value in set_props.items():
                last = next(
                    (v for _, k, v, once in reversed(self.trait_writes) if k == key and not once), None
                )
                if last is None or last != value:
                    self.trait_writes.append((t, key, value, False))
            self.properties.update(set_props)

    def switch_to(self, distinct_id: str) -> None:
        self.distinct_id = distinct_id
        if distinct_id not in self.distinct_ids:
            self.distinct_ids.append(distinct_id)


class SessionBuilder:
    """Events of one session, appended to `batch.events`; the session row on `finish()`."""

    def __init__(
        self,
        *,
        batch: Batch,
        ids: EventIds,
        rng: random.Random,
        actor: Actor,
        key: str,
        device: DeviceUse,
        place: Place,
        start: float,
    ) -> None:
        self.batch = batch
        self.ids = ids
        self.rng = rng
        self.actor = actor
        self.key = key
        self.device = device
        self.place = place
        self.t = start
        self.page = ""
        self.elements_page = ""
        self.url = ""
        self.path = ""
        self.page_props: dict = {}
        self.page_started = start
        self.scroll = 0
        width, height = device.screen
        chrome = 110 if device.is_desktop else 90
        self.screen_props = {
            "$host": HOST,
            "$screen_width": width,
            "$screen_height": height,
            "$viewport_width": width - (16 if device.is_desktop else 0),
            "$viewport_height": height - chrome,
            "$timezone": place.country.timezone,
            "$lib": "sightline-js",
            "$lib_version": LIB_VERSION,
        }
        self.started: float | None = None
        self.entry_url = ""
        self.referrer = ""
        self.events = self.pageviews = self.autocaptures = self.rageclicks = self.dead_clicks = 0

    # -- time --------------------------------------------------------------------------------
    def wait(self, low: float, high: float) -> None:
        self.t += low + (high - low) * self.rng.random()

    # -- the one way an event is made ----------------------------------------------------------
    def emit(self, name: str, extra: dict | None = None, target: Target | None = None) -> None:
        props = self.page_props if extra is None else {**self.page_props, **extra}
        if target is None:
            text = href = chain = ""
        else:
            text, href, chain = target.text, target.href, target.chain
        self.batch.events.append(
            (
                self.ids.next(),
                self.actor.profile.index,
                self.actor.distinct_id,
                self.key,
                name,
                self.t,
                self.url,
                self.path,
                text,
                href,
                chain,
                _dumps(props).decode(),
            )
        )
        if self.started is None:
            self.started = self.t
            self.referrer = props.get("$referrer", "")
        self.events += 1
        if name == "$autocapture":
            self.autocaptures += 1
        elif name == "$pageview":
            self.pageviews += 1
            if not self.entry_url:
                self.entry_url = self.url
        elif name == "$rageclick":
            self.rageclicks += 1
        elif name == "$dead_click":
            self.dead_clicks += 1

    # -- pages ---------------------------------------------------------------------------------
    def view(self, page: str, *, query: str = "", referrer: str = "") -> None:
        """A page view; `referrer` is the previous page (or the external site the visit came from)."""
        info = PAGES[page]
        self.page = page
        self.elements_page = "board" if page.startswith("board") else page
        self.url = info.url + query
        self.path = info.path
        self.page_props = {
            "$current_url": self.url,
            "$pathname": self.path,
            "$referrer": referrer,
            **self.screen_props,
        }
        self.page_started = self.t
        self.scroll = 0
        self.emit("$pageview")
        if page == "checkout":
            self.actor.history.viewed_checkout = True

    def scroll_to(self, depth: int) -> None:
        self.scroll = max(self.scroll, depth)

    def leave(self) -> None:
        if not self.page:
            return
        self.scroll_to(self.rng.randint(35, 100) if self.scroll == 0 else self.scroll)
        self.emit(
            "$pageleave",
            {"$time_on_page": round(self.t - self.page_started, 1), "$scroll_depth": self.scroll},
        )
        self.page = ""

    def target(self, name: str) -> Target:
        return TARGETS[(self.elements_page, name)]

    def click(self, name: str) -> None:
        self.emit("$autocapture", {"$event_type": "click"}, self.target(name))

    def change(self, name: str) -> None:
        self.emit("$autocapture", {"$event_type": "change"}, self.target(name))

    def submit(self, form: str) -> None:
        self.emit("$autocapture", {"$event_type": "submit"}, self.target(form))

    def go(self, name: str, page: str, *, query: str = "") -> None:
        """Click a link and load the next page."""
        self.click(name)
        self.wait(0.2, 1.2)
        self.navigate(page, query=query)

    def navigate(self, page: str, *, query: str = "") -> None:
        previous = self.url
        self.leave()
        self.wait(0.3, 1.5)
        self.view(page, query=query, referrer=previous)

    def dead_click(self, name: str) -> None:
        """A click the page did not answer: the snippet reports it 2.5 s later."""
        self.click(name)
        self.t += 2.5
        self.emit("$dead_click", None, self.target(name))

    def rage_click(self, name: str) -> None:
        """Three clicks within a second on the same element."""
        for _ in range(3):
            self.click(name)
            self.wait(0.15, 0.3)
        self.emit("$rageclick", None, self.target(name))

    # -- identity and custom events -------------------------------------------------------------
    def capture(self, name: str, props: dict | None = None) -> None:
        self.emit(name, props)

    def identify(self, *, set_props: dict, set_once: dict | None = None) -> None:
        """`sightline.identify(user_id, traits)`: the anonymous id joins the user."""
        anon = self.actor.distinct_id
        self.actor.switch_to(self.actor.profile.user_id)
        self.emit("$identify", {"$anon_distinct_id": anon})
        self.actor.identified = True
        self.actor.apply(self.t, set_props, set_once)

    def set_traits(self, name: str, props: dict, *, set_props: dict) -> None:
        """A custom event carrying `$set` (stored without it, applied to the person)."""
        self.emit(name, props)
        self.actor.apply(self.t, set_props, None)

    def group(self, key: str, traits: dict) -> None:
        self.emit("$groupidentify", {"$group_key": key, "$group_set": traits})

    # -- the end ---------------------------------------------------------------------------------
    def finish(self) -> float | None:
        """Close the session; returns its end time (None when nothing happened)."""
        self.leave()
        if self.started is None:
            return None
        device = self.device.device
        self.batch.sessions.append(
            SessionRow(
                session_key=self.key,
                person=self.actor.profile.index,
                started_at=self.started,
                ended_at=self.t,
                entry_url=self.entry_url,
                exit_url=self.url,
                referrer=self.referrer,
                event_count=self.events,
                pageview_count=self.pageviews,
                autocapture_count=self.autocaptures,
                rageclick_count=self.rageclicks,
                dead_click_count=self.dead_clicks,
                browser=device.browser,
                browser_version=self.device.browser_version,
                os=device.os,
                os_version=self.device.os_version,
                device_type=device.device_type,
                country=self.place.country.code,
                region=self.place.region,
                city=self.place.city,
            )
        )
        actor = self.actor
        actor.history.active_days.update((int(self.started // DAY), int(self.t // DAY)))
        if actor.first_seen is None or self.started < actor.first_seen:
            actor.first_seen = self.started
        if actor.last_seen is None or self.t > actor.last_seen:
            actor.last_seen = self.t
        return self.t
