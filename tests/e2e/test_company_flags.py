"""A company segment driving a feature flag, end to end: the snippet's group() in Chromium, ingestion,
the live refresh of the company segment, and decide answering for the visitor's company."""

from __future__ import annotations

import json

import pytest

from demo.services import demo_ensure
from interventions.services import flag_save
from interventions.targeting import forget as forget_decide_cache
from segments.models import CompanyMembership
from segments.refresh import refresh_project
from segments.services import segment_compute, segment_create
from tests.e2e.helpers import flush, stored_events

pytestmark = pytest.mark.e2e

READ_FLAG = """async (key) => {
  await new Promise((resolve) => sightline.onFlags(resolve));
  return sightline.isFeatureEnabled(key);
}"""


@pytest.fixture
def demo_project(site):
    return demo_ensure().project


@pytest.fixture
def enterprise(demo_project):
    segment = segment_create(
        project=demo_project,
        name="Enterprise accounts",
        subject="company",
        definition={
            "conditions": [{"type": "company", "property": "tier", "operator": "eq", "value": "enterprise"}]
        },
    )
    segment_compute(segment=segment)
    flag_save(
        project=demo_project,
        data={"key": "sso-settings", "enabled": True, "bucket_by": "company", "rules": [{"segment": segment.pk, "rollout": 100}]},
    )  # fmt: skip
    forget_decide_cache(demo_project.pk)
    return segment


def _join(page, project, distinct_id: str, company: str, tier: str) -> None:
    """identify() and group() on the demo, then the worker's refresh after the batch is stored."""
    page.goto("/demo/")
    page.evaluate("(id) => sightline.identify(id)", distinct_id)
    with page.expect_request("**/i/v1/decide") as asked:
        page.evaluate("([key, tier]) => sightline.group(key, {tier})", [company, tier])
    # group() asks decide again at once, for the new company
    assert json.loads(asked.value.post_data)["groups"] == {"company": company}
    flush(page)
    stored_events(page, lambda events: any(e.name == "$groupidentify" for e in events))
    refresh_project(project.pk)


def _other_visitor(browser, site):
    """A page in a browser of its own (its own storage: another visitor)."""
    context = browser.new_context(base_url=site)
    context.set_default_timeout(5000)
    return context.new_page()


def test_a_company_segment_turns_a_flag_on_for_everyone_at_the_company(
    browser, site, page, demo_project, enterprise
):
    _join(page, demo_project, "ana@acme.test", "acme", "enterprise")
    assert list(CompanyMembership.objects.filter(segment=enterprise, exited_at=None).values_list("company__key", flat=True)) == ["acme"]  # fmt: skip
    page.reload()
    assert page.evaluate(READ_FLAG, "sso-settings") is True

    # a colleague in another browser: group() alone (decide carries the company key) turns it on
    colleague = _other_visitor(browser, site)
    colleague.goto("/demo/")
    assert colleague.evaluate(READ_FLAG, "sso-settings") is False  # no company known yet
    with colleague.expect_response("**/i/v1/decide") as answered:
        colleague.evaluate("() => sightline.group('acme')")
    assert answered.value.json()["flags"]["sso-settings"] is True
    assert colleague.evaluate("() => sightline.isFeatureEnabled('sso-settings')") is True

    # someone at a startup does not get it
    other = _other_visitor(browser, site)
    _join(other, demo_project, "bo@globex.test", "globex", "startup")
    other.reload()
    assert other.evaluate(READ_FLAG, "sso-settings") is False
    for visitor in (colleague, other):
        visitor.evaluate("() => sightline.optOut()")  # nothing more from them after the test
        visitor.context.close()
