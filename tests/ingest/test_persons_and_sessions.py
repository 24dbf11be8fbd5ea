"""Person resolution, identify merges, traits, companies and sessions at ingestion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.ingest.conftest import event
from tracking.models import Company, Event, Person, PersonDistinctId, PersonTouch, Session

pytestmark = pytest.mark.django_db


def _person(distinct_id: str) -> Person:
    return PersonDistinctId.objects.select_related("person").get(distinct_id=distinct_id).person


def test_a_new_distinct_id_creates_one_person(send):
    send([event(distinct_id="a"), event(distinct_id="a"), event(distinct_id="b")])
    assert Person.objects.count() == 2
    assert _person("a").events.count() == 2


def test_identify_links_the_anonymous_person_to_the_user(send):
    send([event(distinct_id="anon")])
    send([event("$identify", "user-1", **{"$anon_distinct_id": "anon", "$set": {"email": "u@x.io"}})])
    person = _person("user-1")
    assert person == _person("anon")
    assert person.is_identified
    assert person.properties == {"email": "u@x.io"}
    assert Person.objects.count() == 1


def test_identify_merges_an_anonymous_person_into_a_known_user(send):
    t0 = datetime.now(UTC) - timedelta(hours=2)
    send(
        [
            event(
                distinct_id="user-1",
                session_id="s-old",
                timestamp=t0.isoformat(),
                **{"$set": {"plan": "pro"}},
            )
        ]
    )
    send(
        [event("$identify", "user-1", session_id="s-old", **{"$anon_distinct_id": "x"})]
    )  # user is identified
    send([event(distinct_id="anon", session_id="s-new", **{"$set": {"plan": "free", "source": "ad"}})])
    send([event("$identify", "user-1", session_id="s-new", **{"$anon_distinct_id": "anon"})])
    user = _person("user-1")
    assert _person("anon") == user
    assert Person.objects.count() == 1
    # the anonymous person's events and sessions followed
    assert set(Event.objects.values_list("person_id", flat=True)) == {user.pk}
    assert set(Session.objects.values_list("person_id", flat=True)) == {user.pk}
    # the user's own traits win, the anonymous ones fill the gaps; first_seen is the earliest
    assert user.properties == {"plan": "pro", "source": "ad"}
    assert abs((user.first_seen - t0).total_seconds()) < 1


def test_two_identified_people_are_never_merged(send):
    send([event("$identify", "alice", **{"$anon_distinct_id": "device"})])
    send([event("$identify", "bob", **{"$anon_distinct_id": "device"})])
    assert _person("alice") != _person("bob")


def test_identify_in_the_same_batch_as_anonymous_events(send):
    send(
        [
            event(distinct_id="anon"),
            event("$identify", "u", **{"$anon_distinct_id": "anon"}),
            event(distinct_id="u"),
        ]
    )
    assert Person.objects.count() == 1
    assert Event.objects.values("person_id").distinct().count() == 1


def test_set_once_keeps_the_first_value_and_set_the_last(send):
    t = datetime.now(UTC)
    send(
        [
            event(
                distinct_id="a",
                timestamp=(t - timedelta(seconds=3)).isoformat(),
                **{"$set": {"plan": "free"}, "$set_once": {"source": "ad"}},
            ),
            event(
                distinct_id="a",
                timestamp=(t - timedelta(seconds=2)).isoformat(),
                **{"$set": {"plan": "pro"}, "$set_once": {"source": "seo"}},
            ),
        ]
    )
    send([event(distinct_id="a", **{"$set_once": {"source": "later"}})])
    assert _person("a").properties == {"plan": "pro", "source": "ad"}
    assert "$set" not in Event.objects.first().properties


def test_group_identify_creates_a_company_and_links_the_person(send):
    send(
        [
            event(
                "$groupidentify",
                "a",
                **{"$group_key": "acme", "$group_set": {"industry": "retail", "size": "51-200"}},
            )
        ]
    )
    send([event("$groupidentify", "a", **{"$group_key": "acme", "$group_set": {"plan": "enterprise"}})])
    company = Company.objects.get(key="acme")
    assert company.properties == {"industry": "retail", "size": "51-200", "plan": "enterprise"}
    assert _person("a").company == company


def test_sessions_collect_technographic_facts_and_counts(send):
    t = datetime.now(UTC) - timedelta(minutes=10)
    send(
        [
            event(
                "$pageview",
                session_id="s",
                timestamp=t.isoformat(),
                **{
                    "$current_url": "https://a.test/",
                    "$timezone": "Europe/Paris",
                    "$referrer": "https://google.com/",
                },
            ),
            event(
                "$autocapture",
                session_id="s",
                timestamp=(t + timedelta(minutes=1)).isoformat(),
                **{"$current_url": "https://a.test/"},
            ),
            event(
                "$pageview",
                session_id="s",
                timestamp=(t + timedelta(minutes=2)).isoformat(),
                **{"$current_url": "https://a.test/pricing"},
            ),
        ]
    )
    send(
        [
            event(
                "$rageclick",
                session_id="s",
                timestamp=(t + timedelta(minutes=3)).isoformat(),
                **{"$current_url": "https://a.test/pricing"},
            )
        ]
    )
    session = Session.objects.get()
    assert (
        session.event_count,
        session.pageview_count,
        session.autocapture_count,
        session.rageclick_count,
    ) == (4, 2, 1, 1)
    assert session.entry_url == "https://a.test/"
    assert session.exit_url == "https://a.test/pricing"
    assert session.referrer == "https://google.com/"
    assert (session.browser, session.os, session.device_type) == ("Chrome", "Linux", "desktop")
    assert session.country == "FR"  # from the browser's time zone: no GeoIP database configured
    assert session.duration_seconds == 180
    assert session.ip is None  # the project does not store addresses


def test_the_ip_is_stored_only_when_the_project_opts_in(send, project):
    project.ip_handling = "store"
    project.save()
    from tracking.ingest.http import forget_project_cache

    forget_project_cache()
    send([event()], headers={"REMOTE_ADDR": "203.0.113.9"})
    assert Session.objects.get().ip == "203.0.113.9"


def test_a_trusted_country_header_wins_over_the_time_zone(send, settings):
    settings.GEO_COUNTRY_HEADER = "CF-IPCountry"
    send([event(**{"$timezone": "Europe/Paris"})], headers={"HTTP_CF_IPCOUNTRY": "de"})
    assert Session.objects.get().country == "DE"


def test_touched_persons_are_recorded_for_the_segment_refresher(send, project):
    send([event(distinct_id="a"), event(distinct_id="b")])
    assert PersonTouch.objects.filter(project=project).count() == 2


def test_autocapture_elements_become_the_stored_chain(send):
    send(
        [
            event(
                "$autocapture",
                **{
                    "$event_type": "click",
                    "$elements": [
                        {"tag": "span", "text": "Start trial"},
                        {
                            "tag": "a",
                            "id": "cta",
                            "classes": ["btn", "btn-primary"],
                            "attrs": {"href": "/signup", "onclick": "x()"},
                            "nth_child": 2,
                        },
                        {"tag": "body"},
                    ],
                },
            )
        ]
    )
    stored = Event.objects.get()
    from tracking.elements import decode

    chain = decode(stored.elements_chain)
    assert [e["tag"] for e in chain] == ["span", "a", "body"]
    assert chain[1] == {
        "tag": "a",
        "id": "cta",
        "classes": ["btn", "btn-primary"],
        "nth_child": 2,
        "attrs": {"href": "/signup"},
    }
    assert (stored.el_text, stored.href) == ("Start trial", "/signup")
    assert "$elements" not in stored.properties


def test_a_known_user_on_a_new_device_takes_its_anonymous_id(send):
    send([event(distinct_id="user-1")])
    send([event("$identify", "user-1", **{"$anon_distinct_id": "new-device"})])
    send([event(distinct_id="new-device")])
    assert _person("new-device") == _person("user-1")
    assert Person.objects.count() == 1
