"""The feature flag pages: variants and ordered rules, the kill switch, testing a distinct id, the usage."""

from __future__ import annotations

import pytest

from interventions import services
from interventions.models import FeatureFlag
from segments.services import segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}


def url(project, rest: str = "") -> str:
    return f"/p/{project.pk}/interventions/{rest}"


def test_a_new_flag_starts_enabled_and_its_code_has_copy_buttons(alice_client, project):
    for headers in ({}, HTMX):
        response = alice_client.get(url(project, "flags/new/"), **headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert 'type="checkbox" name="enabled"' in body
        enabled = body[body.index('name="enabled"') :]
        assert enabled[: enabled.index(">")].rstrip().endswith("checked")
        assert '<button type="button" class="copy" data-copy-target="flag-code-page">Copy</button>' in body
        assert '<button type="button" class="copy" data-copy-target="flag-code-server">Copy</button>' in body


def form_data(*, variants=(), rules=(("", "100"),), **overrides) -> dict:
    data = {"key": "new-checkout", "description": "The one-page checkout", "enabled": "on", "flag_type": "boolean",
            "goal_source": "event", "goal_event": "purchased", "goal_action": "", "goal_days": "14", "op": "save",
            "v-count": str(len(variants)), "r-count": str(len(rules))}  # fmt: skip
    for i, (key, weight) in enumerate(variants):
        data.update({f"v{i}-key": key, f"v{i}-weight": weight})
    for i, (segment, rollout) in enumerate(rules):
        data.update({f"r{i}-segment": str(segment), f"r{i}-rollout": rollout})
    data.update(overrides)
    return data


@pytest.fixture
def pro(project, send, on_commit):
    send(
        [
            event("$identify", "ann", **{"$set": {"plan": "pro"}}),
            event("$identify", "bob-free", **{"$set": {"plan": "free"}}),
        ]
    )
    with on_commit():
        return segment_create(project=project, name="Pro", definition=PRO)


def test_the_list_explains_flags_when_there_are_none(alice_client, project):
    body = alice_client.get(url(project, "flags/")).content.decode()
    assert "No feature flags yet" in body and 'isFeatureEnabled("new-checkout")' in body


def test_a_multivariate_flag_with_ordered_rules_is_created(alice_client, project, pro):
    data = form_data(
        flag_type="multivariate",
        variants=[("control", "50"), ("one-page", "50")],
        rules=[(pro.pk, "100"), ("", "20")],
    )
    response = alice_client.post(url(project, "flags/new/"), data)
    flag = FeatureFlag.objects.get()
    assert response.status_code == 302 and response["Location"] == url(project, f"flags/{flag.pk}/")
    assert flag.enabled and flag.key == "new-checkout"
    assert flag.variants == [{"key": "control", "weight": 50}, {"key": "one-page", "weight": 50}]
    assert flag.rules == [{"segment": pro.pk, "rollout": 100}, {"segment": None, "rollout": 20}]
    assert flag.goal == {"event": {"name": "purchased", "where": []}, "within_days": 14}


def test_a_boolean_flag_ignores_the_hidden_variant_rows(alice_client, project):
    alice_client.post(url(project, "flags/new/"), form_data(variants=[("control", "50"), ("x", "50")]))
    assert FeatureFlag.objects.get().variants == []


def test_rule_and_variant_errors_name_the_row_and_the_field(alice_client, project, pro):
    body = alice_client.post(
        url(project, "flags/new/"), form_data(rules=[(pro.pk, "100"), ("", "150")])
    ).content.decode()
    assert "Rule 2 rollout: A percentage between 0 and 100." in body
    data = form_data(flag_type="multivariate", variants=[("control", "50"), ("Bad Key", "50")])
    body = alice_client.post(url(project, "flags/new/"), data).content.decode()
    assert "Variant 2 key: A unique lowercase key (letters, digits, - and _)." in body
    body = alice_client.post(
        url(project, "flags/new/"), form_data(flag_type="multivariate", variants=[("only", "50")])
    ).content.decode()
    assert "Variants: A multivariate flag needs at least two variants" in body
    body = alice_client.post(url(project, "flags/new/"), form_data(key="Not A Key")).content.decode()
    assert "Key: A lowercase key (letters, digits, - and _)." in body
    assert not FeatureFlag.objects.exists()


def test_a_rule_on_another_projects_segment_is_refused(alice_client, project, other_project):
    theirs = segment_create(project=other_project, name="Theirs", definition=PRO)
    body = alice_client.post(
        url(project, "flags/new/"), form_data(rules=[(theirs.pk, "100")])
    ).content.decode()
    assert f"Rule 1 segment: No segment {theirs.pk} in this project." in body
    assert not FeatureFlag.objects.exists()


def test_rules_are_reordered_with_htmx_and_without(alice_client, project, pro):
    data = form_data(rules=[(pro.pk, "100"), ("", "20")], op="rule_up:1")
    fragment = alice_client.post(
        url(project, "flags/new/"), data, **HTMX, HTTP_HX_TARGET="flag-rules"
    ).content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="flag-rules">') and "<html" not in fragment
    assert (
        'name="r0-rollout" id="r0-rollout" value="20"' in fragment
        and 'name="r1-rollout" id="r1-rollout" value="100"' in fragment
    )
    page = alice_client.post(
        url(project, "flags/new/"), form_data(rules=[(pro.pk, "100")], op="rule_add")
    ).content.decode()
    assert "<html" in page and 'name="r-count" value="2"' in page
    assert not FeatureFlag.objects.exists()


def test_variants_are_added_with_htmx_and_without(alice_client, project):
    data = form_data(flag_type="multivariate", variants=[("a", "50"), ("b", "50")], op="variant_add")
    fragment = alice_client.post(
        url(project, "flags/new/"), data, **HTMX, HTTP_HX_TARGET="flag-variants"
    ).content.decode()
    assert (
        'id="flag-variants"' in fragment
        and "<html" not in fragment
        and 'name="v-count" value="3"' in fragment
        and 'name="v2-weight"' in fragment
    )
    page = alice_client.post(url(project, "flags/new/"), data).content.decode()
    assert "<html" in page and 'name="v-count" value="3"' in page
    assert not FeatureFlag.objects.exists()


def test_the_kill_switch_turns_a_flag_off_and_on(alice_client, project):
    flag = services.flag_save(
        project=project, data={"key": "beta", "enabled": True, "rules": [{"segment": None, "rollout": 100}]}
    )
    page = alice_client.get(url(project, f"flags/{flag.pk}/")).content.decode()
    assert "Turn off for everyone" in page
    response = alice_client.post(url(project, f"flags/{flag.pk}/switch/"), {"enabled": "off"})
    assert response.status_code == 302 and response["Location"] == url(project, f"flags/{flag.pk}/")
    flag.refresh_from_db()
    assert not flag.enabled
    response = alice_client.post(url(project, f"flags/{flag.pk}/switch/"), {"enabled": "on", "back": "list"})
    assert response["Location"] == url(project, "flags/")
    flag.refresh_from_db()
    assert flag.enabled


def test_saving_the_form_never_flips_the_kill_switch(alice_client, project):
    """Someone switched the flag off while another person had the form open: saving keeps it off."""
    flag = services.flag_save(project=project, data={"key": "beta", "enabled": False})
    alice_client.post(
        url(project, f"flags/{flag.pk}/"), form_data(key="beta", enabled="on", description="edited")
    )
    flag.refresh_from_db()
    assert flag.description == "edited" and flag.enabled is False


def test_testing_a_distinct_id_shows_what_they_get(alice_client, project, pro):
    flag = services.flag_save(
        project=project,
        data={"key": "pro-only", "enabled": True, "rules": [{"segment": pro.pk, "rollout": 100}]},
    )
    services.flag_save(
        project=project, data={"key": "other", "enabled": True, "rules": [{"segment": None, "rollout": 100}]}
    )
    page = url(project, f"flags/{flag.pk}/")
    fragment = alice_client.get(
        f"{page}?distinct_id=ann", **HTMX, HTTP_HX_TARGET="flag-test"
    ).content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="flag-test">') and "<html" not in fragment
    assert "<code>ann</code> gets <code>pro-only</code> = <strong><code>true</code></strong>" in fragment
    assert "<li><code>other</code>: <code>true</code></li>" in fragment
    full = alice_client.get(f"{page}?distinct_id=bob-free").content.decode()
    assert (
        "<html" in full
        and "<code>bob-free</code> gets <code>pro-only</code> = <strong><code>false</code></strong>" in full
    )
    empty = alice_client.get(f"{page}?distinct_id=", **HTMX, HTTP_HX_TARGET="flag-test").content.decode()
    assert "Distinct id: This field is required." in empty


def test_testing_a_distinct_id_says_when_nobody_has_it(alice_client, project, pro):
    flag = services.flag_save(project=project, data={"key": "pro-only", "enabled": True, "rules": [{"segment": pro.pk, "rollout": 100}]})  # fmt: skip
    page = url(project, f"flags/{flag.pk}/")
    unknown = alice_client.get(
        f"{page}?distinct_id=an-typo", **HTMX, HTTP_HX_TARGET="flag-test"
    ).content.decode()
    assert (
        'id="flag-test-unknown"' in unknown and "Nobody with the distinct id <code>an-typo</code>" in unknown
    )
    known = alice_client.get(f"{page}?distinct_id=ann", **HTMX, HTTP_HX_TARGET="flag-test").content.decode()
    assert 'id="flag-test-unknown"' not in known


def test_the_flag_page_shows_how_to_use_it(alice_client, project):
    flag = services.flag_save(project=project, data={"key": "beta"})
    body = alice_client.get(url(project, f"flags/{flag.pk}/")).content.decode()
    assert 'sightline.isFeatureEnabled("beta")' in body and 'sightline.getFlag("beta")' in body
    assert f"curl -X POST http://testserver/api/v1/projects/{project.pk}/flags/evaluate" in body
    assert '-d \'{"distinct_ids": ["user-42"]}\'' in body


def test_the_list_shows_rules_and_state(alice_client, project, pro):
    services.flag_save(
        project=project,
        data={
            "key": "beta",
            "enabled": True,
            "rules": [{"segment": pro.pk, "rollout": 50}, {"segment": None, "rollout": 10}],
        },
    )
    body = alice_client.get(url(project, "flags/")).content.decode()
    assert '<span class="target">Pro · 50%</span>, <span class="target">everyone · 10%</span>' in body
    assert '<span class="badge ok">on</span>' in body and 'value="off"' in body


def test_a_flag_rolled_out_by_company_keeps_its_bucketing(alice_client, project):
    response = alice_client.post(url(project, "flags/new/"), form_data(bucket_by="company"))
    flag = FeatureFlag.objects.get()
    assert response.status_code == 302 and flag.bucket_by == "company"
    page = alice_client.get(url(project, f"flags/{flag.pk}/")).content.decode()
    chosen = page[page.index('name="bucket_by" value="company"') :]
    assert " checked" in chosen[: chosen.index(">")]
