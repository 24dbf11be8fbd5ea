"""Facts derived once per session at ingestion: browser, OS, device type, geography."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings


@dataclass(frozen=True)
class Device:
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    device_type: str = ""


@dataclass(frozen=True)
class Geo:
    country: str = ""
    region: str = ""
    city: str = ""


_BROWSER_NAMES = {
    "Mobile Safari": "Safari",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "HeadlessChrome": "Chrome",
    "Edge Mobile": "Edge",
    "Samsung Internet": "Samsung Internet",
}
_OS_NAMES = {"Mac OS X": "macOS", "Ubuntu": "Linux", "Fedora": "Linux", "Debian": "Linux"}
_TABLETS = ("iPad", "Tablet", "Kindle", "Nexus 7", "Nexus 9", "SM-T")


@functools.lru_cache(maxsize=20000)
def parse_user_agent(ua: str) -> Device:
    """Parse with ua-parser's maintained regexes; cached because user agents repeat a lot."""
    if not ua:
        return Device()
    from ua_parser import parse

    result = parse(ua[:1000])
    agent, os_, device = result.user_agent, result.os, result.device
    browser = _BROWSER_NAMES.get(agent.family, agent.family) if agent else ""
    os_name = _OS_NAMES.get(os_.family, os_.family) if os_ else ""
    if device and device.family == "Spider":
        device_type = "bot"
    elif any(marker in ua for marker in _TABLETS) or (os_name == "Android" and "Mobile" not in ua):
        device_type = "tablet"
    elif os_name in ("iOS", "Android") or "Mobile" in ua:
        device_type = "mobile"
    else:
        device_type = "desktop"
    return Device(
        browser=(browser or "")[:64] if browser != "Other" else "Other",
        browser_version=(agent.major or "")[:32] if agent else "",
        os=(os_name or "")[:64] if os_name != "Other" else "Other",
        os_version=".".join(p for p in (os_.major, os_.minor) if p)[:32] if os_ else "",
        device_type=device_type,
    )


@functools.lru_cache(maxsize=1)
def _geoip_reader():
    import geoip2.database

    return geoip2.database.Reader(settings.GEOIP_PATH)


@functools.lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """IANA time zone -> ISO country, from the system's tz database (zone.tab)."""
    mapping: dict[str, str] = {}
    for candidate in (Path("/usr/share/zoneinfo/zone.tab"), _tzdata_zone_tab()):
        if candidate and candidate.exists():
            for line in candidate.read_text().splitlines():
                if line and not line.startswith("#"):
                    parts = line.split("\t")
                    if len(parts) >= 3:
                        mapping[parts[2]] = parts[0]
            break
    return mapping


def _tzdata_zone_tab() -> Path | None:
    try:
        import tzdata
    except ImportError:
        return None
    return Path(tzdata.__file__).parent / "zoneinfo" / "zone.tab"


def geolocate(*, ip: str | None, country_header: str | None, timezone_name: str | None) -> Geo:
    """GeoIP database when configured; else a trusted proxy's country header; else the browser's time zone."""
    # A drained chunk asks for the same few answers thousands of times.
    return _geolocate(settings.GEOIP_PATH, ip, country_header, timezone_name)


@functools.lru_cache(maxsize=20000)
def _geolocate(
    geoip_path: str | None, ip: str | None, country_header: str | None, timezone_name: str | None
) -> Geo:
    if geoip_path and ip:
        try:
            city = _geoip_reader().city(ip)
        except Exception:
            city = None
        if city is not None:
            return Geo(
                country=(city.country.iso_code or "")[:2],
                region=(city.subdivisions.most_specific.name or "")[:100],
                city=(city.city.name or "")[:100],
            )
    if (
        country_header
        and len(country_header) == 2
        and country_header.isalpha()
        and country_header.upper() != "XX"
    ):
        return Geo(country=country_header.upper())
    if timezone_name:
        return Geo(country=_zone_countries().get(timezone_name, ""))
    return Geo()


def split_url(url: str) -> tuple[str, str]:
    """(url, path) trimmed to sane sizes; path is '' when the URL does not parse."""
    url = url[:2000]
    try:
        path = urlsplit(url).path or "/"
    except ValueError:
        path = ""
    return url, path[:1000]


def url_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "")[:255]
    except ValueError:
        return ""
