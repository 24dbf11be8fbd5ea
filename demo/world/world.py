"""The world model: Tasklane's customers (companies) and the people who use it.

The world is generated unit by unit — a company with its team, a solo user,
or an anonymous visitor who never signs up — each from its own
`random.Random`, seeded by the world seed and the unit's index. Only names
that must stay unique (domains, e-mail addresses, user numbers) depend on the
units before, and those are always generated in the same order.
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from demo.world import catalog
from demo.world.catalog import Country, Device, Industry, SizeBand, Source

T = TypeVar("T")


class Weighted(Generic[T]):
    """A weighted choice with precomputed cumulative weights (rng.choices recomputes them per call)."""

    def __init__(self, items: Sequence[T], weights: Sequence[float]) -> None:
        self.items = tuple(items)
        self.cumulative = tuple(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def weighted_pairs(pairs: Sequence[tuple[T, float]]) -> Weighted[T]:
    return Weighted([item for item, _ in pairs], [weight for _, weight in pairs])


INDUSTRY = Weighted(catalog.INDUSTRIES, [i.weight for i in catalog.INDUSTRIES])
SIZE = Weighted(catalog.SIZE_BANDS, [b.weight for b in catalog.SIZE_BANDS])
COUNTRY = Weighted(catalog.COUNTRIES, [c.weight for c in catalog.COUNTRIES])
DEVICE = Weighted(catalog.DEVICES, [d.weight for d in catalog.DEVICES])
DESKTOP = Weighted(catalog.DESKTOP_DEVICES, [d.weight for d in catalog.DESKTOP_DEVICES])
HANDHELD = Weighted(catalog.HANDHELD_DEVICES, [d.weight for d in catalog.HANDHELD_DEVICES])
SOURCE = Weighted(catalog.SOURCES, [s.weight for s in catalog.SOURCES])
ROLE = weighted_pairs(catalog.ROLES)
SENIORITY = weighted_pairs(catalog.SENIORITIES)
AGE = weighted_pairs(catalog.AGE_BANDS)
GOAL = Weighted(catalog.GOALS, catalog.GOAL_WEIGHTS)
REVENUE = {band.label: weighted_pairs(band.revenue) for band in catalog.SIZE_BANDS}

# Unit kinds, weighted so that roughly 70% of persons belong to a company,
# 12% use Tasklane alone and 18% only ever visit anonymously.
UNIT_KINDS = Weighted(("company", "solo", "visitor"), (0.42, 0.2, 0.38))


@dataclass(frozen=True)
class DeviceUse:
    """A device as one person uses it: versions and screen fixed for that person."""

    device: Device
    browser_version: str
    os_version: str
    screen: tuple[int, int]

    @property
    def browser(self) -> str:
        return self.device.browser

    @property
    def is_desktop(self) -> bool:
        return self.device.device_type == "desktop"


def device_use(rng: random.Random, device: Device) -> DeviceUse:
    return DeviceUse(
        device=device,
        browser_version=rng.choice(device.browser_versions),
        os_version=rng.choice(device.os_versions),
        screen=rng.choice(device.screens),
    )


@dataclass(frozen=True)
class Place:
    country: Country
    region: str = ""
    city: str = ""


def place_in(rng: random.Random, country: Country) -> Place:
    if country.places:
        region, city = rng.choice(country.places)
        return Place(country, region, city)
    return Place(country)


@dataclass
class CompanyProfile:
    index: int
    key: str
    name: str
    domain: str
    industry: Industry
    band: SizeBand
    employees: int
    revenue_band: str
    country: Country

    def traits(self) -> dict:
        """Firmographic traits as the product sends them with `group()`."""
        return {
            "name": self.name,
            "domain": self.domain,
            "industry": self.industry.name,
            "size_band": self.band.label,
            "employees": self.employees,
            "revenue_band": self.revenue_band,
            "country": self.country.code,
        }


@dataclass
class PersonProfile:
    """Who someone is, independently of what they do."""

    index: int
    anon_id: str
    place: Place
    device: DeviceUse
    source: Source
    goal: str
    company: CompanyProfile | None = None
    user_id: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    role: str = ""
    seniority: str = ""
    age_band: str = ""
    second_device: DeviceUse | None = None
    second_anon_id: str = ""

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def traits(self) -> dict:
        """Demographic traits as the product sends them with `identify()`."""
        traits = {
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "seniority": self.seniority,
            "age_band": self.age_band,
        }
        if self.company is not None:
            traits["company"] = self.company.name
        return traits


@dataclass
class Unit:
    """A company and its team, a solo user, or a visitor; generated from its own random stream."""

    index: int
    kind: str
    rng: random.Random
    company: CompanyProfile | None = None
    people: list[PersonProfile] = field(default_factory=list)


def random_id(rng: random.Random) -> str:
    """A UUID-shaped id like the snippet's (deterministic: drawn from the unit's stream)."""
    value = rng.getrandbits(128)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"


_SLUG = re.compile(r"[^a-z0-9]+")


class Directory:
    """Names already handed out in this world: company domains and e-mail addresses stay unique."""

    def __init__(self) -> None:
        self.domains: set[str] = set()
        self.emails: set[str] = set()

    def domain(self, rng: random.Random, name: str) -> str:
        slug = _SLUG.sub("", name.lower())
        for attempt in itertools.count():
            tld = rng.choice(catalog.TOP_LEVEL_DOMAINS)
            candidate = f"{slug}.{tld}" if attempt < 4 else f"{slug}{attempt - 2}.{tld}"
            if candidate not in self.domains:
                self.domains.add(candidate)
                return candidate
        raise AssertionError("unreachable")

    def email(self, rng: random.Random, first: str, last: str, domain: str | None) -> str:
        local = f"{first}.{last}".lower().replace(" ", "")
        for attempt in itertools.count():
            if domain is None:
                candidate = f"{local}{rng.randint(1, 999) if attempt or rng.random() < 0.6 else ''}@{rng.choice(catalog.FREE_EMAIL_DOMAINS)}"
            else:
                candidate = f"{local}{attempt + 1 if attempt else ''}@{domain}"
            if candidate not in self.emails:
                self.emails.add(candidate)
                return candidate
        raise AssertionError("unreachable")


def company_profile(rng: random.Random, index: int, directory: Directory) -> CompanyProfile:
    industry = INDUSTRY.pick(rng)
    band = SIZE.pick(rng)
    stem = rng.choice(catalog.NAME_STEMS) + rng.choice(catalog.NAME_TAILS)
    name = f"{stem} {rng.choice(industry.suffixes)}"
    domain = directory.domain(rng, stem if rng.random() < 0.6 else name)
    low, high = band.employees
    # Sizes within a band skew small, as real company sizes do.
    employees = int(low + (high - low) * rng.random() ** 2.2)
    return CompanyProfile(
        index=index,
        key=domain,
        name=name,
        domain=domain,
        industry=industry,
        band=band,
        employees=employees,
        revenue_band=REVENUE[band.label].pick(rng),
        country=COUNTRY.pick(rng),
    )


def _primary_device(rng: random.Random, *, at_work: bool) -> DeviceUse:
    # People evaluating a B2B tool do it at a desk; anonymous visitors browse on anything.
    if at_work:
        return device_use(rng, DESKTOP.pick(rng) if rng.random() < 0.86 else HANDHELD.pick(rng))
    return device_use(rng, DEVICE.pick(rng))


def person_profile(
    rng: random.Random,
    index: int,
    directory: Directory,
    *,
    company: CompanyProfile | None,
    user_number: int | None,
) -> PersonProfile:
    """A person; `user_number` None makes an anonymous visitor with no traits."""
    country = company.country if company is not None and rng.random() < 0.85 else COUNTRY.pick(rng)
    person = PersonProfile(
        index=index,
        anon_id=random_id(rng),
        place=place_in(rng, country),
        device=_primary_device(rng, at_work=user_number is not None),
        source=SOURCE.pick(rng),
        goal=GOAL.pick(rng),
        company=company,
    )
    if user_number is None:
        return person
    person.user_id = f"tl-user-{user_number:07d}"
    person.first_name = rng.choice(catalog.FIRST_NAMES)
    person.last_name = rng.choice(catalog.LAST_NAMES)
    person.email = directory.email(
        rng, person.first_name, person.last_name, company.domain if company else None
    )
    person.role = ROLE.pick(rng)
    person.seniority = SENIORITY.pick(rng)
    person.age_band = AGE.pick(rng)
    if rng.random() < 0.25:
        person.second_device = device_use(
            rng, HANDHELD.pick(rng) if person.device.is_desktop else DESKTOP.pick(rng)
        )
        person.second_anon_id = random_id(rng)
    return person


def team_size(rng: random.Random, company: CompanyProfile) -> int:
    """How many of the company's people end up in Tasklane (before the period ends)."""
    extra = company.band.team - 1
    size = 1
    # geometric-like growth: each further member with a chance that keeps the mean near `team`
    keep = extra / (extra + 1)
    while rng.random() < keep and size < company.employees:
        size += 1
    return size


class Population:
    """Units in index order until `persons` persons exist; the last unit may be cut short."""

    def __init__(self, *, seed: int, persons: int) -> None:
        self.seed = seed
        self.persons = persons
        self.directory = Directory()

    def units(self) -> Iterator[Unit]:
        made = 0
        users = 0
        for index in itertools.count():
            if made >= self.persons:
                return
            rng = random.Random(f"sightline-demo:{self.seed}:{index}")
            kind = UNIT_KINDS.pick(rng)
            unit = Unit(index=index, kind=kind, rng=rng)
            if kind == "company":
                unit.company = company_profile(rng, index, self.directory)
                size = min(team_size(rng, unit.company), self.persons - made)
            else:
                size = 1
            for _ in range(size):
                number = None
                if kind != "visitor":
                    users += 1
                    number = users
                unit.people.append(
                    person_profile(rng, made, self.directory, company=unit.company, user_number=number)
                )
                made += 1
            yield unit
