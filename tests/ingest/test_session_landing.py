"""A session's landing facts: UTM parameters and referring site of its first page view, its paths."""

from __future__ import annotations

import importlib
import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.ingest.conftest import event
from tracking.ingest.landing import landing, referrer_domain
from tracking.models import Person, Session

pytestmark = pytest.mark.django_db

T = datetime.now(UTC) - timedelta(hours=1)


def _at(minutes: int) -> str:
    return (T + timedelta(minutes=minutes)).isoformat()


def test_the_first_page_view_gives_the_campaign_referrer_and_entry_path(send):
    response = send(
        [
            event(
                timestamp=_at(0),
                **{
                    "$current_url": "https://shop.test/pricing?utm_source=newsletter&utm_medium=email"
                    "&utm_campaign=spring+sale&utm_term=boots&utm_content=hero",
                    "$referrer": "https://WWW.Mail.Example.com/inbox?x=1",
                },
            ),
            event(
                timestamp=_at(2),
                **{
                    "$current_url": "https://shop.test/checkout?utm_source=other",
                    "$referrer": "https://shop.test/",
                },
            ),
        ]
    )
    assert response.status_code == 200
    session = Session.objects.get()
    assert (session.utm_source, session.utm_medium, session.utm_campaign) == (
        "newsletter",
        "email",
        "spring sale",
    )
    assert (session.utm_term, session.utm_content) == ("boots", "hero")
    assert session.referrer_domain == "mail.example.com"
    assert (session.entry_path, session.exit_path) == ("/pricing", "/checkout")


def test_a_later_batch_extends_the_exit_and_keeps_the_landing(send):
    send([event(timestamp=_at(0), **{"$current_url": "https://shop.test/?utm_source=ads", "$referrer": ""})])
    send(
        [
            event(
                timestamp=_at(5),
                **{
                    "$current_url": "https://shop.test/docs/start?utm_source=x",
                    "$referrer": "https://shop.test/",
                },
            )
        ]
    )
    session = Session.objects.get()
    assert (session.entry_path, session.exit_path, session.utm_source) == ("/", "/docs/start", "ads")
    assert session.referrer_domain == ""  # a direct visit; the second referrer is the site itself


def test_an_earlier_page_view_arriving_late_moves_the_landing(send):
    send([event(timestamp=_at(5), **{"$current_url": "https://shop.test/b", "$referrer": ""})])
    send(
        [
            event(
                timestamp=_at(0),
                **{"$current_url": "https://shop.test/a?utm_source=news&utm_campaign=c1", "$referrer": ""},
            )
        ]
    )
    session = Session.objects.get()
    assert (session.entry_path, session.exit_path) == ("/a", "/b")
    assert (session.utm_source, session.utm_medium, session.utm_campaign) == ("news", "", "c1")


def test_a_session_without_urls_has_empty_landing_facts(send):
    send([event("signed_up")])
    session = Session.objects.get()
    assert (session.entry_path, session.exit_path, session.utm_source, session.referrer_domain) == (
        "",
        "",
        "",
        "",
    )


def test_the_referrer_domain_ignores_the_site_itself_and_bad_urls():
    assert referrer_domain("https://www.google.com/search", "https://a.test/") == "google.com"
    assert referrer_domain("https://www.a.test/x", "https://a.test/") == ""
    assert referrer_domain("https://a.test/x", "https://www.A.test/") == ""
    assert referrer_domain("", "https://a.test/") == ""
    assert referrer_domain("http://[bad", "https://a.test/") == ""
    assert referrer_domain("android-app://com.slack", "") == "com.slack"
    assert landing("https://a.test/p?utm_source=%20mail%20&utm_source=second", "").utm_source == "mail"
    assert landing("not a url", "").entry_path == "not a url"


def test_a_percent_encoded_nul_in_a_campaign_is_dropped_not_a_server_error(send):
    response = send([event(**{"$current_url": "https://shop.test/?utm_source=news%00letter&utm_term=%ff"})])
    assert response.status_code == 200
    session = Session.objects.get()
    assert (session.utm_source, session.utm_term) == ("newsletter", "\ufffd")


def test_the_migration_fills_sessions_stored_before_it(project):
    from django.apps import apps

    migration = importlib.import_module("tracking.migrations.0013_session_landing")
    person = Person.objects.create(project=project, first_seen=T, last_seen=T)
    stored = Session.objects.create(
        project=project, person=person, session_key="old", started_at=T, ended_at=T,
        entry_url="https://shop.test/in?utm_medium=cpc", exit_url="https://shop.test/out",
        referrer="https://news.example/",
    )  # fmt: skip
    bare = Session.objects.create(
        project=project, person=person, session_key="bare", started_at=T, ended_at=T
    )
    migration.fill_landing(apps, None)
    stored.refresh_from_db()
    bare.refresh_from_db()
    assert (stored.entry_path, stored.exit_path, stored.utm_medium) == ("/in", "/out", "cpc")
    assert stored.referrer_domain == "news.example"
    assert (bare.entry_path, bare.referrer_domain) == ("", "")


def _incompressible(length: int, seed: int) -> str:
    """4-byte UTF-8 characters at random: PostgreSQL compresses index entries, so repeated ones would fit anyway."""
    rng = random.Random(seed)
    return "".join(chr(0x10000 + rng.randrange(50_000)) for _ in range(length))


def test_the_longest_session_facts_fit_the_covering_index(project, send):
    """session_project_started includes the facts conditions filter on; a btree entry holds at most
    2,704 bytes, so every included text column at its length limit in 4-byte characters must still fit."""
    source, medium = _incompressible(250, 1), _incompressible(250, 2)
    url = f"https://shop.test/?utm_source={source}&utm_medium={medium}"  # as a browser may send it
    response = send([event(**{"$current_url": url})])
    assert response.status_code == 200 and response.json()["accepted"] == 1
    session = Session.objects.get()
    assert (session.utm_source, session.utm_medium) == (source[:200], medium[:200])
    person = Person.objects.create(project=project, first_seen=T, last_seen=T)
    limits = {f.name: f.max_length for f in Session._meta.fields if f.name in _COVERED_TEXT}
    Session.objects.create(
        project=project, person=person, session_key="widest", started_at=T, ended_at=T,
        **{name: _incompressible(length, seed) for seed, (name, length) in enumerate(limits.items())},
    )  # fmt: skip
    assert Session.objects.filter(session_key="widest").exists()


_COVERED_TEXT = {"browser", "os", "device_type", "country", "utm_source", "utm_medium"}


def test_the_covering_index_includes_what_the_test_above_fills():
    index = next(i for i in Session._meta.indexes if i.name == "session_project_started")
    assert {*index.include} - {"person", "ended_at", "pageview_count"} == _COVERED_TEXT
