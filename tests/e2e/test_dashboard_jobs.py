"""A dashboard whose cards are computed in the background arrives card by card, then from the cache."""

from __future__ import annotations

from itertools import pairwise

import pytest
from playwright.sync_api import expect

from analysis.services import saved_analysis_create
from jobs.models import Job
from jobs.services import job_request
from tests.e2e.helpers import sign_in
from tests.ingest.conftest import event
from tests.jobs.conftest import worker  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e

CARDS = {
    "Signup funnel": ("funnel", {"steps": [{"name": "$pageview"}, {"name": "signup"}]}, "#funnel-result"),
    "From pricing": ("paths", {"start": {"path": "/pricing"}}, "#paths-result"),
    "Weekly retention": ("retention", {"period": "week"}, "#retention-result"),
}


def test_dashboard_cards_arrive_one_by_one_then_come_from_the_cache(
    worker,  # noqa: F811
    context,
    page,
    site,
    alice,
    project,
    send,
    settings,
):
    settings.ANALYSIS_JOBS_PER_PROJECT = 1  # one card at a time
    batch = [event("$pageview", who, session_id=f"s-{who}", **{"$pathname": "/pricing"}) for who in "abc"]
    batch.append(event("signup", "a", session_id="s-a"))
    assert send(batch).json()["accepted"] == 4
    saved = {
        name: saved_analysis_create(project=project, name=name, kind=kind, params=params)
        for name, (kind, params, _) in CARDS.items()
    }
    # another analysis of the project holds its only slot, so every card starts out waiting
    blocker = job_request(project=project, kind="test_sleep", params={"seconds": 1.5}).job
    sign_in(context, alice, site)

    first = page.goto(f"{site}/p/{project.pk}/analysis/dashboard/")
    html = first.text()
    assert html.count('class="card job-progress"') == len(CARDS)
    assert not any(selector.lstrip("#") in html for _, _, selector in CARDS.values())
    for name, (_, _, selector) in CARDS.items():
        card = page.locator(f"#saved-{saved[name].pk}")
        expect(card.locator(selector)).to_be_visible(timeout=30_000)
    expect(page.locator(".job-progress")).to_have_count(0)
    assert Job.objects.get(pk=blocker.pk).status == "done"
    finished = sorted(
        Job.objects.filter(project=project).exclude(kind="test_sleep"), key=lambda j: j.finished_at
    )
    assert len(finished) == len(CARDS) and all(job.status == "done" for job in finished)
    # one at a time: each started after the one before it had finished
    assert all(b.started_at >= a.finished_at for a, b in pairwise(finished))

    again = page.goto(f"{site}/p/{project.pk}/analysis/dashboard/")
    html = again.text()
    assert "job-progress" not in html and html.count('data-cached="fresh"') == len(CARDS)
    assert Job.objects.filter(project=project).count() == len(CARDS) + 1  # nothing recomputed
