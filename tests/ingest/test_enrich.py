from __future__ import annotations

import pytest

from tracking.ingest.enrich import geolocate, parse_user_agent

pytestmark = pytest.mark.django_db

CASES = [
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
        ("Safari", "iOS", "mobile"),
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
        ("Firefox", "Windows", "desktop"),
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
        ("Edge", "macOS", "desktop"),
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        ("Safari", "iOS", "tablet"),
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        ("Chrome", "Android", "mobile"),
    ),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", (None, None, "bot")),
]


@pytest.mark.parametrize(("ua", "expected"), CASES)
def test_user_agents_are_parsed_with_the_maintained_library(ua, expected):
    device = parse_user_agent(ua)
    browser, os_name, device_type = expected
    if browser:
        assert device.browser == browser
    if os_name:
        assert device.os == os_name
    assert device.device_type == device_type


def test_an_empty_user_agent_gives_nothing():
    assert parse_user_agent("").browser == ""


def test_geography_falls_back_to_the_time_zone():
    assert geolocate(ip="203.0.113.1", country_header=None, timezone_name="America/Sao_Paulo").country == "BR"
    assert geolocate(ip=None, country_header="XX", timezone_name="Asia/Tokyo").country == "JP"
    assert geolocate(ip=None, country_header=None, timezone_name="Nowhere/Land").country == ""
