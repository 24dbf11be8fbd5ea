"""The fixed vocabulary of the demo world: names, industries, sizes, places, devices, goals.

Everything here is data, not behaviour: weights are relative, and every list
is a tuple so that a seeded `random.Random` walks it in the same order on
every run.
"""

from __future__ import annotations

from dataclasses import dataclass

from demo import site as demo_site

SITE = "https://tasklane.example"
HOST = "tasklane.example"
LIB_VERSION = "1.0.0"

FIRST_NAMES: tuple[str, ...] = (
    "Aisha", "Alex", "Amara", "Ana", "Andrea", "Arjun", "Ben", "Bianca", "Carlos", "Chen", "Chloe", "Daniel",
    "Dana", "David", "Elena", "Emeka", "Emma", "Fatima", "Felix", "Gabriel", "Grace", "Hana", "Hugo", "Ines",
    "Isaac", "Jamal", "James", "Jin", "Jonas", "Julia", "Kai", "Kavya", "Kenji", "Lara", "Leo", "Lina", "Lucas",
    "Maya", "Mateo", "Mei", "Mia", "Nadia", "Noah", "Nora", "Olivia", "Omar", "Pablo", "Priya", "Rafael", "Rosa",
    "Ruth", "Sam", "Sara", "Sofia", "Tariq", "Theo", "Tom", "Valentina", "Wei", "Yara", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Adeyemi", "Alvarez", "Andersson", "Bauer", "Becker", "Bianchi", "Brown", "Chen", "Costa", "Dubois", "Evans",
    "Fernandes", "Fischer", "Garcia", "Gupta", "Haddad", "Hansen", "Hughes", "Ito", "Jensen", "Johnson", "Kim",
    "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Martin", "Martins", "Mensah", "Meyer", "Moreau", "Murphy",
    "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Petrov", "Raman", "Rossi", "Santos", "Schmidt",
    "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Taylor", "Novotny", "Walker", "Wang", "Weber", "Whitfield",
    "Williams", "Wilson", "Yamamoto", "Zhang", "Zimmermann",
)  # fmt: skip

NAME_STEMS: tuple[str, ...] = (
    "Acorn", "Alder", "Amber", "Apex", "Arc", "Aster", "Bay", "Beacon", "Birch", "Bright", "Brook", "Cedar",
    "Clear", "Cobalt", "Copper", "Crest", "Delta", "Ember", "Fern", "Flint", "Fox", "Granite", "Harbor",
    "Hazel", "Helix", "Iris", "Juniper", "Keystone", "Lantern", "Linden", "Lumen", "Maple", "Meridian", "Mosaic",
    "North", "Oak", "Orbit", "Pine", "Prism", "Quarry", "Quill", "Raven", "Ridge", "River", "Sable", "Sage",
    "Sierra", "Slate", "Solstice", "Spruce", "Summit", "Tandem", "Thistle", "Tide", "Vale", "Vector", "Willow",
)  # fmt: skip
NAME_TAILS: tuple[str, ...] = ("", "", "", "field", "point", "stone", "way", "works", "line", "path", "gate", "wood")  # fmt: skip


@dataclass(frozen=True)
class Industry:
    name: str
    weight: float
    suffixes: tuple[str, ...]


INDUSTRIES: tuple[Industry, ...] = (
    Industry("Software", 22, ("Labs", "Software", "Systems", "Cloud", "Technologies")),
    Industry("Agency & marketing", 16, ("Studio", "Creative", "Agency", "Media", "Collective")),
    Industry("Consulting", 10, ("Partners", "Advisory", "Consulting", "Group")),
    Industry("Financial services", 8, ("Capital", "Finance", "Payments", "Financial")),
    Industry("Healthcare", 7, ("Health", "Care", "Medical", "Clinics")),
    Industry("Education", 7, ("Learning", "Academy", "Education", "School")),
    Industry("Retail & e-commerce", 9, ("Goods", "Market", "Supply", "Shop")),
    Industry("Manufacturing", 6, ("Manufacturing", "Industries", "Works", "Fabrication")),
    Industry("Logistics", 5, ("Logistics", "Freight", "Transport")),
    Industry("Non-profit", 4, ("Foundation", "Trust", "Initiative")),
    Industry("Construction", 6, ("Builders", "Construction", "Engineering")),
)

TOP_LEVEL_DOMAINS: tuple[str, ...] = ("com", "com", "com", "io", "co", "app", "dev", "net")
FREE_EMAIL_DOMAINS: tuple[str, ...] = ("gmail.com", "gmail.com", "outlook.com", "proton.me", "icloud.com", "yahoo.com")  # fmt: skip


@dataclass(frozen=True)
class SizeBand:
    """A company size band and what it means for how the company uses Tasklane.

    `team` is the mean number of people who end up in the product, `invites`
    the mean invitations a member sends, `pro` and `business` the chances of
    upgrading, `expand` the chance a new seat is bought when someone joins a
    paid workspace: larger companies expand more.
    """

    label: str
    weight: float
    employees: tuple[int, int]
    revenue: tuple[tuple[str, float], ...]
    team: float
    invites: float
    pro: float
    business: float
    expand: float


SIZE_BANDS: tuple[SizeBand, ...] = (
    SizeBand("1-10", 34, (2, 10), (("<$1M", 8), ("$1M-$10M", 2)), 1.4, 0.35, 0.4, 0.02, 0.15),
    SizeBand("11-50", 30, (11, 50), (("<$1M", 2), ("$1M-$10M", 7), ("$10M-$50M", 1)), 2.2, 0.8, 0.55, 0.06, 0.3),
    SizeBand("51-200", 18, (51, 200), (("$1M-$10M", 3), ("$10M-$50M", 6), ("$50M-$250M", 1)), 3.4, 1.4, 0.65, 0.18, 0.5),
    SizeBand("201-1000", 11, (201, 1000), (("$10M-$50M", 4), ("$50M-$250M", 5), ("$250M+", 1)), 4.8, 2.0, 0.72, 0.35, 0.65),
    SizeBand("1000+", 7, (1001, 25000), (("$50M-$250M", 3), ("$250M+", 7)), 6.5, 2.8, 0.78, 0.5, 0.8),
)  # fmt: skip
assert tuple(band.label for band in SIZE_BANDS) == demo_site.COMPANY_SIZES

ROLES: tuple[tuple[str, float], ...] = (
    ("Engineering", 18), ("Product", 14), ("Design", 10), ("Marketing", 14), ("Operations", 12),
    ("Project management", 14), ("Sales", 6), ("Customer success", 6), ("Founder", 6),
)  # fmt: skip
SENIORITIES: tuple[tuple[str, float], ...] = (
    ("Individual contributor", 45), ("Team lead", 22), ("Manager", 18), ("Director", 10), ("Executive", 5),
)  # fmt: skip
AGE_BANDS: tuple[tuple[str, float], ...] = (("18-24", 8), ("25-34", 40), ("35-44", 30), ("45-54", 15), ("55+", 7))  # fmt: skip

# Goals of the onboarding survey; each drives which features a person adopts (see journeys.GOAL_HABITS).
GOALS: tuple[str, ...] = ("plan projects", "track time", "collaborate with clients", "replace spreadsheets")
GOAL_WEIGHTS: tuple[float, ...] = (35, 22, 20, 23)


@dataclass(frozen=True)
class Source:
    """How a visitor arrived: the `signup_source` trait and the first page's referrer."""

    key: str
    weight: float
    referrer: str
    query: str = ""


SOURCES: tuple[Source, ...] = (
    Source("organic search", 30, "https://www.google.com/"),
    Source("paid search", 12, "https://www.google.com/", "?utm_source=google&utm_medium=cpc&utm_campaign=boards"),
    Source("direct", 16, ""),
    Source("referral", 10, "https://www.g2.com/products/tasklane/reviews"),
    Source("linkedin", 9, "https://www.linkedin.com/", "?utm_source=linkedin&utm_medium=social"),
    Source("product hunt", 5, "https://www.producthunt.com/posts/tasklane"),
    Source("newsletter", 8, "", "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly"),
    Source("bing", 4, "https://www.bing.com/"),
    Source("hacker news", 6, "https://news.ycombinator.com/"),
)  # fmt: skip
INVITE_REFERRER = "https://mail.google.com/"


@dataclass(frozen=True)
class Country:
    code: str
    weight: float
    timezone: str
    utc_offset: float  # hours; standard time is close enough for when people work
    places: tuple[tuple[str, str], ...] = ()  # (region, city) where a GeoIP database would tell


COUNTRIES: tuple[Country, ...] = (
    Country("US", 30, "America/New_York", -5, (
        ("New York", "New York"), ("California", "San Francisco"), ("California", "Los Angeles"),
        ("Texas", "Austin"), ("Illinois", "Chicago"), ("Washington", "Seattle"), ("Massachusetts", "Boston"),
        ("Colorado", "Denver"), ("Georgia", "Atlanta"),
    )),
    Country("GB", 9, "Europe/London", 0, (("England", "London"), ("England", "Manchester"), ("Scotland", "Edinburgh"))),
    Country("DE", 8, "Europe/Berlin", 1, (("Berlin", "Berlin"), ("Bavaria", "Munich"), ("Hamburg", "Hamburg"))),
    Country("CA", 5, "America/Toronto", -5, (("Ontario", "Toronto"), ("British Columbia", "Vancouver"), ("Quebec", "Montreal"))),
    Country("FR", 5, "Europe/Paris", 1, (("Île-de-France", "Paris"), ("Auvergne-Rhône-Alpes", "Lyon"))),
    Country("IN", 6, "Asia/Kolkata", 5.5),
    Country("BR", 4, "America/Sao_Paulo", -3),
    Country("NL", 3, "Europe/Amsterdam", 1, (("North Holland", "Amsterdam"), ("South Holland", "Rotterdam"))),
    Country("AU", 3, "Australia/Sydney", 10, (("New South Wales", "Sydney"), ("Victoria", "Melbourne"))),
    Country("ES", 3, "Europe/Madrid", 1),
    Country("SE", 2, "Europe/Stockholm", 1),
    Country("PL", 2, "Europe/Warsaw", 1),
    Country("MX", 2, "America/Mexico_City", -6),
    Country("JP", 2, "Asia/Tokyo", 9),
    Country("IE", 1.5, "Europe/Dublin", 0),
    Country("SG", 1.5, "Asia/Singapore", 8),
    Country("ZA", 1, "Africa/Johannesburg", 2),
    Country("NG", 1, "Africa/Lagos", 1),
)  # fmt: skip


@dataclass(frozen=True)
class Device:
    """One browser on one OS on one kind of device, as ingestion parses it from a user agent."""

    browser: str
    browser_versions: tuple[str, ...]
    os: str
    os_versions: tuple[str, ...]
    device_type: str
    screens: tuple[tuple[int, int], ...]
    weight: float


_DESKTOP_SCREENS = ((1920, 1080), (1440, 900), (1536, 864), (2560, 1440), (1366, 768), (1680, 1050))
_MAC_SCREENS = ((1440, 900), (1512, 982), (1728, 1117), (2560, 1440), (1920, 1080))
_PHONE_SCREENS = ((390, 844), (393, 852), (412, 915), (375, 667), (430, 932))
_TABLET_SCREENS = ((820, 1180), (810, 1080), (1024, 1366), (800, 1280))

DEVICES: tuple[Device, ...] = (
    Device("Chrome", ("129", "130", "131"), "Windows", ("10", "11"), "desktop", _DESKTOP_SCREENS, 30),
    Device("Chrome", ("129", "130", "131"), "macOS", ("14.6", "15.1"), "desktop", _MAC_SCREENS, 14),
    Device("Safari", ("17", "18"), "macOS", ("14.6", "15.1"), "desktop", _MAC_SCREENS, 22),
    Device("Edge", ("129", "130", "131"), "Windows", ("10", "11"), "desktop", _DESKTOP_SCREENS, 10),
    Device("Firefox", ("131", "132"), "Windows", ("10", "11"), "desktop", _DESKTOP_SCREENS, 4),
    Device("Firefox", ("131", "132"), "macOS", ("14.6", "15.1"), "desktop", _MAC_SCREENS, 2),
    Device("Firefox", ("131", "132"), "Linux", ("",), "desktop", _DESKTOP_SCREENS, 2),
    Device("Chrome", ("130", "131"), "Linux", ("",), "desktop", _DESKTOP_SCREENS, 2),
    Device("Safari", ("17", "18"), "iOS", ("17.6", "18.1"), "mobile", _PHONE_SCREENS, 9),
    Device("Chrome", ("130", "131"), "Android", ("13", "14"), "mobile", _PHONE_SCREENS, 6),
    Device("Chrome", ("130", "131"), "iOS", ("17.6", "18.1"), "mobile", _PHONE_SCREENS, 2),
    Device("Safari", ("17", "18"), "iOS", ("17.6", "18.1"), "tablet", _TABLET_SCREENS, 2),
    Device("Chrome", ("130", "131"), "Android", ("13", "14"), "tablet", _TABLET_SCREENS, 1),
)

DESKTOP_DEVICES = tuple(d for d in DEVICES if d.device_type == "desktop")
HANDHELD_DEVICES = tuple(d for d in DEVICES if d.device_type != "desktop")

# The browser whose checkout breaks in the last REGRESSION_DAYS days (a planted bug to find).
REGRESSION_BROWSER = "Safari"
REGRESSION_DAYS = 14
CHECKOUT_FAILURE = 0.04  # the baseline: a declined card, a typo, a timeout
REGRESSION_FAILURE = 0.8

PLAN_PRICES = {plan.key: plan.monthly for plan in demo_site.PLANS}
ANNUAL_PRICES = {plan.key: plan.annual for plan in demo_site.PLANS}
