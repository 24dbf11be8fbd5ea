"""Results pages: exposed vs holdout (or variants) on the goal, per segment, over time; another goal; list lifts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from analysis.templatetags.analysis_tags import p_value as p_value_filter
from interventions import services
from interventions.lift import ProportionComparison
from interventions.measure import lift_measure, measure
from interventions.views.common import ComparisonView
from segments.services import segment_create
from tests.ingest.conftest import event

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
PRO = {
    "match": "all",
    "conditions": [{"type": "person", "property": "plan", "operator": "eq", "value": "pro"}],
}
GOAL = {"event": {"name": "upgraded"}, "within_days": 7}


def url(project, rest: str = "") -> str:
    return f"/p/{project.pk}/interventions/{rest}"


@pytest.fixture
def measured_nudge(project, send, on_commit):
    """40 people saw the nudge over two days (20 upgraded), 40 were held out (8 upgraded); the first ten of each are pro."""
    with on_commit():
        pro = segment_create(project=project, name="Pro", definition=PRO)
    nudge = services.nudge_save(
        project=project,
        data={"name": "Upgrade", "title": "Go pro", "segments": [pro.pk], "goal": GOAL, "status": "live"},
    )
    t0 = datetime.now(UTC) - timedelta(days=4)
    batch = []
    for i in range(40):
        at = (t0 + timedelta(days=i % 2)).isoformat()
        traits = {"$set": {"plan": "pro" if i < 10 else "free"}}
        batch.append(event("$nudge_shown", f"e{i}", timestamp=at, **{"$nudge_id": nudge.pk}, **traits))
        batch.append(event("$nudge_held_out", f"h{i}", timestamp=at, **{"$nudge_id": nudge.pk}, **traits))
        if i % 2 == 0:
            batch.append(event("upgraded", f"e{i}", timestamp=(t0 + timedelta(days=2)).isoformat()))
        if i % 5 == 0:
            batch.append(event("signed_up_again", f"h{i}", timestamp=(t0 + timedelta(days=3)).isoformat()))
        if i < 8:
            batch.append(event("upgraded", f"h{i}", timestamp=(t0 + timedelta(days=2)).isoformat()))
    with on_commit():
        assert send(batch).json()["accepted"] == len(batch)
    return nudge, pro


def test_the_results_page_shows_the_verdict_of_the_measurement(alice_client, project, measured_nudge):
    nudge, pro = measured_nudge
    expected = measure(project=project, kind="nudge", obj=nudge, segment_ids=[pro.pk])
    assert expected.comparison is not None and expected.comparison.p_value < 0.01
    body = alice_client.get(url(project, f"nudges/{nudge.pk}/results/")).content.decode()
    assert (
        expected.verdict in body
    )  # "The exposed group converts more than the holdout group (+30.0 points, p = 0.00…)."
    assert '<span class="badge ok">better</span>' in body
    assert '<div class="stat">+150%</div><div class="stat-label">lift · Saw it vs Held out</div>' in body
    low, high = expected.comparison.interval()
    assert f"{low * 100:+.1f} points to {high * 100:+.1f} points" in body
    assert (
        '<tr><td>Saw it</td><td class="num">40</td><td class="num">20</td><td class="num">50.0%</td></tr>'
        in body
    )
    assert (
        '<tr><td>Held out</td><td class="num">40</td><td class="num">8</td><td class="num">20.0%</td></tr>'
        in body
    )
    # within the targeted segment: ten pro people on each side, tested exactly (Fisher), no clear difference
    segment_part = body.split('<table class="by-segment">')[1].split("</table>")[0]
    assert ">Pro</a>" in segment_part and 'Saw it: 50.0% <span class="muted">(5/10)</span>' in segment_part
    assert '<span class="badge muted">no clear difference</span>' in segment_part
    # both groups over time, one line each
    assert body.count('<polyline class="series"') == 2 and "Goal conversion over time" in body


def test_a_measurement_with_little_data_says_so(alice_client, project):
    nudge = services.nudge_save(project=project, data={"name": "n", "title": "t", "goal": GOAL})
    body = alice_client.get(url(project, f"nudges/{nudge.pk}/results/")).content.decode()
    assert "Not enough data yet: nobody has been exposed and held out so far." in body
    assert "Nobody has been exposed or held out yet." in body
    without_goal = services.nudge_save(project=project, data={"name": "m", "title": "t"})
    body = alice_client.get(url(project, f"nudges/{without_goal.pk}/results/")).content.decode()
    assert "Set a goal (an event or action, and within how many days) to measure this." in body


def test_another_goal_can_be_tried_with_htmx(alice_client, project, measured_nudge):
    nudge, _ = measured_nudge
    query = "?goal_source=event&goal_event=signed_up_again&goal_days=7"
    fragment = alice_client.get(
        url(project, f"nudges/{nudge.pk}/results/{query}"), **HTMX, HTTP_HX_TARGET="measurement"
    )
    body = fragment.content.decode()
    assert (
        body.lstrip().startswith('<section class="card measurement" id="measurement">')
        and "<html" not in body
    )
    assert "signed_up_again" in body and "trying another goal — not saved" in body
    assert (
        '<tr><td>Held out</td><td class="num">40</td><td class="num">8</td><td class="num">20.0%</td></tr>'
        in body
    )
    assert (
        '<tr><td>Saw it</td><td class="num">40</td><td class="num">0</td><td class="num">0.0%</td></tr>'
        in body
    )
    nudge.refresh_from_db()
    assert nudge.goal == {"event": {"name": "upgraded", "where": []}, "within_days": 7}  # nothing saved


def test_another_goal_without_javascript_renders_the_whole_page(alice_client, project, measured_nudge):
    nudge, _ = measured_nudge
    body = alice_client.get(
        url(project, f"nudges/{nudge.pk}/results/?goal_source=event&goal_event=signed_up_again&goal_days=7")
    ).content.decode()
    assert "<html" in body and "people reached" in body and "trying another goal — not saved" in body


def test_a_bad_goal_to_try_names_the_field(alice_client, project, measured_nudge):
    nudge, _ = measured_nudge
    body = alice_client.get(
        url(project, f"nudges/{nudge.pk}/results/?goal_source=event&goal_event=&goal_days=7")
    ).content.decode()
    assert "Goal event: Name the event people should do" in body
    body = alice_client.get(
        url(project, f"nudges/{nudge.pk}/results/?goal_source=action&goal_action=999999&goal_days=7")
    ).content.decode()
    assert "Goal action: Select a valid choice." in body
    body = alice_client.get(
        url(project, f"nudges/{nudge.pk}/results/?goal_source=event&goal_event=x&goal_days=900")
    ).content.decode()
    assert "Within (days): must be between 1 and 365" in body
    # the saved goal is still measured
    assert (
        '<tr><td>Saw it</td><td class="num">40</td><td class="num">20</td><td class="num">50.0%</td></tr>'
        in body
    )


def test_a_list_rows_lift_is_measured_when_it_comes_into_view(alice_client, project, measured_nudge):
    nudge, _ = measured_nudge
    listing = alice_client.get(url(project)).content.decode()
    lift_url = url(project, f"nudges/{nudge.pk}/lift/")
    assert f'hx-get="{lift_url}" hx-trigger="revealed"' in listing and "measuring…" in listing
    fragment = alice_client.get(lift_url, **HTMX, HTTP_HX_TARGET=f"lift-nudge-{nudge.pk}").content.decode()
    assert (
        fragment.lstrip().startswith(f'<span class="lift" id="lift-nudge-{nudge.pk}">')
        and "<html" not in fragment
    )
    assert "<strong>+150%</strong>" in fragment and '<span class="badge ok">better</span>' in fragment
    assert "hx-trigger" not in fragment  # measured once, not again


def test_a_lift_address_without_htmx_leads_to_the_results_page(alice_client, project, measured_nudge):
    nudge, _ = measured_nudge
    response = alice_client.get(url(project, f"nudges/{nudge.pk}/lift/"))
    assert response.status_code == 302 and response["Location"] == url(project, f"nudges/{nudge.pk}/results/")


def test_a_lift_in_a_strategy_cell_is_the_nudges_lift(alice_client, project, measured_nudge):
    nudge, pro = measured_nudge
    fragment = alice_client.get(
        url(project, f"nudges/{nudge.pk}/lift/?segment={pro.pk}"), **HTMX
    ).content.decode()
    # the cell of the strategy map shows the nudge's one lift, not a within-segment one
    assert f'id="lift-nudge-{nudge.pk}-s{pro.pk}"' in fragment and "<strong>+150%</strong>" in fragment


def test_flag_results_compare_variants(alice_client, project, send, on_commit):
    flag = services.flag_save(project=project, data={"key": "board", "enabled": True, "variants": [{"key": "control", "weight": 50}, {"key": "kanban", "weight": 50}],
                                                     "rules": [{"segment": None, "rollout": 100}], "goal": GOAL})  # fmt: skip
    t0 = datetime.now(UTC) - timedelta(days=3)
    batch = []
    for i in range(60):
        variant = "kanban" if i % 2 else "control"
        batch.append(
            event(
                "$flag_called",
                f"p{i}",
                timestamp=t0.isoformat(),
                **{"$flag": "board", "$flag_response": variant},
            )
        )
        if (variant == "kanban" and i % 3) or (variant == "control" and i % 6 == 0):
            batch.append(event("upgraded", f"p{i}", timestamp=(t0 + timedelta(days=1)).isoformat()))
    with on_commit():
        send(batch)
    expected = measure(project=project, kind="flag", obj=flag)
    body = alice_client.get(url(project, f"flags/{flag.pk}/results/")).content.decode()
    assert expected.verdict in body and "kanban" in expected.verdict
    assert "lift · variant kanban vs variant control" in body
    assert '<div class="stat">60</div><div class="stat-label">people served the flag</div>' in body


# -- one lift everywhere -----------------------------------------------------------------------


def _lift_text(fragment: str) -> tuple[str, str]:
    match = re.search(r'<strong>([^<]+)</strong> <span class="badge (\w+)">([^<]+)</span>', fragment)
    assert match, fragment
    return match.group(1), match.group(3)


def test_the_results_page_the_strategy_map_and_the_list_show_the_same_lift(
    alice_client, project, measured_nudge
):
    nudge, pro = measured_nudge
    expected = lift_measure(project=project, kind="nudge", obj=nudge)
    assert expected.comparison.lift == pytest.approx((0.5 - 0.2) / 0.2)
    # within Pro the held-out people converted more: a different question, with a different answer
    within = measure(project=project, kind="nudge", obj=nudge, segment_ids=[pro.pk], timeline=False)
    assert within.by_segment[0]["lift"] != pytest.approx(expected.comparison.lift)

    results = alice_client.get(url(project, f"nudges/{nudge.pk}/results/")).content.decode()
    assert '<div class="stat">+150%</div><div class="stat-label">lift · Saw it vs Held out</div>' in results

    listing = alice_client.get(url(project)).content.decode()
    list_lift = re.search(
        rf'hx-get="(/p/{project.pk}/interventions/nudges/{nudge.pk}/lift/)"', listing
    ).group(1)
    from_list = _lift_text(alice_client.get(list_lift, **HTMX).content.decode())

    strategy = alice_client.get(url(project, "strategy/")).content.decode()
    cell = re.search(
        rf'hx-get="(/p/{project.pk}/interventions/nudges/{nudge.pk}/lift/\?segment={pro.pk})"', strategy
    )
    assert cell, "the strategy map measures the nudge in the Pro cell"
    from_strategy = _lift_text(alice_client.get(cell.group(1), **HTMX).content.decode())

    assert from_list == from_strategy == ("+150%", "better")


def test_the_verdict_and_the_tile_write_the_p_value_alike():
    strong = ProportionComparison(n_a=100, x_a=60, n_b=100, x_b=20)
    assert strong.p_value < 0.001
    assert ComparisonView.of(strong, strong.verdict()).p_value == "p < 0.001"
    assert strong.verdict().endswith("(+40.0 points, p < 0.001).")
    weak = ProportionComparison(n_a=100, x_a=30, n_b=100, x_b=24)
    assert 0.05 < weak.p_value < 1
    written = f"p = {weak.p_value:.3f}"
    assert ComparisonView.of(weak, weak.verdict()).p_value == written
    assert weak.verdict() == f"No significant difference between exposed and holdout yet ({written})."
    assert p_value_filter(weak.p_value) == written and p_value_filter(strong.p_value) == "p < 0.001"


def test_the_results_page_answers_at_once_and_the_measurement_arrives_through_its_job(
    alice_client, bob_client, project, measured_nudge, settings
):
    """With no worker free, the page shows the job's panel (never a 500); the worker's result is
    then what the panel swaps in, and what the page shows at once while the data stays the same."""
    from jobs.models import Job, JobStatus
    from jobs.runner import execute
    from jobs.worker import claim

    nudge, _ = measured_nudge
    settings.ANALYSIS_JOBS = "worker"  # no worker runs here: the job stays queued
    response = alice_client.get(url(project, f"nudges/{nudge.pk}/results/"))
    body = response.content.decode()
    assert response.status_code == 200
    job = Job.objects.get(project=project, kind="intervention_measurement")
    assert job.status == JobStatus.QUEUED and job.params["id"] == nudge.pk
    assert f'data-job-id="{job.pk}"' in body and "Waiting for a free worker" in body
    assert "lift · Saw it vs Held out" not in body
    assert 'class="form try-goal"' in body  # the rest of the measurement section is there meanwhile
    panel_url = f"/p/{project.pk}/jobs/{job.pk}/?view=page"
    assert bob_client.get(panel_url).status_code == 404  # another project's member

    assert claim(per_project=2) == job.pk
    execute(job.pk)
    panel = alice_client.get(panel_url, **HTMX).content.decode()
    assert f'data-job-done="{job.pk}"' in panel
    assert '<div class="stat">+150%</div><div class="stat-label">lift · Saw it vs Held out</div>' in panel
    again = alice_client.get(url(project, f"nudges/{nudge.pk}/results/")).content.decode()
    assert "lift · Saw it vs Held out" in again and "data-job-id" not in again
    measurements = Job.objects.filter(project=project).exclude(kind="segment_history")
    assert measurements.count() == 1  # answered from the kept result

    # a saved goal edited since is another measurement (no new data needed to tell)
    services.nudge_save(project=project, nudge=nudge, data={"goal": {**GOAL, "within_days": 3}})
    body = alice_client.get(url(project, f"nudges/{nudge.pk}/results/")).content.decode()
    assert "data-job-id" in body and measurements.count() == 2


def test_with_inline_jobs_the_measurement_is_in_the_page(alice_client, project, measured_nudge):
    nudge, _ = measured_nudge
    body = alice_client.get(url(project, f"nudges/{nudge.pk}/results/")).content.decode()
    assert "lift · Saw it vs Held out" in body and "data-job-id" not in body


def test_a_list_rows_lift_is_measured_by_a_job_and_the_row_asks_again_until_it_is(
    alice_client, project, measured_nudge, settings
):
    from jobs.models import Job

    nudge, _ = measured_nudge
    lift_url = url(project, f"nudges/{nudge.pk}/lift/")
    settings.ANALYSIS_JOBS = "worker"  # no worker runs: the row's job stays queued
    pending = alice_client.get(lift_url, **HTMX).content.decode()
    assert "measuring…" in pending and 'hx-trigger="load delay:1s"' in pending
    assert alice_client.get(lift_url, **HTMX).status_code == 200
    assert Job.objects.filter(project=project, kind="intervention_lift").count() == 1  # asked again: joined
    settings.ANALYSIS_JOBS = "inline"
    Job.objects.filter(project=project).delete()
    measured = alice_client.get(lift_url, **HTMX).content.decode()
    assert "+150%" in measured and "hx-trigger" not in measured
    kept = alice_client.get(lift_url, **HTMX).content.decode()
    assert "+150%" in kept and Job.objects.filter(project=project, kind="intervention_lift").count() == 1
