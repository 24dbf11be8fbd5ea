"""Numbers that agree, seen in the browser: comparisons of small groups, circular comparisons,
and one lift for a nudge on its list, its results page and the strategy map."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import orjson
import pytest
from playwright.sync_api import expect

from analysis.services import metric_create
from demo.services import DEMO_EMAIL, DEMO_PASSWORD, demo_ensure
from interventions.services import nudge_save
from segments.services import segment_compute, segment_create, segment_upload
from tests.ingest.conftest import event

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(site, page):
    # these pages compute statistics on every load: give a busy machine time
    page.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    yield demo_ensure().project
    expect.set_options(timeout=5_000)


def send(page, site, project, events: list[dict]) -> None:
    response = page.request.post(
        f"{site}/i/v1/batch",
        data=orjson.dumps({"api_key": project.public_key, "batch": events}),
        headers={"Content-Type": "application/json"},
        timeout=60_000,
    )
    assert response.status == 200 and response.json()["accepted"] == len(events), response.text()


def log_in(page, next_url: str) -> None:
    page.goto(f"/login/?next={quote(next_url)}")
    page.fill("#id_username", DEMO_EMAIL)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def test_a_small_group_is_tested_exactly_and_a_circular_comparison_is_called_so(page, site, project):
    ten_days_ago = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    later = (datetime.now(UTC) - timedelta(days=9)).isoformat()
    events = []
    for i in range(60):
        who = f"p-{i}"
        events.append(
            event(
                "$pageview",
                who,
                timestamp=ten_days_ago,
                session_id=f"s-{i}",
                **{"$current_url": "https://shop.test/"},
            )
        )
        if i < 10 or i % 10 == 0:  # all ten of the small group sign up; 5 of the other 50
            events.append(event("signup", who, timestamp=later, session_id=f"s-{i}"))
    send(page, site, project, events)
    few = segment_upload(project=project, name="First ten", identifiers=[f"p-{i}" for i in range(10)]).segment
    never = segment_create(project=project, name="Never signed up", definition={"match": "all", "conditions": [
        {"type": "behavior", "event": {"name": "signup"}, "count": {"operator": "eq", "value": 0}}]})  # fmt: skip
    segment_compute(segment=never)
    metric = metric_create(project=project, name="Signed up", kind="activation",
                           definition={"event": {"name": "signup"}, "within_days": 7})  # fmt: skip

    url = f"/p/{project.pk}/analysis/compare/?metric={metric.pk}&segments={few.pk}&vs_rest=on&last_days=30"
    log_in(page, url)
    result = page.locator("#compare-result")
    expect(result).to_contain_text("Fisher's exact test")
    expect(result).to_contain_text("significantly lower")  # the 50 others against the ten
    expect(result).not_to_contain_text("too small to conclude")
    expect(result.locator("[data-circular]")).to_have_count(0)

    page.goto(
        f"/p/{project.pk}/analysis/compare/?metric={metric.pk}&segments={never.pk}&vs_rest=on&last_days=30"
    )
    expect(page.locator("#compare-result [data-circular]")).to_contain_text(
        "“Never signed up” is defined by signup, which Signed up measures"
    )


def test_the_nudges_lift_reads_the_same_on_its_list_results_and_the_strategy_map(page, site, project):
    first = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    then = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    send(
        page,
        site,
        project,
        [event("$identify", f"{side}{i}", **{"$set": {"plan": "pro"}}) for side in "eh" for i in range(40)],
    )
    pro = segment_create(project=project, name="Pro", definition={"match": "all", "conditions": [
        {"type": "person", "property": "plan", "operator": "eq", "value": "pro"}]})  # fmt: skip
    segment_compute(segment=pro)
    nudge = nudge_save(project=project, data={"name": "Upgrade", "title": "Go pro", "status": "live", "segments": [pro.pk],
                                              "goal": {"event": {"name": "upgraded"}, "within_days": 7}})  # fmt: skip
    events = []
    for i in range(40):
        events.append(event("$nudge_shown", f"e{i}", timestamp=first, **{"$nudge_id": nudge.pk}))
        events.append(event("$nudge_held_out", f"h{i}", timestamp=first, **{"$nudge_id": nudge.pk}))
        if i < 20:
            events.append(event("upgraded", f"e{i}", timestamp=then))
        if i < 8:
            events.append(event("upgraded", f"h{i}", timestamp=then))
    send(page, site, project, events)

    log_in(page, f"/p/{project.pk}/interventions/")
    listed = page.locator(f"#lift-nudge-{nudge.pk}")
    expect(listed).to_contain_text("+150%")
    expect(listed).to_contain_text("better")

    page.goto(f"/p/{project.pk}/interventions/nudges/{nudge.pk}/results/")
    expect(page.locator(".compare-stats .stat").first).to_have_text("+150%")

    page.goto(f"/p/{project.pk}/interventions/strategy/")
    cell = page.locator(f"#lift-nudge-{nudge.pk}-s{pro.pk}")
    expect(cell).to_contain_text("+150%")
    expect(cell).to_contain_text("better")


UA_SAFARI = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15"
UA_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


def test_a_funnel_of_actions_singles_out_the_browser_that_fails_where_others_pass(page, site, project):
    from tracking.services.actions import action_create

    when = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    paid_at = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    for browser, ua, n, paid in (
        ("chrome", None, 60, 59),
        ("firefox", UA_FIREFOX, 20, 20),
        ("safari", UA_SAFARI, 10, 5),
    ):
        events = []
        for i in range(n):
            who = f"{browser}-{i}"
            events.append(event("clicked_pay", who, timestamp=when, session_id=who))
            if i < paid:
                events.append(event("purchase", who, timestamp=paid_at, session_id=who))
        response = page.request.post(
            f"{site}/i/v1/batch",
            data=orjson.dumps({"api_key": project.public_key, "batch": events}),
            headers={"Content-Type": "application/json", **({"User-Agent": ua} if ua else {})},
            timeout=60_000,
        )
        assert response.status == 200
    clicked = action_create(project=project, user=None, name="Clicked pay", steps=[{"event": "clicked_pay"}])
    paid = action_create(project=project, user=None, name="Paid", steps=[{"event": "purchase"}])

    query = (f"step=a:{clicked.pk}&step_where=&step=a:{paid.pk}&step_where=&within_value=1&within_unit=days"
             "&last_days=7&breakdown=browser")  # fmt: skip
    log_in(page, f"/p/{project.pk}/analysis/funnels/?{query}")
    highlight = page.locator("#funnel-highlight")
    expect(highlight).to_contain_text("Safari stands out: 50.0% of them went from “Clicked pay” to “Paid”")


def test_an_actions_count_reads_the_same_in_the_list_the_chart_and_the_preview(page, site, project):
    from tracking.services.actions import action_create

    now = datetime.now(UTC)
    # one purchase a day for 40 days: the ones older than the 30 days are out of every count
    events = [event("purchase", f"buyer-{d % 7}", timestamp=(now - timedelta(days=d, minutes=5)).isoformat(),
                    session_id=f"s-{d}") for d in range(40)]  # fmt: skip
    # and one in the 720 hours before now but before the first of the 30 days (unless it is just past midnight)
    events.append(
        event(
            "purchase", "buyer-edge", timestamp=(now - timedelta(days=30) + timedelta(minutes=1)).isoformat()
        )
    )
    send(page, site, project, events)
    action = action_create(project=project, user=None, name="Bought", steps=[{"event": "purchase"}])

    log_in(page, f"/p/{project.pk}/actions/")
    row = page.locator("tr", has=page.get_by_role("link", name="Bought"))
    listed = row.locator("td.num").first.text_content().strip()
    page.get_by_role("link", name="Bought").click()
    page.wait_for_url(f"**/actions/{action.pk}/")
    stats = page.locator("div:has(> .stat-label:text-is('events, last 30 days')) > .stat")
    assert stats.count() == 2  # the saved action's figure and the live preview's
    assert {stats.nth(0).text_content().strip(), stats.nth(1).text_content().strip()} == {listed}
    assert listed in ("29", "30")  # today included, 30 whole days in the project's time zone
