"""The real posthog-python and analytics-python clients against a live Sightline, checked through its API.

Both clients run in synchronous mode, so every call has reached the server
(and been stored) when it returns.
"""

from __future__ import annotations

import pytest
from posthog import Posthog
from segment.analytics import Client as SegmentClient

from interventions.models import FeatureFlag
from segments.services import segment_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def posthog(live, project):
    errors: list = []
    client = Posthog(
        project.public_key, host=live, sync_mode=True, on_error=lambda e, batch: errors.append(e)
    )
    yield client
    client.shutdown()
    assert errors == []


@pytest.fixture
def segment(live, project):
    errors: list = []
    client = SegmentClient(
        project.public_key, host=live, sync_mode=True, on_error=lambda e, b: errors.append(e)
    )
    yield client
    client.flush()
    assert errors == []


def _person(api, distinct_id: str) -> dict:
    results = api("get", f"/persons/?distinct_id={distinct_id}").json()["results"]
    assert len(results) == 1, results
    return api("get", f"/persons/{results[0]['id']}/").json()


def _event_names(api, distinct_id: str) -> list[str]:
    body = api("get", f"/events/?distinct_id={distinct_id}&order=asc").json()
    return [e["event"] for e in body["results"]]


def test_posthog_python_events_land_on_the_right_persons(posthog, api):
    posthog.capture("invoice paid", distinct_id="cust-1", properties={"amount": 120})
    posthog.capture("invoice paid", distinct_id="cust-2", properties={"amount": 80})
    posthog.set(distinct_id="cust-1", properties={"plan": "team"})
    assert _event_names(api, "cust-1") == ["invoice paid", "$set"]
    assert _event_names(api, "cust-2") == ["invoice paid"]
    assert _person(api, "cust-1")["properties"]["plan"] == "team"


def test_posthog_python_alias_merges_an_anonymous_id_into_the_user(posthog, api):
    posthog.capture("viewed pricing", distinct_id="anon-77")
    posthog.alias(previous_id="anon-77", distinct_id="user-77")
    posthog.capture("subscribed", distinct_id="user-77")
    person = _person(api, "user-77")
    assert set(person["distinct_ids"]) == {"anon-77", "user-77"}
    assert _event_names(api, "anon-77") == ["viewed pricing", "$identify", "subscribed"]


def test_posthog_python_groups_become_companies(posthog, api):
    posthog.group_identify("company", "acme", {"name": "Acme", "seats": 40}, distinct_id="cust-9")
    posthog.capture("report run", distinct_id="cust-10", groups={"company": "acme"})
    companies = api("get", "/companies/").json()["results"]
    assert [(c["key"], c["properties"]) for c in companies] == [("acme", {"name": "Acme", "seats": 40})]
    assert companies[0]["person_count"] == 2


def test_posthog_python_flags_answer_what_flags_evaluate_answers(posthog, api, project):
    upgraded = segment_create(
        project=project,
        name="Upgraded",
        definition={"match": "all", "conditions": [{"type": "behavior", "event": {"name": "upgraded"}}]},
    )
    FeatureFlag.objects.create(
        project=project, key="beta-dash", enabled=True, rules=[{"segment": upgraded.pk, "rollout": 100}]
    )
    FeatureFlag.objects.create(
        project=project,
        key="layout",
        enabled=True,
        rules=[{"segment": upgraded.pk, "rollout": 100}],
        variants=[{"key": "compact", "weight": 50}, {"key": "roomy", "weight": 50}],
    )
    posthog.capture("upgraded", distinct_id="in-1")
    posthog.capture("browsed", distinct_id="out-1")
    expected = api("post", "/flags/evaluate", {"distinct_ids": ["in-1", "out-1"]}).json()
    assert expected["in-1"]["beta-dash"] is True and expected["out-1"]["beta-dash"] is False
    assert expected["in-1"]["layout"] in ("compact", "roomy")
    for distinct_id in ("in-1", "out-1"):
        flags = posthog.evaluate_flags(distinct_id)
        assert flags.is_enabled("beta-dash") is expected[distinct_id]["beta-dash"]
        assert flags.get_flag("layout") == expected[distinct_id]["layout"]
        assert flags.get_flag_payload("beta-dash") is None
        assert posthog.get_all_flags(distinct_id) == expected[distinct_id]


def test_a_flag_called_event_from_posthog_python_records_an_exposure(posthog, project):
    from interventions.models import Exposure

    flag = FeatureFlag.objects.create(
        project=project, key="everyone", enabled=True, rules=[{"segment": None, "rollout": 100}]
    )
    posthog.capture("seen", distinct_id="exp-1")
    with pytest.warns(DeprecationWarning):
        assert posthog.get_feature_flag("everyone", "exp-1") is True  # sends $feature_flag_called
    posthog.flush()
    exposure = Exposure.objects.get(project=project, kind="flag", object_id=flag.pk)
    assert exposure.person.distinct_ids.filter(distinct_id="exp-1").exists()


def test_segment_python_track_identify_page_and_alias(segment, api):
    segment.track(anonymous_id="anon-s1", event="Signed Up", properties={"plan": "pro"})
    segment.page(anonymous_id="anon-s1", name="Pricing", properties={"url": "https://app.example/pricing"})
    segment.identify(user_id="user-s1", anonymous_id="anon-s1", traits={"email": "sam@example.com"})
    segment.track(user_id="user-s1", event="Order Completed", properties={"total": 99})
    segment.screen(user_id="user-s1", name="Settings")
    segment.alias(previous_id="legacy-s1", user_id="user-s1")
    person = _person(api, "user-s1")
    assert set(person["distinct_ids"]) >= {"anon-s1", "user-s1", "legacy-s1"}
    assert person["properties"]["email"] == "sam@example.com"
    assert _event_names(api, "user-s1") == [
        "Signed Up", "$pageview", "$identify", "Order Completed", "$screen", "$identify"
    ]  # fmt: skip


def test_segment_python_group_traits_become_company_traits(segment, api):
    segment.group(user_id="user-g1", group_id="globex", traits={"name": "Globex", "industry": "energy"})
    companies = api("get", "/companies/").json()["results"]
    assert [(c["key"], c["properties"]) for c in companies] == [
        ("globex", {"name": "Globex", "industry": "energy"})
    ]
    assert companies[0]["person_count"] == 1
