"""Bots, crawlers and automation, recognised from the user agent when a batch arrives.

The rule, in order:

1. Server-side and app traffic is never a bot. A caller that knows it serves
   server-side events (a server SDK endpoint, the management API) says so with
   `server_side=True`; otherwise a batch whose first event names a server or
   mobile SDK in `$lib` (`SERVER_LIBS`) is server-side.
2. No user agent, no verdict: a batch without one (neither the `$user_agent`
   property nor a User-Agent header) is not a bot.
3. Otherwise the user agent decides: it is a bot when it matches the
   maintained patterns of `crawler-user-agents` (crawlers, HTTP libraries such
   as Python-urllib and curl, headless and automated browsers) or one of
   `AUTOMATION_MARKERS`.
"""

from __future__ import annotations

import functools

import crawleruseragents

# `$lib` values of SDKs that run on servers or in apps, never in a crawler's browser:
# PostHog's and Segment's server and mobile libraries. Their HTTP clients (okhttp,
# Go-http-client, python-requests…) are in the crawler list, so they must be spared first.
SERVER_LIBS = frozenset(
    {
        "posthog-python",
        "posthog-node",
        "posthog-ruby",
        "posthog-go",
        "posthog-php",
        "posthog-java",
        "posthog-dotnet",
        "posthog-elixir",
        "posthog-rs",
        "posthog-android",
        "posthog-ios",
        "posthog-react-native",
        "posthog-flutter",
        "analytics-python",
        "analytics-node",
        "analytics-ruby",
        "analytics-go",
        "analytics-php",
        "analytics-java",
        "analytics-kotlin",
        "analytics-swift",
        "analytics-android",
        "analytics-ios",
        "analytics-react-native",
        "sightline-server",
    }
)

# Headless and scripted browsers the list may not name (it does name HeadlessChrome,
# PhantomJS, Puppeteer, Playwright and Selenium today).
AUTOMATION_MARKERS = ("HeadlessChrome", "PhantomJS", "SlimerJS", "jsdom/", "Cypress/")


@functools.lru_cache(maxsize=20000)
def user_agent_is_bot(user_agent: str) -> bool:
    """Whether a user agent belongs to a bot, crawler, HTTP library or automated browser."""
    if not user_agent:
        return False
    ua = user_agent[:1000]
    return any(marker in ua for marker in AUTOMATION_MARKERS) or crawleruseragents.is_crawler(ua)


def lib_is_server_side(lib: object) -> bool:
    return isinstance(lib, str) and lib.strip().lower() in SERVER_LIBS


def batch_is_bot(*, user_agent: str, lib: object = None, server_side: bool = False) -> bool:
    """The bot verdict for one batch (see the module docstring for the rule)."""
    if server_side or lib_is_server_side(lib):
        return False
    return user_agent_is_bot(user_agent)
