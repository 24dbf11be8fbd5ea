"""Seeded rows are what ingestion would have left: persons, distinct ids, sessions, companies agree with the events."""

from __future__ import annotations

import orjson
import pytest
from django.db import connection

from demo.world.chains import TARGETS
from tracking import elements

pytestmark = pytest.mark.django_db


def _one(sql: str, params: list):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _all(sql: str, params: list) -> list[tuple]:
    """Rows with JSON columns decoded (Django's cursor hands jsonb over as text)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(_json(value) for value in row) for row in cursor.fetchall()]


def _json(value):
    if isinstance(value, str) and value[:1] in ("{", "["):
        return orjson.loads(value)
    return value


def test_every_person_has_events_and_first_and_last_seen_are_their_first_and_last_event(world):
    [mismatched] = _one(
        """
        SELECT count(*) FROM tracking_person p
        LEFT JOIN (SELECT person_id, min(timestamp) AS first, max(timestamp) AS last
                   FROM tracking_event WHERE project_id = %s GROUP BY person_id) e ON e.person_id = p.id
        WHERE p.project_id = %s AND (e.first IS DISTINCT FROM p.first_seen OR e.last IS DISTINCT FROM p.last_seen)
        """,
        [world.project.pk, world.project.pk],
    )

    assert world.report.persons == world.options.persons
    assert mismatched == 0


def test_every_event_belongs_to_the_person_its_distinct_id_maps_to(world):
    [orphans] = _one(
        """
        SELECT count(*) FROM tracking_event e
        LEFT JOIN tracking_persondistinctid d ON d.project_id = e.project_id AND d.distinct_id = e.distinct_id
        WHERE e.project_id = %s AND d.person_id IS DISTINCT FROM e.person_id
        """,
        [world.project.pk],
    )

    assert orphans == 0


def test_identified_people_are_those_who_identified_and_anonymous_visits_came_first(world):
    rows = _all(
        """
        SELECT p.is_identified, EXISTS (SELECT 1 FROM tracking_event e WHERE e.project_id = p.project_id
                                        AND e.person_id = p.id AND e.name = '$identify'),
               (SELECT count(*) FROM tracking_persondistinctid d WHERE d.person_id = p.id),
               p.properties
        FROM tracking_person p WHERE p.project_id = %s
        """,
        [world.project.pk],
    )

    assert all(identified == sent_identify for identified, sent_identify, _, _ in rows)
    assert all(ids >= 2 for identified, _, ids, _ in rows if identified)  # the anonymous id and the user id
    assert all(props == {} for identified, _, _, props in rows if not identified)
    anonymous = sum(1 for identified, *_ in rows if not identified)
    assert 0.1 * len(rows) < anonymous < 0.35 * len(rows)
    [before] = _one(
        """
        SELECT count(*) FROM tracking_event i JOIN tracking_event e
          ON e.project_id = i.project_id AND e.person_id = i.person_id AND e.distinct_id = i.properties ->> '$anon_distinct_id'
        WHERE i.project_id = %s AND i.name = '$identify' AND e.timestamp <= i.timestamp
        """,
        [world.project.pk],
    )
    assert before > 0


def test_identified_people_have_their_traits_and_company_members_their_companys_domain(world):
    rows = _all(
        "SELECT p.properties, c.properties FROM tracking_person p LEFT JOIN tracking_company c ON c.id = p.company_id"
        " WHERE p.project_id = %s AND p.is_identified",
        [world.project.pk],
    )

    for person, company in rows:
        assert {"email", "name", "role", "seniority", "age_band", "signup_source", "plan"} <= set(person)
        if company is not None:
            assert person["email"].endswith("@" + company["domain"])
            assert person["company"] == company["name"]
    assert sum(1 for _, company in rows if company is None) > 0  # solo users


def test_company_traits_are_their_group_identify_events_merged_in_order(world):
    events = _all(
        "SELECT properties FROM tracking_event WHERE project_id = %s AND name = '$groupidentify' ORDER BY timestamp, id",
        [world.project.pk],
    )
    merged: dict[str, dict] = {}
    for (props,) in events:
        merged.setdefault(props["$group_key"], {}).update(props["$group_set"])
    stored = dict(
        _all("SELECT key, properties FROM tracking_company WHERE project_id = %s", [world.project.pk])
    )

    assert stored == merged
    assert {"name", "industry", "size_band", "revenue_band", "plan", "seats", "employees"} <= set(
        next(iter(stored.values()))
    )


def test_sessions_count_exactly_the_events_they_hold(world):
    [mismatched] = _one(
        """
        SELECT count(*) FROM tracking_session s
        LEFT JOIN (
            SELECT session_key, min(person_id) AS person, max(person_id) AS other_person, min(timestamp) AS started,
                   max(timestamp) AS ended, count(*) AS events,
                   count(*) FILTER (WHERE name = '$pageview') AS pageviews,
                   count(*) FILTER (WHERE name = '$autocapture') AS autocaptures,
                   count(*) FILTER (WHERE name = '$rageclick') AS rageclicks,
                   count(*) FILTER (WHERE name = '$dead_click') AS dead_clicks,
                   (array_agg(url ORDER BY timestamp DESC, id DESC))[1] AS exit_url,
                   (array_agg(url ORDER BY timestamp, id) FILTER (WHERE name = '$pageview'))[1] AS entry_url
            FROM tracking_event WHERE project_id = %s GROUP BY session_key
        ) e ON e.session_key = s.session_key
        WHERE s.project_id = %s AND NOT (
            e.person = s.person_id AND e.other_person = s.person_id AND e.started = s.started_at AND e.ended = s.ended_at
            AND e.events = s.event_count AND e.pageviews = s.pageview_count AND e.autocaptures = s.autocapture_count
            AND e.rageclicks = s.rageclick_count AND e.dead_clicks = s.dead_click_count
            AND e.exit_url = s.exit_url AND e.entry_url = s.entry_url)
        """,
        [world.project.pk, world.project.pk],
    )
    [without_session] = _one(
        "SELECT count(*) FROM tracking_event e WHERE e.project_id = %s AND NOT EXISTS"
        " (SELECT 1 FROM tracking_session s WHERE s.project_id = e.project_id AND s.session_key = e.session_key)",
        [world.project.pk],
    )

    assert mismatched == 0
    assert without_session == 0


def test_sessions_have_consistent_devices_and_places(world):
    rows = _all(
        "SELECT browser, os, device_type, count(*) FROM tracking_session WHERE project_id = %s GROUP BY 1, 2, 3",
        [world.project.pk],
    )
    combos = {(browser, os, device) for browser, os, device, _ in rows}

    assert {"Chrome", "Safari", "Firefox", "Edge"} <= {browser for browser, *_ in combos}
    assert {"desktop", "mobile", "tablet"} <= {device for *_, device in combos}
    assert not [c for c in combos if c[0] == "Safari" and c[1] not in ("macOS", "iOS")]
    assert not [c for c in combos if c[0] == "Edge" and c[1] != "Windows"]
    assert not [c for c in combos if c[1] in ("iOS", "Android") and c[2] == "desktop"]
    [countries, with_city] = _one(
        "SELECT count(DISTINCT country), count(*) FILTER (WHERE city <> '') FROM tracking_session WHERE project_id = %s",
        [world.project.pk],
    )
    assert countries >= 10
    assert with_city > 0


def test_element_columns_are_filled_like_ingestion_fills_them(world):
    rows = _all(
        "SELECT elements_chain, el_text, href, bool_or(properties ? '$elements') FROM tracking_event"
        " WHERE project_id = %s AND name IN ('$autocapture', '$rageclick', '$dead_click') GROUP BY 1, 2, 3",
        [world.project.pk],
    )
    known = {target.chain for target in TARGETS.values()}

    assert rows
    for chain, text, href, kept_elements in rows:
        assert chain in known
        decoded = elements.decode(chain)
        assert text == elements.target_text(decoded)
        assert href == elements.target_href(decoded)
        assert not kept_elements


def test_events_carry_the_snippets_page_properties(world):
    rows = _all(
        "SELECT name, url, path, properties FROM tracking_event WHERE project_id = %s ORDER BY id LIMIT 2000",
        [world.project.pk],
    )

    for name, url, path, props in rows:
        assert url == props["$current_url"]
        assert url.startswith("https://tasklane.example/demo/")
        assert path == props["$pathname"] == url.removeprefix("https://tasklane.example").split("?")[0]
        assert props["$lib"] == "sightline-js"
        assert "$set" not in props and "$set_once" not in props
        if name == "$pageleave":
            assert props["$time_on_page"] >= 0 and 0 < props["$scroll_depth"] <= 100


_LANDING = (
    "entry_path",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer_domain",
)


def test_sessions_carry_the_landing_facts_ingestion_would_read(world):
    from tracking.ingest.landing import landing, url_path
    from tracking.models import Session

    sessions = Session.objects.filter(project=world.project)
    wrong = []
    for s in sessions.only("session_key", "entry_url", "exit_url", "referrer", "exit_path", *_LANDING):
        facts = landing(s.entry_url, s.referrer)
        stored = [getattr(s, name) for name in _LANDING] + [s.exit_path]
        if stored != [getattr(facts, name) for name in _LANDING] + [url_path(s.exit_url)]:
            wrong.append(s.session_key)
    assert wrong == []
    assert sessions.filter(utm_source="newsletter", utm_medium="email").exists()
    assert sessions.exclude(referrer_domain="").exists()
