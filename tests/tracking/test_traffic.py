"""Bots and internal users: classified once, kept out of counts by default, let back in by a switch."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from analysis.compare import metric_compute
from analysis.funnels import funnel_compute, funnel_params
from analysis.metrics import validate_metric
from analysis.params import DateRange
from analysis.retention import retention_compute, retention_params
from tests.ingest.conftest import UA_CHROME, event
from tracking.models import Person, PersonDistinctId, Session
from tracking.selectors.overview import overview_get
from tracking.traffic.bots import batch_is_bot, user_agent_is_bot
from tracking.traffic.filtering import EVERYONE, TrafficFilter, excluded_counts, excluded_persons_sql
from tracking.traffic.internal import (
    InternalRules,
    InternalRulesError,
    internal_persons_sql,
    internal_rules_clean,
    person_is_internal,
)

pytestmark = pytest.mark.django_db

UA_URLLIB = "Python-urllib/3.11"
UA_HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"
UA_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


# -- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ua",
    [UA_URLLIB, UA_HEADLESS, "curl/8.4.0", "python-requests/2.31", "Mozilla/5.0 (compatible; Googlebot/2.1)"],
)
def test_crawlers_http_libraries_and_headless_browsers_are_bots(ua):
    assert user_agent_is_bot(ua) is True
    assert batch_is_bot(user_agent=ua, lib="sightline-js") is True


@pytest.mark.parametrize("ua", [UA_CHROME, UA_IPHONE, ""])
def test_ordinary_browsers_and_a_missing_user_agent_are_not_bots(ua):
    assert batch_is_bot(user_agent=ua, lib="sightline-js") is False


def test_server_side_sdks_and_server_endpoints_are_never_bots():
    assert batch_is_bot(user_agent="python-requests/2.31", lib="posthog-python") is False
    assert batch_is_bot(user_agent="okhttp/4.12", lib="posthog-android") is False
    assert batch_is_bot(user_agent=UA_URLLIB, lib=None, server_side=True) is False
    assert batch_is_bot(user_agent=UA_URLLIB, lib=None) is True


def test_ingest_flags_the_session_of_a_bot_and_keeps_its_events(send, project):
    assert (
        send(
            [event(session_id="bot-1", distinct_id="crawler")], headers={"HTTP_USER_AGENT": UA_URLLIB}
        ).status_code
        == 200
    )
    send([event(session_id="human-1", distinct_id="ann")])
    send(
        [event(session_id="server-1", distinct_id="srv", **{"$lib": "posthog-node"})],
        headers={"HTTP_USER_AGENT": "node-fetch/1.0"},
    )
    flags = dict(Session.objects.filter(project=project).values_list("session_key", "is_bot"))
    assert flags == {"bot-1": True, "human-1": False, "server-1": False}
    from tracking.models import Event

    assert Event.objects.filter(project=project, distinct_id="crawler").count() == 1  # dropped nothing


# -- internal rules ---------------------------------------------------------------------------


def test_the_batch_that_sets_the_sessions_browser_decides_whether_it_is_a_bot(send, project):
    send([event(session_id="s1", distinct_id="ann")])
    send([event(session_id="s1", distinct_id="ann")], headers={"HTTP_USER_AGENT": UA_HEADLESS})
    send([event(session_id="s2", distinct_id="bot")], headers={"HTTP_USER_AGENT": UA_URLLIB})
    send([event(session_id="s2", distinct_id="bot")])
    rows = dict(Session.objects.filter(project=project).values_list("session_key", "is_bot"))
    assert rows == {"s1": False, "s2": True}
    assert Session.objects.get(session_key="s2").browser == "Python-urllib"


def test_invalid_rules_name_the_field_and_entry():
    with pytest.raises(InternalRulesError) as error:
        internal_rules_clean(
            {"email_domains": ["example.com", "not a domain"], "ips": ["10.0.0.0/8", "10.0.0.300"],
             "person_properties": [{"key": "", "value": "x"}], "colour": []}
        )  # fmt: skip
    assert set(error.value.errors) == {"email_domains[1]", "ips[1]", "person_properties[0].key", "colour"}


def test_rules_are_normalised():
    rules = internal_rules_clean(
        {"email_domains": ["@Example.COM"], "ips": ["203.0.113.7", "10.1.2.3/8"],
         "person_properties": [{"key": "staff", "value": True}]}
    )  # fmt: skip
    assert rules.email_domains == ("example.com",)
    assert rules.networks == ("203.0.113.7/32", "10.0.0.0/8")
    assert rules.person_properties == (("staff", "true"),)
    assert rules.network_for("10.9.9.9") == "10.0.0.0/8" and rules.network_for("192.0.2.1") == ""


def _person(project, distinct_id: str, properties: dict, network: str = "") -> Person:
    now = datetime.now(UTC)
    person = Person.objects.create(project=project, properties=properties, first_seen=now, last_seen=now)
    PersonDistinctId.objects.create(project=project, person=person, distinct_id=distinct_id)
    Session.objects.create(
        project=project, person=person, session_key=f"s-{distinct_id}", started_at=now, ended_at=now,
        internal_network=network,
    )  # fmt: skip
    return person


def test_sql_and_python_agree_on_who_is_internal(project):
    rules = InternalRules(
        email_domains=("acme.test",),
        distinct_ids=("qa-bot",),
        networks=("10.0.0.0/8",),
        person_properties=(("staff", "true"), ("plan", "internal"), ("level", "3")),
    )
    cases = [
        ("a", {"email": "ann@acme.test"}, ""),
        ("b", {"email": "bo@eu.acme.test"}, ""),
        ("c", {"email": "cy@notacme.test"}, ""),
        ("d", {"email": "ACME.TEST@Acme.Test"}, ""),
        ("e", {"email": "no-at-sign"}, ""),
        ("qa-bot", {}, ""),
        ("f", {}, "10.0.0.0/8"),
        ("g", {}, "192.168.0.0/16"),
        ("h", {"staff": True}, ""),
        ("i", {"staff": "true"}, ""),
        ("j", {"staff": False}, ""),
        ("k", {"plan": "internal"}, ""),
        ("l", {"plan": "Internal"}, ""),
        ("m", {"level": 3}, ""),
        ("n", {"level": "3"}, ""),
        ("o", {"email": None, "staff": None}, ""),
    ]
    persons = {d: _person(project, d, props, net) for d, props, net in cases}
    sql, params = internal_persons_sql(rules, project_id=project.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        in_sql = {row[0] for row in cursor.fetchall()}
    in_python = {
        persons[d].pk
        for d, props, net in cases
        if person_is_internal(rules, properties=props, distinct_ids=[d], session_networks=[net])
    }
    assert in_sql == in_python
    expected = {"a", "b", "d", "qa-bot", "f", "h", "i", "k", "m", "n"}
    assert in_sql == {persons[d].pk for d in expected}


def test_removing_an_ip_rule_stops_excluding_its_sessions(project):
    _person(project, "office", {}, "10.0.0.0/8")
    project.internal_users = {"ips": ["10.0.0.0/8"]}
    assert excluded_counts(project=project).internal_persons == 1
    project.internal_users = {"ips": []}
    assert excluded_counts(project=project).internal_persons == 0


def test_ingest_records_the_internal_network_the_address_matched(send, project):
    project.internal_users = {"ips": ["198.51.100.0/24"]}
    project.save()
    send([event(session_id="office-1", distinct_id="me")], headers={"REMOTE_ADDR": "198.51.100.20"})
    send([event(session_id="home-1", distinct_id="you")], headers={"REMOTE_ADDR": "192.0.2.9"})
    networks = dict(Session.objects.filter(project=project).values_list("session_key", "internal_network"))
    assert networks == {"office-1": "198.51.100.0/24", "home-1": ""}
    assert Session.objects.get(session_key="office-1").ip is None  # the address itself is still not kept


# -- counts -----------------------------------------------------------------------------------


@pytest.fixture
def mixed_traffic(send, project):
    """A human, a bot and a teammate each view /pricing then sign up; the human twice as many sessions."""
    t0 = datetime.now(UTC) - timedelta(days=1)

    def visit(distinct_id, session, ua, **props):
        send(
            [event("$pageview", distinct_id, session_id=session, timestamp=t0.isoformat(), **{"$current_url": "https://shop.test/pricing"}, **props),
             event("signed_up", distinct_id, session_id=session, timestamp=(t0 + timedelta(minutes=1)).isoformat())],
            headers={"HTTP_USER_AGENT": ua},
        )  # fmt: skip

    visit("human", "h1", UA_CHROME)
    visit("crawler", "b1", UA_URLLIB)
    visit("teammate", "t1", UA_CHROME)
    send([event("$identify", "teammate", session_id="t1", **{"$set": {"email": "me@sightline.test"}})])
    project.internal_users = {"email_domains": ["sightline.test"]}
    project.save()
    return project


def test_the_overview_leaves_bots_and_internal_users_out_unless_asked(events_backend, mixed_traffic):
    default = overview_get(project=mixed_traffic)
    assert default.active_persons == 1 and default.sessions == 1
    assert [b.label for b in default.browsers] == ["Chrome"]
    assert default.excluded.bot_sessions == 1 and default.excluded.internal_persons == 1
    everyone = overview_get(project=mixed_traffic, traffic=EVERYONE)
    assert everyone.active_persons == 3 and everyone.sessions == 3
    assert {b.label for b in everyone.browsers} == {"Chrome", "Python-urllib"}
    bots_only = overview_get(project=mixed_traffic, traffic=TrafficFilter(include_bots=True))
    assert bots_only.active_persons == 2


def test_the_overview_page_says_how_many_were_excluded(mixed_traffic, alice_client):
    page = alice_client.get(f"/p/{mixed_traffic.pk}/overview/")
    assert page.status_code == 200
    assert "1 bot session excluded" in page.content.decode()
    assert "Python-urllib" not in page.content.decode()
    included = alice_client.get(f"/p/{mixed_traffic.pk}/overview/?include_bots=on")
    assert "Python-urllib" in included.content.decode() and "bots included" in included.content.decode()


def _funnel(project, **switches):
    params = {"steps": [{"name": "$pageview"}, {"name": "signed_up"}], "last_days": 7, **switches}
    return funnel_compute(project=project, query=funnel_params(params, project=project))


def test_funnels_leave_bots_and_internal_users_out_by_default(mixed_traffic):
    assert _funnel(mixed_traffic).overall.steps[1].count == 1
    assert _funnel(mixed_traffic, include_bots=True).overall.steps[1].count == 2
    assert _funnel(mixed_traffic, include_bots=True, include_internal=True).overall.steps[1].count == 3


def test_the_switches_are_part_of_the_query_and_checked(mixed_traffic):
    query = funnel_params(
        {"steps": [{"name": "$pageview"}, {"name": "signed_up"}], "include_internal": True},
        project=mixed_traffic,
    )
    assert query.to_json()["include_internal"] is True and query.to_json()["include_bots"] is False
    from analysis.params import ParamError

    with pytest.raises(ParamError) as error:
        funnel_params(
            {"steps": [{"name": "a"}, {"name": "b"}], "include_bots": "maybe"}, project=mixed_traffic
        )
    assert "include_bots" in error.value.errors


def test_metrics_and_retention_leave_them_out_by_default(mixed_traffic):
    spec = validate_metric(kind="churn", definition={"days": 1}, project=mixed_traffic)
    date_range = DateRange(date.today() - timedelta(days=6), date.today())
    later = datetime.now(UTC) + timedelta(days=3)
    default = metric_compute(project=mixed_traffic, spec=spec, date_range=date_range, now=later)
    everyone = metric_compute(
        project=mixed_traffic, spec=spec, date_range=date_range, now=later, traffic=EVERYONE
    )
    assert default.overall.n == 1 and everyone.overall.n == 3
    retention = retention_compute(
        project=mixed_traffic,
        query=retention_params({"last_days": 7, "period": "day"}, project=mixed_traffic),
    )
    with_all = retention_compute(
        project=mixed_traffic,
        query=retention_params(
            {"last_days": 7, "period": "day", **EVERYONE.to_json()}, project=mixed_traffic
        ),
    )
    assert sum(row.size for row in retention.rows if row.segment_id is None) == 1
    assert sum(row.size for row in with_all.rows if row.segment_id is None) == 3


def test_nothing_is_excluded_when_both_switches_are_on(project):
    assert excluded_persons_sql(project=project, traffic=EVERYONE) is None


# -- settings ---------------------------------------------------------------------------------


def _settings_form(project) -> dict:
    return {
        "name": project.name, "timezone": "UTC", "allowed_origins": "", "ip_handling": "discard",
        "recording_sample_rate": "1.0", "recording_retention_days": "30", "data_retention_days": "365",
        "ingest_rate_limit": "2000", "recording_mask_inputs": "on",
    }  # fmt: skip


def test_the_settings_page_saves_internal_users(alice_client, project):
    response = alice_client.post(
        f"/p/{project.pk}/settings/",
        {**_settings_form(project), "internal_email_domains": "acme.test\n", "internal_ips": "10.0.0.0/8",
         "internal_distinct_ids": "qa-1\nqa-2", "internal_person_properties": "staff = true"},
    )  # fmt: skip
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.internal_users == {
        "email_domains": ["acme.test"], "distinct_ids": ["qa-1", "qa-2"], "ips": ["10.0.0.0/8"],
        "person_properties": [{"key": "staff", "value": "true"}],
    }  # fmt: skip
    page = alice_client.get(f"/p/{project.pk}/settings/").content.decode()
    assert "qa-1\nqa-2" in page and "staff = true" in page


def test_the_settings_page_names_the_field_and_line_of_a_bad_rule(alice_client, project):
    response = alice_client.post(
        f"/p/{project.pk}/settings/",
        {
            **_settings_form(project),
            "internal_ips": "10.0.0.0/8\n10.0.0.300",
            "internal_person_properties": "staff",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Internal IP addresses: line 2:" in body
    assert "Internal person properties: line 1:" in body
    project.refresh_from_db()
    assert project.internal_users == {}


# -- analysis pages ----------------------------------------------------------------------------


def _funnel_page(client, project, extra: str = ""):
    query = "step=e%3A%24pageview&step_where=&step=e%3Asigned_up&step_where=&last_days=7" + extra
    return client.get(f"/p/{project.pk}/analysis/funnels/?{query}")


def test_the_funnel_page_has_the_switches_counts_them_and_saves_them(mixed_traffic, alice_client):
    from analysis.forms import querystring
    from analysis.kinds import analysis_params

    default = _funnel_page(alice_client, mixed_traffic)
    assert default.status_code == 200
    body = default.content.decode()
    assert 'name="include_bots"' in body and "1 bot session excluded" in body
    assert "1 internal user excluded" in body
    assert default.context["result"].overall.steps[0].count == 1
    switched = _funnel_page(alice_client, mixed_traffic, "&include_bots=on&include_internal=on")
    assert switched.context["result"].overall.steps[0].count == 3
    saved = json.loads(switched.context["saved_params"])
    assert saved["include_bots"] is True and saved["include_internal"] is True
    # a saved analysis opens with its switches on, and computes the same
    assert "include_bots=on" in querystring("funnel", saved)
    assert analysis_params(project=mixed_traffic, kind="funnel", params=saved).traffic == EVERYONE


def test_the_events_explorer_counts_people_only_unless_asked(mixed_traffic, alice_client):
    url = f"/p/{mixed_traffic.pk}/events/trends/?event=signed_up"
    default = alice_client.get(url)
    assert default.status_code == 200
    assert default.context["result"].total_persons == 1
    assert alice_client.get(url + "&include_bots=on&include_internal=on").context["result"].total_persons == 3


def test_paths_leave_them_out_by_default(mixed_traffic):
    from analysis.paths import paths_compute, paths_params

    def persons(**switches) -> int:
        query = paths_params(
            {"start": {"path": "/pricing"}, "last_days": 7, **switches}, project=mixed_traffic
        )
        return paths_compute(project=mixed_traffic, query=query).to_json()["groups"][0]["persons"]

    assert persons() == 1
    assert persons(include_bots=True) == 2
    assert persons(include_bots=True, include_internal=True) == 3


def test_the_dropped_persons_page_lists_the_people_the_funnel_counted(mixed_traffic, alice_client):
    query = "step=e%3A%24pageview&step_where=&step=e%3Anever&step_where=&last_days=7&dropped_step=1"
    url = f"/p/{mixed_traffic.pk}/analysis/funnels/dropped/?{query}"
    default = alice_client.get(url)
    assert default.status_code == 200 and default.context["page"].total == 1
    assert alice_client.get(url + "&include_bots=on").context["page"].total == 2
