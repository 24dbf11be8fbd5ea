"""Where a session came from: its campaign (UTM parameters) and referring site, and its paths.

Read from what every client already sends: the entry page's URL (`$current_url`
of the session's first page view) carries the UTM parameters in its query, and
its `$referrer` names the site the visitor came from. Parsing them here rather
than in the snippet serves the PostHog and Segment endpoints alike, and keeps
the snippet's payload as it is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from tracking.ingest.enrich import split_url, url_host

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
UTM_LENGTH = 200


@dataclass(frozen=True)
class Landing:
    entry_path: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    referrer_domain: str = ""


def url_path(url: str) -> str:
    """The path of a URL as events store it ('/' for none; '' for no URL or one that does not parse)."""
    return split_url(url)[1] if url else ""


def utm_parameters(url: str) -> dict[str, str]:
    """The UTM parameters of a URL's query (the first value of each, trimmed, without NULs), '' when absent."""
    try:
        query = parse_qs(urlsplit(url).query, keep_blank_values=False)
    except ValueError:
        query = {}
    # a percent-encoded NUL decodes to one, which PostgreSQL text cannot hold
    return {key: (query.get(key) or [""])[0].replace("\x00", "").strip()[:UTM_LENGTH] for key in UTM_KEYS}


def referrer_domain(referrer: str, entry_url: str) -> str:
    """The referring site's host, lowercased, without `www.`; '' for none and for the site itself.

    The site itself is the entry page's host (with or without `www.`): a referrer
    from the same site is a navigation inside the visit, not where it came from.
    """
    host = _bare(url_host(referrer)) if referrer else ""
    if not host or host == _bare(url_host(entry_url)):
        return ""
    return host


@functools.lru_cache(maxsize=8192)
def landing(entry_url: str, referrer: str) -> Landing:
    """A session's landing facts from its entry URL and referrer (cached: most visits share a few)."""
    return Landing(
        entry_path=url_path(entry_url),
        referrer_domain=referrer_domain(referrer, entry_url),
        **utm_parameters(entry_url),
    )


def _bare(host: str) -> str:
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host
