"""The analysis pages: each renders for a member and 404s for another project's member; htmx gets fragments."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from analysis.models import Metric, SavedAnalysis
from analysis.services import metric_create, saved_analysis_create
from tests.analysis.conftest import act, at, page
from tracking.models import PersonDistinctId

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def world(collect, segment_of, project):
    """Twelve persons on Jun 3; the even ones sign up; a segment of the first six."""
    events = []
    for i in range(12):
        events += [page(f"u{i}", "/pricing", at(3, 9)), page(f"u{i}", "/docs", at(3, 9, 5))]
        if i % 2 == 0:
            events.append(act("signup", f"u{i}", at(3, 10)))
    collect(events)
    first = segment_of("First six", [f"u{i}" for i in range(6)])
    last = segment_of("Last six", [f"u{i}" for i in range(6, 12)])
    metric = metric_create(
        project=project,
        name="Signed up",
        kind="activation",
        definition={"event": {"name": "signup"}, "within_days": 7},
    )
    return {"first": first, "last": last, "metric": metric}


def person_id(project, distinct_id: str) -> int:
    return PersonDistinctId.objects.get(project=project, distinct_id=distinct_id).person_id


def url(name: str, project, *args) -> str:
    return reverse(name, args=[project.pk, *args])


RANGE = "last_days=&date_from=2026-06-01&date_to=2026-06-14"


def funnel_query() -> str:
    return f"step=e:%24pageview&step=e:signup&within_value=1&within_unit=days&{RANGE}"


PAGES = ["analysis", "analysis_compare", "analysis_funnels", "analysis_retention", "analysis_paths",
         "analysis_dashboard", "analysis_metrics", "analysis_metric_new"]  # fmt: skip


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_for_a_member_and_404s_for_another_projects_member(
    name, project, alice_client, bob_client
):
    assert alice_client.get(url(name, project)).status_code == 200
    assert bob_client.get(url(name, project)).status_code == 404


def test_the_nav_page_is_the_analysis_hub_not_a_placeholder(project, alice_client):
    response = alice_client.get(url("analysis", project))
    body = response.content.decode()
    assert "not built yet" not in body
    assert reverse("analysis_dashboard", args=[project.pk]) in body


def test_comparison_page_shows_groups_and_their_test(world, project, alice_client):
    query = f"metric={world['metric'].pk}&segments={world['first'].pk}&segments={world['last'].pk}&{RANGE}"
    response = alice_client.get(f"{url('analysis_compare', project)}?{query}")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="compare-result"' in body and "<svg" in body
    assert "First six" in body and "Last six" in body
    assert "current members" in body
    # six persons per group, three sign up in each: small counts get Fisher's exact test, not a refusal
    assert "Fisher&#x27;s exact test" in body or "Fisher's exact test" in body
    assert "p = 1.000" in body and ">no significant difference</span>" in body
    assert "Too small to conclude" not in body
    assert "<html" in body


def test_htmx_gets_only_the_results_fragment(world, project, alice_client):
    query = f"metric={world['metric'].pk}&segments={world['first'].pk}&vs_rest=on&{RANGE}"
    response = alice_client.get(f"{url('analysis_compare', project)}?{query}", **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="analysis-body">')
    assert "<html" not in body
    assert "Not in First six" in body
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_bad_form_input_is_shown_beside_the_form_naming_the_field(project, alice_client):
    response = alice_client.get(
        f"{url('analysis_funnels', project)}?step=e:a&step_where=not+json&step=e:b&step_where=&date_from=junk&last_days="
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Step 1 · where" in body and "not valid JSON" in body
    assert "date_from" in body and "is not an ISO date" in body


def test_funnel_step_filters_are_property_operator_value_rows(world, project, alice_client):
    query = (
        "step=e:%24pageview&step_0_property=plan&step_0_operator=in&step_0_value=pro,+team"
        "&step_0_property=&step_0_operator=eq&step_0_value="
        f"&step=e:signup&step_1_property=&step_1_operator=eq&step_1_value=&within_value=1&within_unit=days&{RANGE}"
    )
    full = alice_client.get(f"{url('analysis_funnels', project)}?{query}")
    fragment = alice_client.get(f"{url('analysis_funnels', project)}?{query}", **HTMX)
    assert full.status_code == fragment.status_code == 200
    for body in (full.content.decode(), fragment.content.decode()):
        assert 'name="step_where"' not in body  # no JSON box any more
        assert 'name="step_0_property" value="plan"' in body
        assert '<option value="in" selected>is one of</option>' in body
        assert 'name="step_0_value" value="pro, team"' in body
        # one blank row after the filled one: that is how a filter is added
        assert body.count('name="step_0_property"') == 2 and body.count('name="step_1_property"') == 1


def test_funnel_breakdown_headers_are_readable_step_names_with_the_definition_on_hover(
    world, project, alice_client
):
    query = (
        "step=e:%24pageview&step_0_property=%24current_url&step_0_operator=eq&step_0_value=https://shop.test/pricing"
        "&step=e:%24pageview&step_1_property=%24current_url&step_1_operator=contains&step_1_value=/docs"
        f"&breakdown=browser&within_value=1&within_unit=days&{RANGE}"
    )
    for headers in ({}, HTMX):
        body = alice_client.get(f"{url('analysis_funnels', project)}?{query}", **headers).content.decode()
        assert (
            '<th class="num step-head" title="$pageview ($current_url eq https://shop.test/pricing)">'
            "1. Page view https://shop.test/pricing</th>"
        ) in body
        assert (
            '<th class="num step-head" title="$pageview ($current_url contains /docs)">2. Page view ~/docs</th>'
            in body
        )


def test_funnel_filter_rows_reach_the_query_and_an_empty_property_is_named(world, project, alice_client):
    base = f"{url('analysis_funnels', project)}?step=e:%24pageview&step=e:signup&within_value=1&within_unit=days&{RANGE}"
    unfiltered = alice_client.get(base).content.decode()
    assert "6 dropped here" in unfiltered
    filtered = alice_client.get(
        base + "&step_0_property=nope&step_0_operator=is_set&step_0_value="
    ).content.decode()
    assert "6 dropped here" not in filtered  # nobody's page views carry "nope"
    missing = alice_client.get(
        base + "&step_0_property=&step_0_operator=eq&step_0_value=pro"
    ).content.decode()
    assert "Step 1 · where[0].property" in missing and 'role="alert"' in missing


def test_funnel_links_carry_filters_as_rows_and_old_json_links_still_open(world, project, alice_client):
    legacy = f"{url('analysis_funnels', project)}?step=e:%24pageview&step_where=%5B%7B%22property%22%3A%22plan%22%2C%22operator%22%3A%22eq%22%2C%22value%22%3A%22pro%22%7D%5D&step=e:signup&step_where=&{RANGE}"
    body = alice_client.get(legacy).content.decode()
    assert 'name="step_0_property" value="plan"' in body and 'name="step_0_value" value="pro"' in body
    from analysis.forms import funnel_query_from_params

    pairs = funnel_query_from_params(
        {
            "steps": [
                {"name": "$pageview", "where": [{"property": "plan", "operator": "eq", "value": "pro"}]},
                {"name": "x"},
            ]
        }
    )
    assert pairs[:5] == [
        ("step", "e:$pageview"),
        ("step_0_property", "plan"),
        ("step_0_operator", "eq"),
        ("step_0_value", "pro"),
        ("step", "e:x"),
    ]


def test_funnel_page_links_drop_offs_to_persons_and_their_sessions(world, project, alice_client):
    response = alice_client.get(f"{url('analysis_funnels', project)}?{funnel_query()}")
    body = response.content.decode()
    assert response.status_code == 200
    assert "6 dropped here" in body
    assert reverse("analysis_funnel_dropped", args=[project.pk]) in body
    assert f"{reverse('replay', args=[project.pk])}?persons=" in body


def test_the_persons_who_dropped_page_lists_them(world, project, alice_client, bob_client):
    dropped = f"{url('analysis_funnel_dropped', project)}?{funnel_query()}&dropped_step=1"
    response = alice_client.get(dropped)
    body = response.content.decode()
    assert response.status_code == 200
    assert "6 persons" in body
    odd = [person_id(project, f"u{i}") for i in range(1, 12, 2)]
    assert all(reverse("person_detail", args=[project.pk, pid]) in body for pid in odd)
    assert f"?persons={','.join(str(p) for p in sorted(odd))}" in body
    assert "Watch their sessions" in body
    assert bob_client.get(dropped).status_code == 404
    bad = alice_client.get(f"{url('analysis_funnel_dropped', project)}?{funnel_query()}&dropped_step=x")
    assert bad.status_code == 200 and "dropped_step" in bad.content.decode()


def test_retention_and_paths_pages_render_results(world, project, alice_client):
    retention = alice_client.get(f"{url('analysis_retention', project)}?segments={world['first'].pk}&{RANGE}")
    assert retention.status_code == 200 and 'id="retention-result"' in retention.content.decode()
    paths = alice_client.get(f"{url('analysis_paths', project)}?start_path=/pricing&{RANGE}")
    body = paths.content.decode()
    assert paths.status_code == 200 and 'id="paths-result"' in body and "/docs" in body


def test_saving_an_analysis_puts_a_card_on_the_dashboard(world, project, alice, alice_client):
    params = {
        "steps": [{"name": "$pageview"}, {"name": "signup"}],
        "date_from": "2026-06-01",
        "date_to": "2026-06-14",
    }
    response = alice_client.post(
        url("analysis_saved_new", project),
        {"kind": "funnel", "name": "Signup funnel", "params": json.dumps(params)},
    )
    assert response.status_code == 302
    saved = SavedAnalysis.objects.get(project=project)
    assert (saved.name, saved.kind, saved.created_by) == ("Signup funnel", "funnel", alice)
    assert saved.params["within"] == {"value": 14, "unit": "days"}
    dashboard = alice_client.get(url("analysis_dashboard", project)).content.decode()
    card_url = url("analysis_saved", project, saved.pk)
    # the card's result is in the page (computed by its job, inline in tests)
    assert 'id="saved-' in dashboard and 'id="funnel-result"' in dashboard
    card = alice_client.get(card_url, **HTMX)
    assert card.status_code == 200
    assert 'id="funnel-result"' in card.content.decode() and "<html" not in card.content.decode()
    full = alice_client.get(card_url)
    assert full.status_code == 200 and "<html" in full.content.decode()
    # its own page sits under the tab of its kind, not the dashboard's
    tabs = full.content.decode().split('<nav class="tabs" aria-label="Analysis">', 1)[1].split("</nav>", 1)[0]
    assert [
        line.rsplit(">", 2)[-2].removesuffix("</a") for line in tabs.splitlines() if "aria-current" in line
    ] == ["Funnels"]


def test_saving_with_htmx_answers_in_place_and_a_missing_name_is_named(world, project, alice_client):
    params = json.dumps({"start": {"path": "/pricing"}, "date_from": "2026-06-01", "date_to": "2026-06-14"})
    missing = alice_client.post(
        url("analysis_saved_new", project), {"kind": "paths", "name": "", "params": params}, **HTMX
    )
    assert missing.status_code == 200 and "name" in missing.content.decode()
    assert not SavedAnalysis.objects.exists()
    saved = alice_client.post(
        url("analysis_saved_new", project),
        {"kind": "paths", "name": "From pricing", "params": params},
        **HTMX,
    )
    assert saved.status_code == 200 and "Saved “From pricing”" in saved.content.decode()


def test_a_saved_analysis_whose_segment_is_gone_says_so(world, project, alice_client):
    saved = saved_analysis_create(
        project=project, name="By segment", kind="retention",
        params={"segments": [world["first"].pk], "date_from": "2026-06-01", "date_to": "2026-06-14"},
    )  # fmt: skip
    world["first"].delete()
    response = alice_client.get(url("analysis_saved", project, saved.pk), **HTMX)
    assert response.status_code == 200
    assert "no longer runs as saved" in response.content.decode()


def test_saved_analyses_of_another_project_are_not_found(world, project, alice_client, bob_client):
    saved = saved_analysis_create(
        project=project, name="Mine", kind="paths", params={"start": {"path": "/pricing"}}
    )
    assert bob_client.get(url("analysis_saved", project, saved.pk)).status_code == 404
    assert bob_client.post(url("analysis_saved_delete", project, saved.pk)).status_code == 404
    assert alice_client.post(url("analysis_saved_delete", project, saved.pk)).status_code == 302
    assert not SavedAnalysis.objects.exists()


def test_a_metric_is_defined_with_a_form_whose_fields_follow_the_kind(project, alice_client):
    new = alice_client.get(f"{url('analysis_metric_new', project)}?kind=churn")
    assert 'name="days"' in new.content.decode() and 'name="to_subject"' not in new.content.decode()
    fragment = alice_client.get(f"{url('analysis_metric_new', project)}?kind=conversion", **HTMX)
    assert fragment.content.decode().lstrip().startswith('<div id="metric-form">')
    response = alice_client.post(
        url("analysis_metric_new", project),
        {"name": "Pricing to signup", "kind": "conversion", "from_subject": "e:$pageview",
         "from_where": '[{"property": "$current_url", "operator": "contains", "value": "/pricing"}]',
         "to_subject": "e:signup", "within_value": "3", "within_unit": "days"},
    )  # fmt: skip
    assert response.status_code == 302
    metric = Metric.objects.get(project=project)
    assert metric.definition == {
        "from": {
            "name": "$pageview",
            "where": [{"property": "$current_url", "operator": "contains", "value": "/pricing"}],
        },
        "to": {"name": "signup", "where": []},
        "within": {"value": 3, "unit": "days"},
    }


def test_a_metric_form_error_names_the_field(project, alice_client):
    response = alice_client.post(
        url("analysis_metric_new", project),
        {
            "name": "Broken",
            "kind": "value",
            "event_subject": "e:purchase",
            "property": "",
            "aggregate": "sum",
            "per": "active",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Numeric event property: must be a non-empty string" in body
    assert not Metric.objects.exists()


def test_metrics_of_another_project_are_not_found(world, project, alice_client, bob_client):
    metric = world["metric"]
    assert bob_client.get(url("analysis_metric", project, metric.pk)).status_code == 404
    assert bob_client.post(url("analysis_metric_delete", project, metric.pk)).status_code == 404
    assert alice_client.get(url("analysis_metric", project, metric.pk)).status_code == 200
    assert alice_client.post(url("analysis_metric_delete", project, metric.pk)).status_code == 302
    assert not Metric.objects.filter(pk=metric.pk).exists()


def test_a_metric_used_by_a_saved_comparison_is_not_deleted(world, project, alice_client):
    saved_analysis_create(
        project=project, name="Signups by half", kind="compare",
        params={"metric": world["metric"].pk, "segments": [world["first"].pk, world["last"].pk]},
    )  # fmt: skip
    response = alice_client.post(url("analysis_metric_delete", project, world["metric"].pk), follow=True)
    assert "Used by saved analyses Signups by half" in response.content.decode()
    assert Metric.objects.filter(pk=world["metric"].pk).exists()


def test_the_reference_group_can_be_chosen(world, project, alice_client):
    query = (
        f"metric={world['metric'].pk}&segments={world['first'].pk}&segments={world['last'].pk}"
        f"&reference={world['last'].pk}&{RANGE}"
    )
    body = alice_client.get(f"{url('analysis_compare', project)}?{query}").content.decode()
    assert "Difference vs Last six" in body


def test_saving_into_another_project_is_not_found(project, bob_client, amos_client):
    params = json.dumps({"start": {"path": "/pricing"}})
    form = {"kind": "paths", "name": "Sneaky", "params": params}
    assert bob_client.post(url("analysis_saved_new", project), form).status_code == 404
    assert (
        bob_client.post(
            url("analysis_metric_new", project), {"name": "x", "kind": "churn", "days": "3"}
        ).status_code
        == 404
    )
    assert not SavedAnalysis.objects.exists() and not Metric.objects.exists()
    # a plain member of the organization may save
    assert amos_client.post(url("analysis_saved_new", project), form).status_code == 302


def test_the_funnel_form_answers_htmx_with_its_body_and_keeps_a_blank_row_to_add_a_step(
    world, project, alice_client
):
    response = alice_client.get(f"{url('analysis_funnels', project)}?{funnel_query()}", **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="analysis-body">')
    assert body.count('name="step"') == 3
    assert 'id="funnel-result"' in body


def test_the_persons_who_dropped_arrive_through_a_job(world, project, alice_client, settings):
    from jobs.models import Job
    from jobs.runner import execute

    dropped = f"{url('analysis_funnel_dropped', project)}?{funnel_query()}&dropped_step=1"
    settings.ANALYSIS_JOBS = "worker"  # no worker runs: the page shows the job's progress
    waiting = alice_client.get(dropped).content.decode()
    assert 'class="card job-progress"' in waiting and "6 persons" not in waiting
    job = Job.objects.get(project=project, kind="funnel_dropped")
    Job.objects.filter(pk=job.pk).update(status="running")
    execute(job.pk)  # as a worker would
    panel = alice_client.get(reverse("job_panel", args=[project.pk, job.pk]), **HTMX).content.decode()
    assert "6 persons" in panel and "Watch their sessions" in panel
    assert "6 persons" in alice_client.get(dropped).content.decode()  # kept
    assert Job.objects.filter(project=project, kind="funnel_dropped").count() == 1
